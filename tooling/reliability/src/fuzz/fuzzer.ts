// The network fuzzer: a target in a child process (three target nodes: one to fuzz, one behind CHAP, one for the
// healthy session, guarded by an ACL), fuzz connections in parallel until the PDU or time budget is spent, a
// healthy session reading and writing alongside, the target's RSS sampled throughout. The report says what was sent,
// how every connection ended, and every problem found.
import type { MutationKind } from './mutator.js'
import { fuzzConnection } from './fuzz-connection.js'
import type { FuzzTargetInfo, Outcome, Scenario } from './fuzz-connection.js'
import { HealthySession } from './healthy-session.js'
import type { HealthyStats } from './healthy-session.js'
import { MemorySampler } from '../proc.js'
import { Random } from '../random.js'
import { TargetHost } from '../target-host/target-host.js'
import type { HostConfig, HostEvents, HostMemory, HostStats } from '../target-host/host-config.js'

export const FUZZ_TARGET = 'iqn.2026-11.io.iscsi-ts:fuzz'
export const CHAP_TARGET = 'iqn.2026-11.io.iscsi-ts:fuzz-chap'
export const HEALTHY_TARGET = 'iqn.2026-11.io.iscsi-ts:healthy'
export const HEALTHY_INITIATOR = 'iqn.2026-11.io.iscsi-ts:healthy-initiator'

const BLOCK_SIZE = 512
const FUZZ_LUN_BYTES = 16 * 1024 * 1024
const HEALTHY_LUN_BYTES = 8 * 1024 * 1024

export interface FuzzOptions {
  /** Stop after this many PDUs... */
  readonly pdus: number
  /** ...or after this many seconds, whichever comes first (0: no time limit). */
  readonly seconds: number
  readonly seed: number
  /** Fuzz connections at a time. */
  readonly concurrency: number
  /** After our FIN, the target must close within this. */
  readonly deadlineMs: number
  /** The target's RSS must stay under this. */
  readonly maxRssBytes: number
  /** Heap after GC at the end may exceed the heap at the start by at most this. */
  readonly maxHeapGrowthBytes: number
  readonly packages: 'src' | 'dist'
  /** Progress lines (every few seconds). */
  readonly progress?: (line: string) => void
}

export interface FuzzReport {
  readonly seed: number
  readonly pdus: number
  readonly connections: number
  readonly durationMs: number
  readonly scenarios: Partial<Record<Scenario, number>>
  readonly outcomes: Partial<Record<Outcome | 'none', number>>
  readonly mutations: Partial<Record<MutationKind, number>>
  /** Problems by kind: hang, bad-output, statsn, window, segment, connection, target-exit, memory, heap, healthy, leak, internal. */
  readonly errors: Record<string, number>
  readonly errorSamples: string[]
  readonly healthy: HealthyStats | undefined
  readonly rss: { readonly first: number; readonly max: number; readonly last: number }
  readonly heap: { readonly before: HostMemory | undefined; readonly after: HostMemory | undefined }
  readonly targetEvents: HostEvents | undefined
  readonly statsAfter: HostStats | undefined
  readonly targetAlive: boolean
  readonly ok: boolean
}

export function fuzzHostConfig(): HostConfig {
  return {
    targets: [
      { name: FUZZ_TARGET, luns: [{ size: FUZZ_LUN_BYTES, blockSize: BLOCK_SIZE }, { size: 4 * 1024 * 1024, blockSize: BLOCK_SIZE }] },
      { name: CHAP_TARGET, luns: [{ size: 1024 * 1024 }], auth: { chap: { user: 'alice', secret: 'fuzz-chap-secret-0123' } } },
      { name: HEALTHY_TARGET, luns: [{ size: HEALTHY_LUN_BYTES, blockSize: BLOCK_SIZE }], acls: [{ initiator: HEALTHY_INITIATOR }] },
    ],
    countPdus: true,
    watchInitiators: [HEALTHY_INITIATOR],
    limits: { loginTimeoutMs: 3000, nopInIntervalMs: 1000, nopInTimeoutMs: 4000, queueDepth: 64, maxOutstandingR2T: 4 },
  }
}

