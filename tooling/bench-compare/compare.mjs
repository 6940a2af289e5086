#!/usr/bin/env node
// `pnpm bench:compare`: our target and initiator side by side with the reference implementations on this machine.
//
//   target side:    the same libiscsi / QEMU clients against tgtd and against our target (apps/target)
//   initiator side: our CLI's `iscsi bench` against tgtd versus libiscsi's iscsi-perf against tgtd
//   digests:        header digests on versus off against both targets (libiscsi has no data digests), and header
//                   plus data digests on versus off with our initiator on our target
//
// Each workload runs against both sides in alternation (A B A B ...) for --rounds rounds of --seconds each, and the
// table shows medians. CPU seconds and peak RSS come from /proc for the target process (srv) and the client
// process (cli) of each run. See README.md in this folder for the method and how to read the table.
import { mkdirSync, mkdtempSync, linkSync, writeFileSync, readdirSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { argParser } from './lib/args.mjs'
import { buildWorkspace } from './lib/build.mjs'
import { runIscsiPerf, runOurBench, runQemuBench } from './lib/clients.mjs'
import { loadProfile, summarizeProfile, renderProfileSummary } from './lib/cpu-profile.mjs'
import { createImages } from './lib/images.mjs'
import { startOurTarget } from './lib/our-target.mjs'
import { installCleanup, removeOnExit, tailLines } from './lib/processes.mjs'
import { snapshotBuild } from './lib/snapshot.mjs'
import { memory } from './lib/proc-stats.mjs'
import { MB, fmt, fmtRatio, median, parseSize, ratio, renderTable } from './lib/report.mjs'
import { startTgtd } from './lib/tgtd.mjs'
import { findTool } from './lib/tools.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')

// ---------------------------------------------------------------------------------------------------------------
// Workloads. A side names the server it runs against (ours, ours-hd, ours-dd, tgt, tgt-hd: "-hd" targets only accept
// HeaderDigest=CRC32C, "-dd" both HeaderDigest=CRC32C and DataDigest=CRC32C) and its client. Ratios are always A/B (the first side over the second).

const perf = (bytes, depth, random, headerDigest = false) => ({
  tool: 'iscsi-perf',
  run: (ctx, server) =>
    runIscsiPerf({ url: server.url, bytes, depth, random, seconds: ctx.seconds, targetPid: server.pid, expectHeaderDigest: headerDigest }),
})
const qemu = (bytes, depth, write) => ({
  tool: 'qemu-img bench',
  // qemu-img bench runs a fixed number of requests: a calibration run sizes it to about --seconds.
  calibrationCount: Math.max(500, Math.round((8 * 1024 * 1024) / bytes)),
  run: (ctx, server, count) => runQemuBench({ url: server.url, bytes, depth, count, write, targetPid: server.pid }),
})
const ours = (rw, bytes, depth, digests = false) => ({
  tool: `iscsi bench${digests ? ' --header-digest --data-digest' : ''}`,
  run: (ctx, server) =>
    runOurBench({ repoRoot: ctx.buildRoot, url: server.url, rw, bytes, depth, seconds: ctx.seconds, headerDigest: digests, dataDigest: digests, targetPid: server.pid }),
})

