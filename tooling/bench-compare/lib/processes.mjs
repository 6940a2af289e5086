// Child processes of the bench harnesses. Every child is spawned `detached`, so it leads its own process group and a
// kill of `-pid` reaches it and anything it forked (node's worker threads, a shell's children). The registry kills
// every live group when the harness exits for any reason: normal end, an error, SIGINT, SIGTERM, SIGHUP.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set()
/** @type {Array<() => void>} */
const exitHooks = []
let installed = false

/** Kill a child's whole process group; quiet when it is already gone. */
export function killGroup(child, signal = 'SIGKILL') {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // group already gone
  }
}

function killAll() {
  for (const child of live) killGroup(child, 'SIGKILL')
  live.clear()
  for (const hook of exitHooks.splice(0)) {
    try {
      hook()
    } catch {
      // best effort on the way out
    }
  }
}

/**
 * Install the exit, signal and error handlers once. `onSignal` runs first on SIGINT/SIGTERM/SIGHUP (to print a
 * line); the process then exits 128 + signal number after killing every child.
 */
export function installCleanup(onSignal = () => {}) {
  if (installed) return
  installed = true
  process.once('exit', killAll)
  const signals = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }
  for (const [name, number] of Object.entries(signals)) {
    process.on(name, () => {
      onSignal(name)
      killAll()
      process.exit(128 + number)
    })
  }
}

/** Run `hook` synchronously when the harness exits (remove temp files, tgtd control sockets). */
export function onExit(hook) {
  exitHooks.push(hook)
}

/** Remove a directory tree when the harness exits. */
export function removeOnExit(dir) {
  onExit(() => rmSync(dir, { recursive: true, force: true }))
}

/**
 * Spawn a tracked child in its own process group. Output is kept (the last `keep` bytes of stdout+stderr) for error
 * messages; `onStdout` sees every chunk of stdout. `extraFds` adds pipes from fd 3 on; `ipc` adds a node IPC channel
 * after them (for a node child).
 */
export function spawnTracked(file, args, options = {}) {
  const { env, cwd, keep = 16384, onStdout, extraFds = 0, ipc = false } = options
  const stdio = ['ignore', 'pipe', 'pipe']
  for (let i = 0; i < extraFds; i++) stdio.push('pipe')
  if (ipc) stdio.push('ipc')
  const child = spawn(file, args, { detached: true, stdio, env: env ?? process.env, cwd })
  live.add(child)
  let tail = ''
  const append = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-keep)
  }
  child.stdout?.on('data', (chunk) => {
    append(chunk)
    onStdout?.(chunk)
  })
  child.stderr?.on('data', append)
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
    child.once('error', (error) => {
      live.delete(child)
      append(Buffer.from(`\nspawn error: ${error.message}\n`))
      resolve({ code: null, signal: null, error })
    })
  })
  // 'close' comes after 'exit' once every stdio stream of the child has ended: all output has been seen.
  const closed = new Promise((resolve) => {
    child.once('close', () => resolve())
    child.once('error', () => resolve())
  })
  return {
    child,
    pid: child.pid,
    exited,
    closed,
    output: () => tail,
    isRunning: () => child.exitCode === null && child.signalCode === null && live.has(child),
  }
}

/** Wait for a promise, or reject after `ms` with `message`. */
export async function withTimeout(promise, ms, message) {
  let timer
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Stop a tracked child: `signal` to the process itself, then SIGKILL to its group after `graceMs`. */
export async function stopTracked(tracked, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (!tracked.isRunning()) return tracked.exited
  try {
    tracked.child.kill(signal)
  } catch {
    // already gone
  }
  const timer = setTimeout(() => killGroup(tracked.child, 'SIGKILL'), graceMs)
  const result = await tracked.exited
  clearTimeout(timer)
  killGroup(tracked.child, 'SIGKILL')
  return result
}

/** The last `lines` lines of a text, indented, for error messages. */
export function tailLines(text, lines = 15) {
  const all = text.replace(/\r/g, '\n').split('\n').filter((l) => l.trim() !== '')
  return all
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n')
}
