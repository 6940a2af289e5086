// The network fuzzer on the CI budget (>= 100,000 PDUs; RELIABILITY_LONG=1: 2,000,000): the target must not crash,
// hang, leak sessions or connections, grow without bound, send malformed or incoherent PDUs, or disturb the healthy
// session reading and writing next to the fuzzing. FUZZ_SEED=N replays a run.
import { describe, expect, it } from 'vitest'
import { budget } from './src/budget.js'
import { formatReport, runFuzz } from './src/fuzz/fuzzer.js'
import { MiB } from './src/proc.js'
import { seedFrom } from './src/random.js'

const PDUS = budget(100_000, 2_000_000)
const SECONDS_LIMIT = budget(150, 3600)

describe('network fuzzer', () => {
  it(
    `survives ${PDUS} mutated PDUs over many connections with a healthy session beside them`,
    async () => {
      const seed = seedFrom(process.env.FUZZ_SEED)
      const report = await runFuzz({
        pdus: PDUS,
        seconds: SECONDS_LIMIT,
        seed,
        concurrency: 16,
        deadlineMs: 10_000,
        maxRssBytes: 512 * MiB,
        maxHeapGrowthBytes: 64 * MiB,
        packages: 'src',
      })
      const text = formatReport(report).join('\n')
      console.log(text)
      expect(report.targetAlive, text).toBe(true)
      expect(report.errors, text).toEqual({})
      expect(report.pdus, text).toBeGreaterThanOrEqual(PDUS)
      // The fuzzing reached the target: most PDUs were framed and handled, many sessions logged in.
      expect(report.targetEvents!.pdusReceived, text).toBeGreaterThan(PDUS / 3)
      expect(report.targetEvents!.logins.success, text).toBeGreaterThan(100)
      expect(report.healthy!.operations, text).toBeGreaterThan(50)
      expect(report.healthy!.failures, text).toEqual([])
      expect(report.statsAfter!.stats, text).toEqual({ sessions: 0, connections: 0 })
      expect(report.rss.max, text).toBeLessThan(512 * MiB)
    },
    (SECONDS_LIMIT + 120) * 1000,
  )
})
