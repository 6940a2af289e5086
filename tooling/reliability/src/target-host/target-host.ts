// A target in a child process, for tests that must tell the target's memory from the test's own and must survive
// (and report) a target crash. The child runs the workspace sources through the loader hooks (or the built dist).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { fdCountOf, rssOf } from '../proc.js'
import type { HostConfig, HostEvents, HostMemory, HostOp, HostReady, HostReply, HostResources, HostStats } from './host-config.js'

const REGISTER = fileURLToPath(new URL('../../loader/register.mjs', import.meta.url))
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const MAX_STDERR = 64 * 1024

export interface TargetHostOptions {
  /** Workspace sources (default) or the built packages. */
  readonly packages?: 'src' | 'dist'
  readonly startTimeoutMs?: number
}

export class TargetHostError extends Error {
  override readonly name = 'TargetHostError'
}

export class TargetHost {
  readonly host: string
  readonly port: number
  readonly pid: number
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #nextId = 1
  #stderr = ''
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  readonly #exited: Promise<void>

  private constructor(child: ChildProcess, host: string, port: number, stderr: string) {
    this.#child = child
    this.host = host
    this.port = port
    this.pid = child.pid ?? 0
    this.#stderr = stderr
    child.stderr?.on('data', (chunk: Buffer) => this.#appendStderr(chunk))
    child.on('message', (message: HostReply) => {
      const waiter = this.#pending.get(message.id)
      if (waiter === undefined) return
      this.#pending.delete(message.id)
      if (message.error !== undefined) waiter.reject(new TargetHostError(message.error))
      else waiter.resolve(message.result)
    })
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal }
        for (const waiter of this.#pending.values()) waiter.reject(new TargetHostError(`target process exited (${this.describeExit()})`))
        this.#pending.clear()
        resolve()
      })
    })
  }

  /** Spawn the child and wait until it listens. */
  static start(config: HostConfig, options: TargetHostOptions = {}): Promise<TargetHost> {
    const child = spawn(process.execPath, ['--expose-gc', '--import', REGISTER, CHILD], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ISCSI_TS_PACKAGES: options.packages ?? 'src', ISCSI_TS_HOST_CONFIG: JSON.stringify(config) },
    })
    let stderr = ''
    const onStderr = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR)
    }
    child.stderr?.on('data', onStderr)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new TargetHostError(`target process did not start in time; stderr:\n${stderr}`))
      }, options.startTimeoutMs ?? 60_000)
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(timer)
        reject(new TargetHostError(`target process exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr}`))
      }
      child.once('exit', onExit)
      child.once('message', (message: HostReady) => {
        clearTimeout(timer)
        child.off('exit', onExit)
        child.stderr?.off('data', onStderr)
        resolve(new TargetHost(child, config.host ?? '127.0.0.1', message.port, stderr))
      })
    })
  }

  #appendStderr(chunk: Buffer): void {
    this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-MAX_STDERR)
  }

  /** What the child wrote on stderr (the last 64 KiB): a crash's stack trace ends up here. */
  get stderr(): string {
    return this.#stderr
  }

  get alive(): boolean {
    return this.#exit === undefined
  }

  describeExit(): string {
    if (this.#exit === undefined) return 'running'
    return `code ${this.#exit.code}, signal ${this.#exit.signal}`
  }

  #request<T>(op: HostOp, timeoutMs = 30_000): Promise<T> {
    if (!this.alive) return Promise.reject(new TargetHostError(`target process exited (${this.describeExit()}); stderr:\n${this.#stderr}`))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new TargetHostError(`target process did not answer "${op}" within ${timeoutMs} ms (event loop blocked?)`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.#child.send({ id, op })
    })
  }

  stats(timeoutMs?: number): Promise<HostStats> {
    return this.#request('stats', timeoutMs)
  }

  /** Memory after a full GC in the child. */
  memory(): Promise<HostMemory> {
    return this.#request('memory')
  }

  resources(): Promise<HostResources> {
    return this.#request('resources')
  }

  events(): Promise<HostEvents> {
    return this.#request('events')
  }

  /** RSS read from /proc without asking the child (works while its event loop is busy). */
  rss(): number | undefined {
    return rssOf(this.pid)
  }

  fds(): number | undefined {
    return fdCountOf(this.pid)
  }

  /** Wait for the stats to satisfy `done` (polling), or reject with the last stats seen. */
  async waitForStats(done: (stats: HostStats) => boolean, timeoutMs = 10_000): Promise<HostStats> {
    const deadline = Date.now() + timeoutMs
    let last = await this.stats()
    while (!done(last)) {
      if (Date.now() > deadline) throw new TargetHostError(`stats never settled: ${JSON.stringify(last.stats)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
      last = await this.stats()
    }
    return last
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.#child.kill(signal)
  }

  /** Close the target and wait for the process to exit (SIGKILL after `timeoutMs`). */
  async close(timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs)
    try {
      await this.#request('close', timeoutMs).catch(() => this.kill('SIGKILL'))
      await this.#exited
    } finally {
      clearTimeout(timer)
    }
  }

  exited(): Promise<void> {
    return this.#exited
  }
}