const KiB = 1024
const WORKLOADS = [
  {
    id: 'randread4k', group: 'target', title: '4 KiB random read, qd 32', depth: 32,
    goal: { metric: 'iops', min: 1.25, text: 'target IOPS >= 1.25x tgt' },
    sides: [{ label: 'ours', server: 'ours', ...perf(4 * KiB, 32, true) }, { label: 'tgt', server: 'tgt', ...perf(4 * KiB, 32, true) }],
  },
  {
    id: 'seqread128k', group: 'target', title: '128 KiB sequential read, qd 16', depth: 16,
    goal: { metric: 'bytesPerSecond', min: 1.0, text: 'target MB/s >= 1.0x tgt' },
    sides: [{ label: 'ours', server: 'ours', ...perf(128 * KiB, 16, false) }, { label: 'tgt', server: 'tgt', ...perf(128 * KiB, 16, false) }],
  },
  {
    id: 'write4k', group: 'target', title: '4 KiB sequential write, qd 32', depth: 32,
    goal: { metric: 'iops', min: 1.25, text: 'target IOPS >= 1.25x tgt' },
    sides: [{ label: 'ours', server: 'ours', ...qemu(4 * KiB, 32, true) }, { label: 'tgt', server: 'tgt', ...qemu(4 * KiB, 32, true) }],
  },
  {
    id: 'read64k', group: 'target', title: '64 KiB sequential read, qd 16', depth: 16,
    sides: [{ label: 'ours', server: 'ours', ...qemu(64 * KiB, 16, false) }, { label: 'tgt', server: 'tgt', ...qemu(64 * KiB, 16, false) }],
  },
  {
    id: 'randread4k-hd', group: 'target', title: '4 KiB random read, qd 32, HeaderDigest', depth: 32, digestOf: 'randread4k',
    sides: [{ label: 'ours', server: 'ours-hd', ...perf(4 * KiB, 32, true, true) }, { label: 'tgt', server: 'tgt-hd', ...perf(4 * KiB, 32, true, true) }],
  },
  {
    id: 'seqread128k-hd', group: 'target', title: '128 KiB sequential read, qd 16, HeaderDigest', depth: 16, digestOf: 'seqread128k',
    sides: [
      { label: 'ours', server: 'ours-hd', ...perf(128 * KiB, 16, false, true) },
      { label: 'tgt', server: 'tgt-hd', ...perf(128 * KiB, 16, false, true) },
    ],
  },
  {
    id: 'init-randread4k', group: 'initiator', title: 'initiator: 4 KiB random read, qd 32, on tgt', depth: 32,
    goal: { metric: 'iops', min: 1.0, text: 'initiator IOPS >= 1.0x iscsi-perf' },
    sides: [{ label: 'iscsi', server: 'tgt', ...ours('randread', 4 * KiB, 32) }, { label: 'iscsi-perf', server: 'tgt', ...perf(4 * KiB, 32, true) }],
  },
  {
    id: 'init-seqread128k', group: 'initiator', title: 'initiator: 128 KiB sequential read, qd 16, on tgt', depth: 16,
    goal: { metric: 'bytesPerSecond', min: 1.0, text: 'initiator MB/s >= 1.0x iscsi-perf' },
    sides: [{ label: 'iscsi', server: 'tgt', ...ours('read', 128 * KiB, 16) }, { label: 'iscsi-perf', server: 'tgt', ...perf(128 * KiB, 16, false) }],
  },
  {
    id: 'init-digest-randread4k', group: 'digest', title: 'our initiator on our target: 4 KiB random read, qd 32, header+data digests on/off', depth: 32,
    goal: { metric: 'iops', min: 0.85, text: 'header+data digests on >= 0.85x off' },
    sides: [{ label: 'digests on', server: 'ours-dd', ...ours('randread', 4 * KiB, 32, true) }, { label: 'digests off', server: 'ours', ...ours('randread', 4 * KiB, 32) }],
  },
  {
    id: 'init-digest-seqread128k', group: 'digest', title: 'our initiator on our target: 128 KiB sequential read, qd 16, header+data digests on/off', depth: 16,
    goal: { metric: 'bytesPerSecond', min: 0.85, text: 'header+data digests on >= 0.85x off' },
    sides: [{ label: 'digests on', server: 'ours-dd', ...ours('read', 128 * KiB, 16, true) }, { label: 'digests off', server: 'ours', ...ours('read', 128 * KiB, 16) }],
  },
]

const RSS_GOAL_MB = 120
const METRICS = ['iops', 'bytesPerSecond', 'p50Us', 'p99Us', 'srvCpu', 'srvCpuPerIoUs', 'srvRss', 'cliCpu', 'cliRss']

// ---------------------------------------------------------------------------------------------------------------
// Command line.

const USAGE = `Usage: node tooling/bench-compare/compare.mjs [options]     (pnpm bench:compare -- [options])

Runs our iSCSI target and initiator side by side with tgtd, libiscsi's iscsi-perf and qemu-img bench, and prints
IOPS, MB/s, latency, CPU seconds and peak RSS with the ratios and the goals.

Options:
  --rounds N          rounds per workload, sides alternate A B A B (default 3); the table shows medians
  --seconds N         seconds per run (default 5)
  --workloads LIST    comma-separated workload ids (default: all; --list shows them)
  --size SIZE         size of each backing file (default 1G)
  --fill SIZE         bytes of random data written at the start of each backing file (default: all of it)
  --warmup N          seconds of unmeasured 4 KiB random reads against each target first (default 2; 0 = none)
  --no-build          do not build first (default: \`npx turbo run build\` of the apps the workloads run)
  --json FILE         also write every run and median as JSON to FILE
  --profile DIR       run our target under \`node --cpu-prof\`, write the .cpuprofile files to DIR and print the
                      top self-time functions
  --ours-env K=V      an environment variable for our target processes (repeatable), e.g. UV_THREADPOOL_SIZE=2
  --strict            exit 3 when a goal is missed
  --list              list the workloads and exit
  -h, --help          this help

Exit codes: 0 done, 1 something failed (a tool, a target, a run), 2 usage error, 3 a goal missed with --strict.`

const { usageError, positiveInt, forEachArg } = argParser('bench:compare', USAGE)

function parseArgs(argv) {
  const options = {
    rounds: 3, seconds: 5, workloads: WORKLOADS.map((w) => w.id), size: 1024 ** 3, fill: undefined, warmup: 2,
    build: true, json: undefined, profile: undefined, strict: false, list: false, help: false, oursEnv: {},
  }
  forEachArg(argv, (flag, value, arg) => {
    switch (flag) {
      case '--': break
      case '--rounds': options.rounds = positiveInt(flag, value()); break
      case '--seconds': options.seconds = positiveInt(flag, value()); break
      case '--warmup': {
        const v = value()
        options.warmup = v === '0' ? 0 : positiveInt(flag, v)
        break
      }
      case '--workloads': {
        const ids = value().split(',').map((s) => s.trim()).filter((s) => s !== '')
        const unknown = ids.filter((id) => !WORKLOADS.some((w) => w.id === id))
        if (unknown.length > 0 || ids.length === 0) usageError(`unknown workload ${unknown.join(', ') || '(none)'}; known: ${WORKLOADS.map((w) => w.id).join(', ')}`)
        options.workloads = ids
        break
      }
      case '--size': case '--fill': {
        const v = value()
        const bytes = parseSize(v)
        if (bytes === undefined || bytes % (1024 * 1024) !== 0) usageError(`${flag} wants a size in whole MiB like 1G or 256M, not '${v}'`)
        options[flag.slice(2)] = bytes
        break
      }
      case '--no-build': options.build = false; break
      case '--json': options.json = resolve(value()); break
      case '--profile': options.profile = resolve(value()); break
      case '--strict': options.strict = true; break
      case '--ours-env': {
        const v = value()
        const eq = v.indexOf('=')
        if (eq < 1) usageError(`--ours-env wants NAME=VALUE, not '${v}'`)
        options.oursEnv[v.slice(0, eq)] = v.slice(eq + 1)
        break
      }
      case '--list': options.list = true; break
      case '-h': case '--help': options.help = true; break
      default: usageError(`unknown option '${arg}'`)
    }
  })
  options.fill ??= options.size
  if (options.fill > options.size) usageError('--fill cannot exceed --size')
  return options
}

// ---------------------------------------------------------------------------------------------------------------
// Running.

const log = (message) => process.stderr.write(`bench:compare: ${message}\n`)

/** Which servers and tools the selected workloads need. */
function needsOf(workloads) {
  const servers = new Set(workloads.flatMap((w) => w.sides.map((s) => s.server)))
  const tools = new Set(workloads.flatMap((w) => w.sides.map((s) => s.tool.split(' ')[0])))
  return {
    servers,
    tgt: servers.has('tgt') || servers.has('tgt-hd'),
    ours: servers.has('ours') || servers.has('ours-hd') || servers.has('ours-dd'),
    cli: tools.has('iscsi'),
    tools: [...tools].filter((t) => t !== 'iscsi'),
  }
}

async function startServers(needs, dir, options, buildRoot) {
  const servers = {}
  const stops = []
  const tgtImage = join(dir, 'tgt.img')
  const oursImage = join(dir, 'ours.img')
  const images = [...(needs.tgt ? [tgtImage] : []), ...(needs.ours ? [oursImage] : [])]
  log(`writing ${images.length} backing file(s) of ${fmt(options.size / 1024 ** 2)} MiB, ${fmt(options.fill / 1024 ** 2)} MiB of random data each ...`)
  await createImages(images, { size: options.size, fill: options.fill })
  for (const key of ['ours-hd', 'ours-dd']) {
    // The digest instances serve the same data through hard links: same blocks, each its own allocation sidecar.
    if (needs.servers.has(key)) linkSync(oursImage, join(dir, `${key}.img`))
  }

  if (needs.tgt) {
    const targets = []
    if (needs.servers.has('tgt')) targets.push({ key: 'tgt', iqn: 'iqn.2026-11.io.iscsi-ts.bench:tgt', image: tgtImage })
    if (needs.servers.has('tgt-hd')) targets.push({ key: 'tgt-hd', iqn: 'iqn.2026-11.io.iscsi-ts.bench:tgt-hd', image: tgtImage, headerDigest: true })
    const tgtd = await startTgtd({ targets })
    log(`tgtd pid ${tgtd.pid} on 127.0.0.1:${tgtd.port}`)
    for (const target of targets) {
      servers[target.key] = { key: target.key, pid: tgtd.pid, url: tgtd.urls[target.key], alive: tgtd.tracked.isRunning, output: tgtd.output, name: 'tgtd' }
    }
    stops.push(tgtd.stop)
  }
  for (const key of ['ours', 'ours-hd', 'ours-dd']) {
    if (!needs.servers.has(key)) continue
    const dataDir = join(dir, `${key}-data`)
    mkdirSync(dataDir)
    if (options.profile !== undefined) mkdirSync(options.profile, { recursive: true })
    const target = await startOurTarget({
      repoRoot: buildRoot, key, iqn: `iqn.2026-11.io.iscsi-ts.bench:${key}`, image: join(dir, `${key}.img`), dataDir,
      headerDigest: key !== 'ours', dataDigest: key === 'ours-dd', cpuProfileDir: options.profile, env: { ...process.env, ...options.oursEnv },
    })
    log(`our target (${key}) pid ${target.pid} on 127.0.0.1:${target.port}`)
    servers[key] = { key, pid: target.pid, url: target.url, alive: target.tracked.isRunning, output: target.output, name: `our target (${key})` }
    stops.push(target.stop)
  }
  return { servers, stop: async () => { for (const stop of stops.reverse()) await stop() } }
}

function assertAlive(server) {
  if (!server.alive()) throw new Error(`${server.name} died; its last output:\n${tailLines(server.output())}`)
}

/** One measured run of one side: the client's figures plus the server's CPU and memory. */
async function runSide(ctx, side, count) {
  const server = ctx.servers[side.server]
  assertAlive(server)
  const result = await side.run(ctx, server, count)
  assertAlive(server)
  const ios = result.ios ?? result.iops * (result.seconds ?? ctx.seconds)
  return {
    iops: result.iops,
    bytesPerSecond: result.bytesPerSecond,
    p50Us: result.p50Us,
    p99Us: result.p99Us,
    srvCpu: result.target?.cpuSeconds,
    srvCpuPerIoUs: result.target?.cpuSeconds !== undefined && ios > 0 ? (result.target.cpuSeconds / ios) * 1e6 : undefined,
    srvRss: result.target?.peakRss,
    cliCpu: result.clientCpu,
    cliRss: result.clientPeakRss || undefined,
    ...(count !== undefined ? { count } : {}),
  }
}

async function runWorkload(ctx, workload) {
  const [a, b] = workload.sides
  let count
  if (a.calibrationCount !== undefined) {
    // Size qemu-img bench's request count to about --seconds from one short run on each side.
    const rates = []
    for (const side of [a, b]) {
      const r = await runSide(ctx, side, a.calibrationCount)
      rates.push(r.iops)
    }
    const rate = rates.reduce((x, y) => x + y, 0) / rates.length
    count = Math.max(a.calibrationCount, Math.round(rate * ctx.seconds))
    log(`  ${workload.id}: ${fmt(count)} requests per run`)
  }
  const runs = { A: [], B: [] }
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const [key, side] of [['A', a], ['B', b]]) {
      log(`  ${workload.id} round ${round}/${ctx.rounds}: ${side.label} (${side.tool} -> ${ctx.servers[side.server].name})`)
      const r = await runSide(ctx, side, count)
      log(`    ${fmt(r.iops)} IOPS, ${fmt(r.bytesPerSecond / MB, 1)} MB/s, server CPU ${fmt(r.srvCpu, 2)} s, server RSS ${fmt(r.srvRss / MB, 1)} MB`)
      runs[key].push(r)
    }
  }
  const medianOf = (list) => Object.fromEntries(METRICS.map((m) => [m, median(list.map((r) => r[m]))]))
  return {
    id: workload.id,
    title: workload.title,
    group: workload.group,
    sides: [
      { label: a.label, tool: a.tool, server: ctx.servers[a.server].name, runs: runs.A, median: medianOf(runs.A) },
      { label: b.label, tool: b.tool, server: ctx.servers[b.server].name, runs: runs.B, median: medianOf(runs.B) },
    ],
  }
}

