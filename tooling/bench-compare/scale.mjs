#!/usr/bin/env node
// `pnpm bench:scale`: many concurrent sessions on one process of our target. Client processes (scale-worker.mjs,
// our initiator library) log in --sessions sessions, then every session reads 4 KiB at random offsets at queue
// depth 1 for --seconds, then all log out. Reported: logins per second, aggregate IOPS, latency percentiles, the
// target's CPU, and its RSS before, with the sessions idle and at peak during the I/O, per session and in total.
// Sessions are spread over LUNs (--sessions-per-lun) because a logical unit's task set holds 128 tasks: beyond
// that the target answers TASK SET FULL, which the clients retry and count.
import { linkSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { argParser } from './lib/args.mjs'
import { buildWorkspace } from './lib/build.mjs'
import { Histogram } from './lib/histogram.mjs'
import { createImages } from './lib/images.mjs'
import { startOurTarget } from './lib/our-target.mjs'
import { installCleanup, killGroup, removeOnExit, spawnTracked, tailLines, withTimeout } from './lib/processes.mjs'
import { ProcessMonitor, cpuSeconds, memory } from './lib/proc-stats.mjs'
import { MB, fmt, parseSize, renderTable } from './lib/report.mjs'
import { snapshotBuild } from './lib/snapshot.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')
const IQN = 'iqn.2026-11.io.iscsi-ts.bench:scale'
const GOAL = { sessions: 1000, rssMb: 400 }

const USAGE = `Usage: node tooling/bench-compare/scale.mjs [options]     (pnpm bench:scale -- [options])

Logs in many sessions to one process of our target and runs queue-depth-1 4 KiB random reads on all of them.

Options:
  --sessions N            sessions (default 1000)
  --seconds N             seconds of I/O (default 10)
  --workers N             client processes sharing the sessions (default 2)
  --login-concurrency N   logins in flight per client process (default 32)
  --sessions-per-lun N    sessions sharing one LUN (default 100): the LUNs are hard links of one image, so every
                          session reads the same data, and no LUN's task set (128 tasks) overflows
  --size SIZE             size of the backing file, all of it random data (default 256M)
  --no-build              do not build first (default: \`npx turbo run build\` of the target app and the initiator)
  --json FILE             also write the figures as JSON to FILE
  -h, --help              this help

Exit codes: 0 done, 1 something failed (a login, a read, the target), 2 usage error.`

const { usageError, positiveInt, forEachArg } = argParser('bench:scale', USAGE)

function parseArgs(argv) {
  const options = {
    sessions: 1000, seconds: 10, workers: 2, loginConcurrency: 32, sessionsPerLun: 100, size: 256 * 1024 ** 2, build: true,
    json: undefined, help: false,
  }
  forEachArg(argv, (flag, value, arg) => {
    switch (flag) {
      case '--': break
      case '--sessions': options.sessions = positiveInt(flag, value()); break
      case '--seconds': options.seconds = positiveInt(flag, value()); break
      case '--workers': options.workers = positiveInt(flag, value()); break
      case '--login-concurrency': options.loginConcurrency = positiveInt(flag, value()); break
      case '--sessions-per-lun': options.sessionsPerLun = positiveInt(flag, value()); break
      case '--size': {
        const v = value()
        const bytes = parseSize(v)
        if (bytes === undefined || bytes % (1024 * 1024) !== 0) usageError(`--size wants a size in whole MiB like 256M, not '${v}'`)
        options.size = bytes
        break
      }
      case '--no-build': options.build = false; break
      case '--json': options.json = resolve(value()); break
      case '-h': case '--help': options.help = true; break
      default: usageError(`unknown option '${arg}'`)
    }
  })
  if (options.sessions > 65000) usageError('--sessions is limited to 65000 (the target allows at most 65535)')
  options.luns = Math.ceil(options.sessions / options.sessionsPerLun)
  if (options.luns > 16384) usageError('too many LUNs: raise --sessions-per-lun')
  options.workers = Math.min(options.workers, options.sessions)
  return options
}

