// Client process of `pnpm bench:scale`: holds a share of the sessions, driven by the parent over the IPC channel.
//   { cmd: 'login', host, port, targetName, luns, first, count, concurrency, workerId } -> { type: 'logged-in', ... }
//   { cmd: 'run', startAt, seconds, regionBlocks }                                     -> { type: 'ran', ... }
//   { cmd: 'logout', concurrency }                                                     -> { type: 'logged-out', ... }
// Session number k (counted across all workers from `first`) reads LUN k mod luns: 4 KiB at random block-aligned
// offsets, one command at a time (queue depth 1 per session). TASK SET FULL and BUSY (SAM-5 5.3.1: the logical
// unit's task set is full; retry later) are retried after a back-off that doubles from 1 ms to 64 ms, as an
// operating system's SCSI layer would, and counted. Latency is measured from the first attempt to the data, so it
// includes those retries and this process's own event-loop queueing.
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Histogram } from './lib/histogram.mjs'

// The parent passes the root of the built copy to load the initiator from (default: this repository).
const buildRoot = process.argv[2] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { Session } = await import(pathToFileURL(resolve(buildRoot, 'packages/initiator/dist/index.js')).href)

const IO_BYTES = 4096
/** @type {Array<{ session: any, lun: number }>} */
let sessions = []
let blockSize = 512
const STATUS_BUSY = 0x08
const STATUS_TASK_SET_FULL = 0x28

const send = (message) => process.send?.(message)
const describe = (error) => (error instanceof Error ? `${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}` : String(error))

/** Run `task(i)` for i in 0..count-1 with at most `concurrency` at once; resolves the results in order. */
async function pool(count, concurrency, task) {
  const results = new Array(count)
  let next = 0
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  })
  await Promise.all(lanes)
  return results
}

/** A distinct ISID per session: Random format (T=10b), then the worker id and the session index. */
function isidFor(workerId, index) {
  return Buffer.from([0x80, workerId & 0x3f, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff, 0x01])
}

async function login(message) {
  const latencies = new Histogram()
  const failures = []
  const started = performance.now()
  const opened = await pool(message.count, message.concurrency, async (i) => {
    const t0 = performance.now()
    try {
      const session = await Session.login({
        host: message.host,
        port: message.port,
        targetName: message.targetName,
        initiatorName: `iqn.2026-11.io.iscsi-ts.bench:scale-${message.workerId}`,
        isid: isidFor(message.workerId, i),
        reconnect: false,
        loginTimeoutMs: 60_000,
        timeoutMs: 60_000,
      })
      latencies.record((performance.now() - t0) * 1000)
      return { session, lun: (message.first + i) % message.luns }
    } catch (error) {
      failures.push(describe(error))
      return undefined
    }
  })
  const elapsedMs = performance.now() - started
  sessions = opened.filter((s) => s !== undefined)
  if (sessions[0] !== undefined) blockSize = (await sessions[0].session.readCapacity(sessions[0].lun)).blockSize
  send({ type: 'logged-in', count: sessions.length, failures: failures.slice(0, 5), failed: failures.length, elapsedMs, latencies: latencies.toJSON() })
}

async function run(message) {
  const blocks = IO_BYTES / blockSize
  const slots = Math.floor(message.regionBlocks / blocks)
  const latencies = new Histogram()
  let ios = 0
  let taskSetFull = 0
  let busy = 0
  const failures = []
  await new Promise((r) => setTimeout(r, Math.max(0, message.startAt - Date.now())))
  const end = performance.now() + message.seconds * 1000
  await Promise.all(
    sessions.map(async ({ session, lun }) => {
      const into = Buffer.allocUnsafe(IO_BYTES)
      while (performance.now() < end) {
        const lba = Math.floor(Math.random() * slots) * blocks
        const t0 = performance.now()
        for (let backoffMs = 1; ; backoffMs = Math.min(backoffMs * 2, 64)) {
          try {
            await session.read(lun, lba, blocks, { into })
            break
          } catch (error) {
            const status = error?.status
            if (status !== STATUS_TASK_SET_FULL && status !== STATUS_BUSY) {
              failures.push(describe(error))
              return
            }
            if (status === STATUS_BUSY) busy += 1
            else taskSetFull += 1
            if (performance.now() >= end) return
            await new Promise((r) => setTimeout(r, backoffMs))
          }
        }
        latencies.record((performance.now() - t0) * 1000)
        ios += 1
      }
    }),
  )
  send({ type: 'ran', ios, taskSetFull, busy, failed: failures.length, failures: failures.slice(0, 5), latencies: latencies.toJSON() })
}

async function logout(message) {
  const started = performance.now()
  let failed = 0
  await pool(sessions.length, message.concurrency, async (i) => {
    try {
      await sessions[i].session.logout()
    } catch {
      failed += 1
    }
  })
  sessions = []
  send({ type: 'logged-out', elapsedMs: performance.now() - started, failed })
}

process.on('message', (message) => {
  const handlers = { login, run, logout }
  const handler = handlers[message?.cmd]
  if (handler === undefined) return
  handler(message).catch((error) => send({ type: 'error', error: describe(error) }))
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })
