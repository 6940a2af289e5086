// Load: many sessions of our initiator at queue depth 32, mixed reads and writes of self-verifying blocks, each
// session in its own region of one LUN, for a fixed time. Zero errors, zero corruption (every block read holds
// exactly the generation last written there), and the target's memory flat: RSS at the end of the run within a
// small margin of RSS at 25 % of it. CI: 8 sessions for 10 s; RELIABILITY_LONG=1: 64 sessions for 5 minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Session } from '@iscsi-ts/initiator'
import { decodeBlock, encodeBlocks } from './src/block-record.js'
import { budget, timeoutFor } from './src/budget.js'
import { MemorySampler, MiB, formatMiB } from './src/proc.js'
import { Random, seedFrom } from './src/random.js'
import { TargetHost } from './src/target-host/target-host.js'

const SESSIONS = budget(8, 64)
const SECONDS = budget(10, 300)
const DEPTH = 32
const REGION = 2048
const BLOCK = 512
const TARGET = 'iqn.2026-11.io.iscsi-ts:load'

let host: TargetHost
beforeAll(async () => {
  host = await TargetHost.start({
    targets: [{ name: TARGET, luns: [{ size: SESSIONS * REGION * BLOCK, blockSize: BLOCK }] }],
    limits: { queueDepth: 64, maxSessions: SESSIONS + 8 },
  })
})
afterAll(async () => {
  await host.close()
})

/** One session's view of its region: the generation each block must hold, and which blocks are busy. */
class Region {
  readonly expected = new Uint32Array(REGION)
  readonly busy = new Uint8Array(REGION)
  generation = 0

  take(random: Random): { lba: number; count: number } | undefined {
    for (let attempt = 0; attempt < 10; attempt++) {
      const count = random.int(1, 64)
      const lba = random.int(0, REGION - count)
      let free = true
      for (let i = lba; i < lba + count; i++) if (this.busy[i] !== 0) free = false
      if (!free) continue
      for (let i = lba; i < lba + count; i++) this.busy[i] = 1
      return { lba, count }
    }
    return undefined
  }

  release(lba: number, count: number): void {
    for (let i = lba; i < lba + count; i++) this.busy[i] = 0
  }
}

interface Figures {
  reads: number
  writes: number
  bytesWritten: number
  bytesVerified: number
  errors: string[]
}

async function drive(session: Session, index: number, random: Random, until: number, figures: Figures): Promise<void> {
  const region = new Region()
  const base = index * REGION
  // Fill the region first: the memory LUN is then fully allocated before the memory is measured.
  for (let lba = 0; lba < REGION; lba += 256) {
    const generation = ++region.generation
    await session.write(0, base + lba, encodeBlocks(base + lba, 256, BLOCK, generation, index))
    region.expected.fill(generation, lba, lba + 256)
  }
  const worker = async (): Promise<void> => {
    while (Date.now() < until && figures.errors.length < 20) {
      const range = region.take(random)
      if (range === undefined) {
        await new Promise((resolve) => setImmediate(resolve))
        continue
      }
      const { lba, count } = range
      try {
        if (random.chance(0.5)) {
          const generation = ++region.generation
          await session.write(0, base + lba, encodeBlocks(base + lba, count, BLOCK, generation, index), { fua: random.chance(0.1) })
          region.expected.fill(generation, lba, lba + count)
          figures.writes++
          figures.bytesWritten += count * BLOCK
        } else {
          const data = await session.read(0, base + lba, count)
          for (let i = 0; i < count; i++) {
            const state = decodeBlock(data.subarray(i * BLOCK, (i + 1) * BLOCK), base + lba + i)
            const want = region.expected[lba + i]
            if (state.state !== 'valid' || state.generation !== want || state.writer !== index) {
              figures.errors.push(`session ${index}, LBA ${base + lba + i}: expected generation ${want}, found ${JSON.stringify(state)}`)
            }
          }
          figures.reads++
          figures.bytesVerified += data.length
        }
      } catch (error) {
        figures.errors.push(`session ${index}: ${error instanceof Error ? error.message : String(error)}`)
      } finally {
        region.release(lba, count)
      }
    }
  }
  await Promise.all(Array.from({ length: DEPTH }, worker))
}

describe('load', () => {
  it(
    `${SESSIONS} sessions at depth ${DEPTH} for ${SECONDS} s: no error, no corruption, flat memory`,
    async () => {
      const seed = seedFrom(process.env.LOAD_SEED)
      const random = new Random(seed)
      const sessions = await Promise.all(
        Array.from({ length: SESSIONS }, (_, i) =>
          Session.login({ host: host.host, port: host.port, targetName: TARGET, initiatorName: `iqn.2026-11.io.iscsi-ts:load-${i}`, reconnect: false, timeoutMs: 30_000 }),
        ),
      )
      const figures: Figures = { reads: 0, writes: 0, bytesWritten: 0, bytesVerified: 0, errors: [] }
      // Prefill every region, then measure from a settled baseline.
      const started = Date.now()
      const until = started + SECONDS * 1000
      const sampler = new MemorySampler(host.pid, 250)
      const running = sessions.map((session, i) => drive(session, i, random.fork(), until, figures))
      const at25 = new Promise<{ rss: number; heap: number }>((resolve) =>
        setTimeout(() => {
          const rss = host.rss() ?? 0
          host.memory().then((m) => resolve({ rss, heap: m.heapUsed }), () => resolve({ rss, heap: 0 }))
        }, SECONDS * 250),
      )
      await Promise.all(running)
      const { rss: rss25, heap: heap25 } = await at25
      const rss100 = host.rss() ?? 0
      const heap100 = (await host.memory()).heapUsed
      const memory = sampler.stop()
      const stats = await host.stats()
      expect(stats.stats.sessions).toBe(SESSIONS)
      await Promise.all(sessions.map((s) => s.logout()))
      await host.waitForStats((s) => s.stats.sessions === 0 && s.stats.connections === 0)
      const events = await host.events()
      const seconds = (Date.now() - started) / 1000
      console.log(
        `load: seed ${seed}, ${SESSIONS} sessions x depth ${DEPTH} for ${seconds.toFixed(1)} s: ${figures.writes} writes (${formatMiB(figures.bytesWritten)}), ` +
          `${figures.reads} reads, ${formatMiB(figures.bytesVerified)} verified; target RSS ${formatMiB(rss25)} at 25 %, ${formatMiB(rss100)} at 100 %, max ${formatMiB(memory.max)}; ` +
          `heap after GC ${formatMiB(heap25)} at 25 %, ${formatMiB(heap100)} at 100 %`,
      )
      expect(figures.errors).toEqual([])
      expect(events.internal).toEqual([])
      expect(figures.reads).toBeGreaterThan(SESSIONS * 10)
      expect(figures.writes).toBeGreaterThan(SESSIONS * 10)
      // Flat memory: the end of the run holds no more than a small margin over the first quarter.
      expect(rss100 - rss25, `RSS grew from ${formatMiB(rss25)} to ${formatMiB(rss100)}`).toBeLessThan(Math.max(48 * MiB, rss25 * 0.25))
      expect(heap100 - heap25, `heap after GC grew from ${formatMiB(heap25)} to ${formatMiB(heap100)}`).toBeLessThan(16 * MiB)
    },
    timeoutFor(SECONDS + 30),
  )
})
