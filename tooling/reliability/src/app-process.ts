// The iscsi-target app (apps/target/dist/bin.js) as a child process: started with JSON logs, ready once it logs
// "listening" with its portals (port 0 becomes the real port), killed with any signal.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rssOf } from './proc.js'

export const APP_BIN = fileURLToPath(new URL('../../../apps/target/dist/bin.js', import.meta.url))
export const DEFAULT_IQN = 'iqn.2026-11.io.iscsi-ts:default'

const MAX_LOG = 256 * 1024

export class AppProcessError extends Error {
  override readonly name = 'AppProcessError'
}

export class AppProcess {
  readonly child: ChildProcess
  readonly host: string
  readonly port: number
  #log: string
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  readonly #exited: Promise<void>

  private constructor(child: ChildProcess, host: string, port: number, log: string) {
    this.child = child
    this.host = host
    this.port = port
    this.#log = log
    const append = (chunk: Buffer): void => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-MAX_LOG)
    }
    child.stdout?.on('data', append)
    child.stderr?.on('data', append)
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.#exit = { code: child.exitCode, signal: child.signalCode }
        resolve()
        return
      }
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal }
        resolve()
      })
    })
  }

  /** Start `node apps/target/dist/bin.js ARGS --log-format json` and wait for its "listening" line. */
  static start(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<AppProcess> {
    if (!existsSync(APP_BIN)) return Promise.reject(new AppProcessError(`${APP_BIN} is missing: build the app first (pnpm build)`))
    const child = spawn(process.execPath, [APP_BIN, ...args, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    })
    let log = ''
    let pending = ''
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new AppProcessError(`iscsi-target did not log "listening" in time; output:\n${log}`))
      }, options.timeoutMs ?? 30_000)
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(timer)
        reject(new AppProcessError(`iscsi-target exited before listening (code ${code}, signal ${signal}); output:\n${log}`))
      }
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('utf8')
        log = (log + text).slice(-MAX_LOG)
        pending += text
        let newline: number
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline)
          pending = pending.slice(newline + 1)
          let entry: { msg?: string; portals?: string[] }
          try {
            entry = JSON.parse(line) as { msg?: string; portals?: string[] }
          } catch {
            continue
          }
          const portal = entry.msg === 'listening' ? entry.portals?.[0] : undefined
          if (portal === undefined) continue
          const match = /^\[?(.*?)\]?:(\d+)$/.exec(portal)
          if (match === null) continue
          clearTimeout(timer)
          child.off('exit', onExit)
          child.stdout?.off('data', onData)
          child.stderr?.off('data', onData)
          resolve(new AppProcess(child, match[1]!, Number(match[2]), log))
          return
        }
      }
      child.once('exit', onExit)
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
    })
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  get alive(): boolean {
    return this.#exit === undefined
  }

  get log(): string {
    return this.#log
  }

  rss(): number | undefined {
    return rssOf(this.pid)
  }

  /** Send a signal and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal)
    await this.#exited
    return this.#exit!
  }

  /** Graceful stop (SIGTERM), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    this.child.kill('SIGTERM')
    await this.#exited
    clearTimeout(timer)
  }
}