const log = (message) => process.stderr.write(`bench:scale: ${message}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A client process with a promise per awaited message type. */
function startWorker(index, buildRoot) {
  const launch = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'
  const tracked = spawnTracked('bash', ['-c', launch, 'bash', process.execPath, join(here, 'scale-worker.mjs'), buildRoot], {
    cwd: repoRoot,
    ipc: true,
  })
  const waiting = new Map()
  tracked.child.on('message', (message) => {
    if (message?.type === 'error') {
      for (const { reject } of waiting.values()) reject(new Error(`client ${index}: ${message.error}`))
      waiting.clear()
      return
    }
    const entry = waiting.get(message?.type)
    if (entry !== undefined) {
      waiting.delete(message.type)
      entry.resolve(message)
    }
  })
  tracked.exited.then(({ code, signal }) => {
    for (const { reject } of waiting.values()) {
      reject(new Error(`client ${index} exited (${signal ?? code}):\n${tailLines(tracked.output())}`))
    }
    waiting.clear()
  })
  return {
    tracked,
    expect: (type, timeoutMs) =>
      withTimeout(new Promise((resolve, reject) => waiting.set(type, { resolve, reject })), timeoutMs, `client ${index}: no '${type}' within ${Math.round(timeoutMs / 1000)} s`),
    send: (message) => tracked.child.send(message),
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (process.platform !== 'linux') throw new Error('needs Linux (/proc for CPU and memory)')
  installCleanup((signal) => log(`${signal}: stopping every process started and removing temp files`))
  if (options.build) buildWorkspace(repoRoot, ['@iscsi-ts/target-server', '@iscsi-ts/initiator'], log)
  const load = loadavg()[0]
  if (load > cpus().length * 0.5) log(`warning: load average ${load.toFixed(2)} on ${cpus().length} CPUs; other work on this machine will make the figures noisy`)

  const dir = mkdtempSync(join(tmpdir(), 'iscsi-ts-bench-scale-'))
  removeOnExit(dir)
  // Run a frozen copy of the build, so a rebuild elsewhere in the repository cannot pull files from under a run.
  const buildRoot = await snapshotBuild(repoRoot, join(dir, 'build'), {
    libraries: ['packages/initiator/dist/index.js'],
    bins: ['apps/target/dist/bin.js'],
  })
  const image = join(dir, 'lun0.img')
  log(`writing a ${fmt(options.size / 1024 ** 2)} MiB backing file of random data ...`)
  await createImages([image], { size: options.size, fill: options.size })
  // More LUNs are hard links of the first image: the same blocks (and page cache), each its own path and sidecar.
  const images = [image]
  for (let lun = 1; lun < options.luns; lun++) {
    images.push(join(dir, `lun${lun}.img`))
    linkSync(image, images[lun])
  }
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir)
  // The config raises the session limit above the library default when needed and gives logins under load time.
  const configFile = join(dir, 'target.json')
  writeFileSync(
    configFile,
    JSON.stringify({
      targets: [{ name: IQN, luns: images.map((path, lun) => ({ lun, path })) }],
      limits: { maxSessions: Math.min(65535, Math.max(4096, options.sessions + 64)) },
      timers: { loginTimeout: '60s' },
    }),
  )
  const target = await startOurTarget({ repoRoot: buildRoot, key: 'scale', iqn: IQN, configFile, dataDir, logLevel: 'warn' })
  log(`our target pid ${target.pid} on 127.0.0.1:${target.port}`)
  const aliveCheck = () => {
    if (!target.tracked.isRunning()) throw new Error(`our target died; its last output:\n${tailLines(target.output())}`)
  }

  await sleep(1000)
  const before = memory(target.pid)
  if (before === undefined) throw new Error('cannot read the target process memory')

  const workers = Array.from({ length: options.workers }, (_, i) => startWorker(i, buildRoot))
  await Promise.all(workers.map((w) => w.expect('ready', 30_000)))
  const shares = workers.map((_, i) => Math.floor(options.sessions / options.workers) + (i < options.sessions % options.workers ? 1 : 0))

  log(`logging in ${fmt(options.sessions)} sessions from ${workers.length} client process(es) ...`)
  const loginCpu0 = cpuSeconds(target.pid)
  const loginStart = performance.now()
  const loginReplies = await Promise.all(
    workers.map((w, i) => {
      const reply = w.expect('logged-in', 600_000)
      const first = shares.slice(0, i).reduce((a, b) => a + b, 0)
      w.send({ cmd: 'login', host: '127.0.0.1', port: target.port, targetName: IQN, luns: options.luns, first, count: shares[i], concurrency: options.loginConcurrency, workerId: i })
      return reply
    }),
  )
  const loginSeconds = (performance.now() - loginStart) / 1000
  const loginCpu = (cpuSeconds(target.pid) ?? 0) - (loginCpu0 ?? 0)
  aliveCheck()
  const failedLogins = loginReplies.reduce((n, r) => n + r.failed, 0)
  if (failedLogins > 0) {
    throw new Error(`${failedLogins} of ${options.sessions} logins failed, for example:\n${loginReplies.flatMap((r) => r.failures).slice(0, 5).map((f) => `    ${f}`).join('\n')}`)
  }
  const loginLatency = new Histogram()
  for (const r of loginReplies) loginLatency.merge(r.latencies)

  await sleep(1000)
  const idle = memory(target.pid)

  log(`reading for ${options.seconds} s ...`)
  const monitor = new ProcessMonitor(target.pid).start()
  const startAt = Date.now() + 300
  const runReplies = await Promise.all(
    workers.map((w) => {
      const reply = w.expect('ran', (options.seconds + 120) * 1000)
      w.send({ cmd: 'run', startAt, seconds: options.seconds, regionBlocks: options.size / 512 })
      return reply
    }),
  )
  const during = monitor.stop()
  aliveCheck()
  const failedReads = runReplies.reduce((n, r) => n + r.failed, 0)
  if (failedReads > 0) {
    throw new Error(`${failedReads} session(s) failed a read, for example:\n${runReplies.flatMap((r) => r.failures).slice(0, 5).map((f) => `    ${f}`).join('\n')}`)
  }
  const latency = new Histogram()
  for (const r of runReplies) latency.merge(r.latencies)
  const ios = runReplies.reduce((n, r) => n + r.ios, 0)
  const taskSetFull = runReplies.reduce((n, r) => n + r.taskSetFull, 0)
  const busy = runReplies.reduce((n, r) => n + r.busy, 0)

  log('logging out ...')
  const logoutStart = performance.now()
  const logoutReplies = await Promise.all(
    workers.map((w) => {
      const reply = w.expect('logged-out', 300_000)
      w.send({ cmd: 'logout', concurrency: options.loginConcurrency })
      return reply
    }),
  )
  const logoutSeconds = (performance.now() - logoutStart) / 1000
  const failedLogouts = logoutReplies.reduce((n, r) => n + r.failed, 0)
  await sleep(500)
  const after = memory(target.pid)
  for (const w of workers) {
    w.tracked.child.disconnect()
    setTimeout(() => killGroup(w.tracked.child, 'SIGKILL'), 5000).unref()
  }
  await Promise.all(workers.map((w) => w.tracked.exited))
  await target.stop()

  const n = options.sessions
  const kb = (bytes) => fmt(bytes / 1024, 1)
  const perSessionIdle = (idle.rss - before.rss) / n
  const perSessionPeak = (during.peakRss - before.rss) / n
  const p = (h, q) => fmt(h.percentile(q) / 1000, 2)
  const rows = [
    ['sessions', fmt(n), `${workers.length} client process(es), ${options.loginConcurrency} logins in flight each; ${fmt(options.luns)} LUN(s), ${fmt(Math.min(options.sessionsPerLun, n))} sessions per LUN`],
    ['logins', `${fmt(n / loginSeconds)} /s`, `${fmt(loginSeconds, 2)} s for all; per login p50 ${p(loginLatency, 50)} ms, p99 ${p(loginLatency, 99)} ms; target CPU ${fmt(loginCpu, 2)} s`],
    ['aggregate IOPS', fmt(ios / options.seconds), `${fmt(ios)} reads of 4 KiB in ${options.seconds} s, queue depth 1 per session (${fmt((ios * 4096) / options.seconds / MB, 1)} MB/s)`],
    ['latency p50 / p99', `${p(latency, 50)} / ${p(latency, 99)} ms`, `p99.9 ${p(latency, 99.9)} ms, max ${fmt(latency.max / 1000, 2)} ms (seen by the clients, their queueing included)`],
    ['TASK SET FULL / BUSY', `${fmt(taskSetFull)} / ${fmt(busy)}`, 'answers retried after a back-off (1 to 64 ms); the latency includes them'],
    ['target CPU during I/O', `${fmt(during.cpuSeconds, 2)} s`, `${fmt(((during.cpuSeconds ?? 0) / options.seconds) * 100)}% of one core, ${fmt(((during.cpuSeconds ?? 0) / Math.max(ios, 1)) * 1e6, 1)} us per read`],
    ['target RSS before', `${fmt(before.rss / MB, 1)} MB`, 'started, no sessions'],
    ['target RSS, sessions idle', `${fmt(idle.rss / MB, 1)} MB`, `${kb(perSessionIdle)} KiB per session = (idle - before) / ${fmt(n)}`],
    ['target RSS, peak in I/O', `${fmt(during.peakRss / MB, 1)} MB`, `${kb(perSessionPeak)} KiB per session = (peak - before) / ${fmt(n)}`],
    ['target RSS after logout', `${fmt((after?.rss ?? 0) / MB, 1)} MB`, `logout of all took ${fmt(logoutSeconds, 2)} s${failedLogouts > 0 ? `, ${failedLogouts} failed` : ''}; lifetime VmHWM ${fmt((after?.hwm ?? 0) / MB, 1)} MB`],
  ]
  const total = Math.max(during.peakRss, idle.rss) / MB
  const goalLimit = (GOAL.rssMb * n) / GOAL.sessions
  const met = total <= GOAL.rssMb && n >= GOAL.sessions
  const goalText =
    n >= GOAL.sessions
      ? `${fmt(GOAL.sessions)} sessions in <= ${GOAL.rssMb} MB: peak ${fmt(total, 1)} MB with ${fmt(n)} sessions: ${met ? 'MET' : 'MISSED'}`
      : `${fmt(GOAL.sessions)} sessions in <= ${GOAL.rssMb} MB: only ${fmt(n)} sessions run (pro rata ${fmt(goalLimit, 1)} MB, peak ${fmt(total, 1)} MB): not evaluated`
  const out = [
    `iscsi-ts bench:scale  ${new Date().toISOString()}  Node ${process.version}  ${cpus().length} x ${cpus()[0]?.model ?? '?'}  load ${load.toFixed(2)}`,
    '',
    renderTable([{ title: 'measure', align: 'left' }, { title: 'value' }, { title: 'detail', align: 'left' }], rows),
    '',
    `goal: ${goalText}`,
  ]
  process.stdout.write(`${out.join('\n')}\n`)
  if (options.json !== undefined) {
    writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          sessions: n, workers: workers.length, seconds: options.seconds, loginSeconds, loginsPerSecond: n / loginSeconds,
          loginLatencyUs: { p50: loginLatency.percentile(50), p99: loginLatency.percentile(99) }, ios, iops: ios / options.seconds,
          latencyUs: { p50: latency.percentile(50), p99: latency.percentile(99), p999: latency.percentile(99.9), max: latency.max },
          luns: options.luns, taskSetFull, busy, targetCpuSeconds: during.cpuSeconds, rss: { before: before.rss, idle: idle.rss, peak: during.peakRss, after: after?.rss },
          rssPerSession: { idle: perSessionIdle, peak: perSessionPeak }, goalMet: met,
        },
        null,
        2,
      )}\n`,
    )
    log(`wrote ${options.json}`)
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench:scale failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