async function warmUp(ctx, servers, seconds) {
  for (const server of Object.values(servers)) {
    if (server.name === 'tgtd' && server.key !== 'tgt') continue
    log(`warming up ${server.name} for ${seconds} s ...`)
    await runIscsiPerf({ url: server.url, bytes: 4096, depth: 32, random: true, seconds, expectHeaderDigest: server.key.endsWith('-hd') })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

const ms = (us) => (us === undefined ? undefined : us / 1000)

/** Half the range of the rounds around their median, as "±7%": how much to trust a difference. */
function spread(values) {
  const m = median(values)
  if (m === undefined || m <= 0 || values.length < 2) return '-'
  return `±${Math.round(((Math.max(...values) - Math.min(...values)) / 2 / m) * 100)}%`
}

function renderResults(results) {
  const columns = [
    { title: 'side', align: 'left' }, { title: 'IOPS' }, { title: 'spread' }, { title: 'MB/s' }, { title: 'p50 ms' }, { title: 'p99 ms' },
    { title: 'srv CPU s' }, { title: 'srv us/IO' }, { title: 'srv RSS MB' }, { title: 'cli CPU s' }, { title: 'cli RSS MB' },
    { title: 'goal (A/B)', align: 'left' },
  ]
  const rows = []
  for (const result of results) {
    const [a, b] = result.sides
    const workload = WORKLOADS.find((w) => w.id === result.id)
    const sideRow = (side) => [
      `${side.label}`, fmt(side.median.iops), spread(side.runs.map((run) => run.iops)), fmt(side.median.bytesPerSecond / MB, 1), fmt(ms(side.median.p50Us), 2),
      fmt(ms(side.median.p99Us), 2), fmt(side.median.srvCpu, 2), fmt(side.median.srvCpuPerIoUs, 1),
      fmt(side.median.srvRss / MB, 1), fmt(side.median.cliCpu, 2), fmt(side.median.cliRss / MB, 1), '',
    ]
    const r = (m) => fmtRatio(ratio(a.median[m], b.median[m]))
    let goalText = ''
    if (workload.goal !== undefined) {
      const value = ratio(a.median[workload.goal.metric], b.median[workload.goal.metric])
      goalText = `${workload.goal.metric === 'iops' ? 'IOPS' : 'MB/s'} >= ${workload.goal.min.toFixed(2)}x: ${value === undefined ? '?' : value >= workload.goal.min ? 'MET' : 'MISSED'}`
    }
    const who = (side) => `${side.tool} -> ${side.server}`
    rows.push(`${result.id}: ${result.title}   [A ${a.label}: ${who(a)} | B ${b.label}: ${who(b)}]`)
    rows.push(sideRow(a))
    rows.push(sideRow(b))
    rows.push([
      `${a.label}/${b.label}`, r('iops'), '', r('bytesPerSecond'), r('p50Us'), r('p99Us'),
      r('srvCpu'), r('srvCpuPerIoUs'), r('srvRss'), r('cliCpu'), r('cliRss'), goalText,
    ])
    rows.push('-')
  }
  if (rows[rows.length - 1] === '-') rows.pop()
  return renderTable(columns, rows)
}

/** Every goal the selected workloads can answer: { text, value, limit, kind: 'min'|'max', met }. */
function evaluateGoals(results) {
  const byId = Object.fromEntries(results.map((r) => [r.id, r]))
  const goals = []
  for (const result of results) {
    const workload = WORKLOADS.find((w) => w.id === result.id)
    const [a, b] = result.sides
    if (workload.goal !== undefined) {
      const value = ratio(a.median[workload.goal.metric], b.median[workload.goal.metric])
      goals.push({ text: `${workload.goal.text} (${result.id})`, value, limit: workload.goal.min, kind: 'min', unit: 'x' })
    }
    const plain = workload.digestOf === undefined ? undefined : byId[workload.digestOf]
    if (plain !== undefined) {
      for (const [i, who] of [[0, 'our target'], [1, 'tgtd']]) {
        const metric = result.id.startsWith('randread') ? 'iops' : 'bytesPerSecond'
        const value = ratio(result.sides[i].median[metric], plain.sides[i].median[metric])
        goals.push({
          text: `${who}: header digests on >= 0.85x off (${result.id} / ${plain.id})`, value, limit: 0.85, kind: 'min', unit: 'x',
          informational: i === 1,
        })
      }
    }
  }
  // Peak RSS of our target at queue depth 32: the largest peak of any round of a qd-32 target workload.
  const peaks = results
    .filter((r) => r.group === 'target' && WORKLOADS.find((w) => w.id === r.id).depth === 32)
    .flatMap((r) => r.sides[0].runs.map((run) => run.srvRss))
    .filter((v) => typeof v === 'number' && v > 0)
  if (peaks.length > 0) goals.push({ text: 'our target peak RSS at qd 32 (MB, worst round)', value: Math.max(...peaks) / MB, limit: RSS_GOAL_MB, kind: 'max', unit: '' })
  for (const goal of goals) goal.met = goal.value === undefined ? undefined : goal.kind === 'min' ? goal.value >= goal.limit : goal.value <= goal.limit
  return goals
}

function renderGoals(goals) {
  const rows = goals.map((g) => [
    g.text,
    g.unit === 'x' ? fmtRatio(g.value) : fmt(g.value, 1),
    `${g.kind === 'min' ? '>=' : '<='} ${g.unit === 'x' ? `${g.limit.toFixed(2)}x` : fmt(g.limit)}`,
    g.informational ? '(reference)' : g.met === undefined ? '?' : g.met ? 'MET' : 'MISSED',
  ])
  return renderTable([{ title: 'goal', align: 'left' }, { title: 'measured' }, { title: 'wanted' }, { title: 'result', align: 'left' }], rows)
}

// ---------------------------------------------------------------------------------------------------------------
// Main.

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (options.list) {
    for (const w of WORKLOADS) process.stdout.write(`${w.id.padEnd(22)} ${w.title} [${w.sides.map((s) => `${s.label}: ${s.tool} -> ${s.server}`).join(' | ')}]\n`)
    return 0
  }
  if (process.platform !== 'linux') throw new Error('needs Linux (/proc for CPU and memory, tgtd)')
  installCleanup((signal) => log(`${signal}: stopping every process started and removing temp files`))

  const workloads = WORKLOADS.filter((w) => options.workloads.includes(w.id))
  const needs = needsOf(workloads)
  findTool('bash')
  findTool('iscsi-perf') // the warm-up uses it too
  for (const tool of needs.tools) findTool(tool)
  if (needs.tgt) {
    findTool('tgtd')
    findTool('tgtadm')
  }
  if (options.build) {
    buildWorkspace(repoRoot, [...(needs.ours ? ['@iscsi-ts/target-server'] : []), ...(needs.cli ? ['@iscsi-ts/cli'] : [])], log)
  }

  const cpuList = cpus()
  const load = loadavg()[0]
  const meta = {
    date: new Date().toISOString(), node: process.version, cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? '?',
    loadAverage1m: load, seconds: options.seconds, rounds: options.rounds, size: options.size, fill: options.fill,
    oursEnv: options.oursEnv,
  }
  if (load > cpuList.length * 0.5) log(`warning: load average ${load.toFixed(2)} on ${cpuList.length} CPUs; other work on this machine will make the figures noisy`)

  const dir = mkdtempSync(join(tmpdir(), 'iscsi-ts-bench-compare-'))
  removeOnExit(dir)
  log(`working in ${dir}`)
  // Run a frozen copy of the build, so a rebuild elsewhere in the repository cannot pull files from under a run.
  const bins = [...(needs.ours ? ['apps/target/dist/bin.js'] : []), ...(needs.cli ? ['apps/cli/dist/bin.js'] : [])]
  // With --profile the copy goes next to the profiles and stays: their summaries map code back to source through it.
  const snapshotDir = options.profile !== undefined ? join(options.profile, 'build') : join(dir, 'build')
  const buildRoot = bins.length === 0 ? repoRoot : await snapshotBuild(repoRoot, snapshotDir, { bins })
  const { servers, stop } = await startServers(needs, dir, options, buildRoot)
  const ctx = { servers, seconds: options.seconds, rounds: options.rounds, buildRoot }

  if (options.warmup > 0) await warmUp(ctx, servers, options.warmup)
  const results = []
  for (const workload of workloads) {
    log(`workload ${workload.id}: ${workload.title}`)
    results.push(await runWorkload(ctx, workload))
  }
  // Lifetime peak RSS of each server process (tgt and tgt-hd are one tgtd).
  const lifetime = {}
  for (const s of Object.values(servers)) if (!Object.values(lifetime).some((v) => v.pid === s.pid)) lifetime[s.name] = { pid: s.pid, hwm: memory(s.pid)?.hwm }
  await stop()

  meta.loadAverage1mEnd = loadavg()[0]
  const goals = evaluateGoals(results)
  const out = []
  out.push(
    `iscsi-ts bench:compare  ${meta.date}  Node ${meta.node}  ${meta.cpus} x ${meta.cpuModel}  load ${load.toFixed(2)} at start, ${meta.loadAverage1mEnd.toFixed(2)} at end`,
    `${options.rounds} round(s) x ${options.seconds} s per side, alternating A B; medians. srv = the target process, cli = the client process.`,
    `Backing files: ${fmt(options.size / 1024 ** 2)} MiB, ${fmt(options.fill / 1024 ** 2)} MiB random data; tgtd rdwr backing store, LUN 1; ours LUN 0.`,
    ...(Object.keys(options.oursEnv).length > 0 ? [`Our target's extra environment: ${Object.entries(options.oursEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
    '',
    renderResults(results),
    '',
    renderGoals(goals),
  )
  const hwm = Object.entries(lifetime).filter(([, v]) => v.hwm !== undefined).map(([k, v]) => `${k} ${fmt(v.hwm / MB, 1)} MB`)
  if (hwm.length > 0) out.push('', `Lifetime peak RSS (VmHWM): ${hwm.join(', ')}`)

  if (options.profile !== undefined) {
    const files = readdirSync(options.profile).filter((f) => f.endsWith('.cpuprofile') && f.startsWith('ours'))
    for (const file of files) {
      const summary = summarizeProfile(loadProfile(join(options.profile, file)), { repoRoot: buildRoot })
      out.push('', `CPU profile of our target: ${join(options.profile, file)}`, renderProfileSummary(summary, 15))
    }
  }
  process.stdout.write(`${out.join('\n')}\n`)
  if (options.json !== undefined) {
    writeFileSync(options.json, `${JSON.stringify({ meta, results, goals, lifetimePeakRss: lifetime }, null, 2)}\n`)
    log(`wrote ${options.json}`)
  }
  return options.strict && goals.some((g) => !g.informational && g.met === false) ? 3 : 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench:compare failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