const SCENARIOS: ReadonlyArray<readonly [Scenario, number]> = [
  ['ffp', 50],
  ['mcs', 15],
  ['login', 25],
  ['junk', 5],
  ['stall', 5],
]

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now()
  const random = new Random(options.seed)
  const errors: Record<string, number> = {}
  const errorSamples: string[] = []
  const problem = (kind: string, message: string): void => {
    errors[kind] = (errors[kind] ?? 0) + 1
    if (errorSamples.length < 40) errorSamples.push(`${kind}: ${message}`)
  }
  const scenarios: Partial<Record<Scenario, number>> = {}
  const outcomes: Partial<Record<Outcome | 'none', number>> = {}
  const mutations: Partial<Record<MutationKind, number>> = {}
  let pdus = 0
  let connections = 0

  const host = await TargetHost.start(fuzzHostConfig(), { packages: options.packages })
  const sampler = new MemorySampler(host.pid, 200)
  let healthy: HealthySession | undefined
  let healthyStats: HealthyStats | undefined
  let before: HostMemory | undefined
  let after: HostMemory | undefined
  let targetEvents: HostEvents | undefined
  let statsAfter: HostStats | undefined
  try {
    before = await host.memory()
    const target: FuzzTargetInfo = {
      host: host.host,
      port: host.port,
      targetName: FUZZ_TARGET,
      chapTargetName: CHAP_TARGET,
      blocks: FUZZ_LUN_BYTES / BLOCK_SIZE,
      blockSize: BLOCK_SIZE,
    }
    healthy = await HealthySession.start({
      host: host.host,
      port: host.port,
      targetName: HEALTHY_TARGET,
      initiatorName: HEALTHY_INITIATOR,
      random: random.fork(),
      blocks: HEALTHY_LUN_BYTES / BLOCK_SIZE,
      blockSize: BLOCK_SIZE,
    })
    healthy.run()

    const deadline = options.seconds > 0 ? started + options.seconds * 1000 : Number.POSITIVE_INFINITY
    const exhausted = (): boolean => pdus >= options.pdus || Date.now() >= deadline || !host.alive
    let lastProgress = Date.now()
    const worker = async (workerRandom: Random): Promise<void> => {
      while (!exhausted()) {
        const scenario = workerRandom.weighted(SCENARIOS)
        scenarios[scenario] = (scenarios[scenario] ?? 0) + 1
        connections++
        const result = await fuzzConnection({
          random: workerRandom.fork(),
          target,
          scenario,
          pdus: workerRandom.pick([16, 64, 128, 256, 512]),
          deadlineMs: options.deadlineMs,
        })
        pdus += result.pdus
        const outcome = result.outcome ?? 'none'
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
        for (const [kind, n] of Object.entries(result.mutations) as Array<[MutationKind, number]>) mutations[kind] = (mutations[kind] ?? 0) + n
        for (const e of result.errors) {
          // A connection failure once the target died is the death, counted once below.
          if (!host.alive && e.kind === 'connection') continue
          problem(e.kind, `${scenario}: ${e.message}`)
        }
        const rss = host.rss()
        if (rss !== undefined && rss > options.maxRssBytes) problem('memory', `target RSS ${Math.round(rss / 1048576)} MiB above the bound ${Math.round(options.maxRssBytes / 1048576)} MiB`)
        if (options.progress !== undefined && Date.now() - lastProgress > 5000) {
          lastProgress = Date.now()
          options.progress(`${((Date.now() - started) / 1000).toFixed(0)} s: ${pdus} PDUs, ${connections} connections, RSS ${Math.round((rss ?? 0) / 1048576)} MiB`)
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, () => worker(random.fork())))

    healthyStats = await healthy.stop()
    healthy = undefined
    for (const failure of healthyStats.failures) problem('healthy', failure)
    if (healthyStats.operations === 0) problem('healthy', 'the healthy session completed no operation')

    if (host.alive) {
      // The target still takes new sessions after the fuzzing: log in afresh, write, read back, log out.
      try {
        const fresh = await HealthySession.start({
          host: host.host,
          port: host.port,
          targetName: HEALTHY_TARGET,
          initiatorName: HEALTHY_INITIATOR,
          random: random.fork(),
          blocks: HEALTHY_LUN_BYTES / BLOCK_SIZE,
          blockSize: BLOCK_SIZE,
        })
        for (const failure of (await fresh.stop()).failures) problem('healthy', `fresh session after the fuzzing: ${failure}`)
      } catch (error) {
        problem('healthy', `fresh session after the fuzzing: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    if (!host.alive) {
      problem('target-exit', `the target process exited (${host.describeExit()}); stderr:\n${host.stderr}`)
    } else {
      // Every fuzz connection and session must go away: nothing left behind (leaked sessions, stuck connections).
      try {
        statsAfter = await host.waitForStats((s) => s.stats.connections === 0 && s.stats.sessions === 0, options.deadlineMs + 5000)
      } catch (error) {
        statsAfter = await host.stats()
        problem('leak', `${error instanceof Error ? error.message : String(error)}; sessions: ${JSON.stringify(statsAfter.sessions.slice(0, 5))}`)
      }
      after = await host.memory()
      if (after.heapUsed - before.heapUsed > options.maxHeapGrowthBytes) {
        problem('heap', `heap after GC grew from ${Math.round(before.heapUsed / 1048576)} MiB to ${Math.round(after.heapUsed / 1048576)} MiB`)
      }
      targetEvents = await host.events()
      for (const message of targetEvents.internal) problem('internal', message)
      // The healthy session logs out at the end: any other close of its connection is the target's doing.
      for (const close of targetEvents.closes) if (!/logout/.test(close)) problem('healthy', `the target closed the healthy connection: ${close}`)
    }
  } finally {
    if (healthy !== undefined) healthyStats = await healthy.stop().catch(() => undefined)
    await host.close()
  }
  const memory = sampler.stop()
  return {
    seed: options.seed,
    pdus,
    connections,
    durationMs: Date.now() - started,
    scenarios,
    outcomes,
    mutations,
    errors,
    errorSamples,
    healthy: healthyStats,
    rss: { first: memory.first, max: memory.max, last: memory.last },
    heap: { before, after },
    targetEvents,
    statsAfter,
    targetAlive: !('target-exit' in errors),
    ok: Object.keys(errors).length === 0,
  }
}

/** The report as text lines (what `pnpm fuzz:target` prints). */
export function formatReport(report: FuzzReport): string[] {
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`
  const kv = (record: Readonly<Record<string, number | undefined>>): string =>
    Object.entries(record)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([k, v]) => `${k}=${v ?? 0}`)
      .join(' ')
  const lines = [
    `seed ${report.seed}: ${report.pdus} PDUs over ${report.connections} connections in ${(report.durationMs / 1000).toFixed(1)} s`,
    `scenarios: ${kv(report.scenarios)}`,
    `outcomes: ${kv(report.outcomes)}`,
    `mutations: ${kv(report.mutations)}`,
    `target RSS: first ${mib(report.rss.first)}, max ${mib(report.rss.max)}, final ${mib(report.rss.last)}`,
  ]
  if (report.heap.before !== undefined && report.heap.after !== undefined) {
    lines.push(`target heap after GC: ${mib(report.heap.before.heapUsed)} before, ${mib(report.heap.after.heapUsed)} after`)
  }
  if (report.healthy !== undefined) {
    lines.push(`healthy session: ${report.healthy.operations} operations, ${mib(report.healthy.bytesVerified)} verified, max latency ${report.healthy.maxLatencyMs.toFixed(0)} ms`)
  }
  if (report.targetEvents !== undefined) {
    lines.push(`target error events by kind: ${kv(report.targetEvents.errorsByKind) || 'none'}`)
    lines.push(`target framed ${report.targetEvents.pdusReceived} PDUs (the rest arrived after it had closed a connection)`)
    lines.push(`target logins: ${report.targetEvents.logins.success} succeeded, ${report.targetEvents.logins.failure} failed`)
  }
  lines.push(`errors: ${kv(report.errors) || 'none'}`)
  for (const sample of report.errorSamples) lines.push(`  ${sample}`)
  lines.push(report.ok ? 'OK' : 'FAILED')
  return lines
}
