// Crash consistency of the iscsi-target app over an image file: random writes of self-verifying blocks (some FUA,
// some followed by SYNCHRONIZE CACHE) at queue depth 16, SIGKILL at a random moment, restart on the same image,
// then every block must hold a generation the write model allows: never older than its last stable write, never
// torn, misplaced or invented. CI: 5 kill cycles; RELIABILITY_LONG=1: 50.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Session } from '@iscsi-ts/initiator'
import { AppProcess, DEFAULT_IQN } from './src/app-process.js'
import { decodeBlock, encodeBlocks } from './src/block-record.js'
import { budget, timeoutFor } from './src/budget.js'
import { Random, seedFrom } from './src/random.js'
import { WriteModel } from './src/write-model.js'

const CYCLES = budget(5, 50)
const WORKING_SET = 4096
const DEPTH = 16
const VERIFY_CHUNK = 256

const dir = mkdtempSync(join(tmpdir(), 'iscsi-ts-crash-'))
const image = join(dir, 'disk.img')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function startApp(): Promise<AppProcess> {
  return AppProcess.start(['--listen', '127.0.0.1:0', '--lun', `${image}:64M`, '--data', dir, '--log-level', 'info'])
}

async function login(app: AppProcess): Promise<Session> {
  return Session.login({ host: app.host, port: app.port, targetName: DEFAULT_IQN, reconnect: false, timeoutMs: 15_000, loginTimeoutMs: 10_000 })
}

interface CycleFigures {
  writes: number
  acked: number
  fua: number
  syncs: number
}

/** Writes until the target dies: each completion is fed to the model. */
async function writeUntilKilled(session: Session, model: WriteModel, random: Random, blockSize: number, figures: CycleFigures): Promise<void> {
  let dead = false
  const one = async (): Promise<void> => {
    if (random.chance(0.06)) {
      const snapshot = model.snapshot()
      try {
        await session.syncCache(0)
        model.synced(snapshot)
        figures.syncs++
      } catch {
        dead = true
      }
      return
    }
    let count = 0
    let lba = 0
    for (let attempt = 0; attempt < 20; attempt++) {
      count = random.int(1, 16)
      lba = random.int(0, WORKING_SET - count)
      if (model.free(lba, count)) break
      count = 0
    }
    if (count === 0) {
      await new Promise((resolve) => setTimeout(resolve, 1))
      return
    }
    const fua = random.chance(0.3)
    const generation = model.issue(lba, count)
    figures.writes++
    try {
      await session.write(0, lba, encodeBlocks(lba, count, blockSize, generation, 1), { fua })
      model.complete(lba, count, generation, { acked: true, fua })
      figures.acked++
      if (fua) figures.fua++
    } catch {
      model.complete(lba, count, generation, { acked: false, fua })
      dead = true
    }
  }
  await Promise.all(
    Array.from({ length: DEPTH }, async () => {
      while (!dead) await one()
    }),
  )
}

/** Read the whole working set back and check every block against the model. */
async function verify(session: Session, model: WriteModel, blockSize: number): Promise<{ problems: string[]; bytes: number }> {
  const problems: string[] = []
  let bytes = 0
  for (let lba = 0; lba < WORKING_SET; lba += VERIFY_CHUNK) {
    const data = await session.read(0, lba, VERIFY_CHUNK)
    bytes += data.length
    for (let i = 0; i < VERIFY_CHUNK; i++) {
      const state = decodeBlock(data.subarray(i * blockSize, (i + 1) * blockSize), lba + i)
      if (state.state === 'corrupt') {
        problems.push(`LBA ${lba + i}: ${state.reason}`)
        continue
      }
      const generation = state.state === 'zero' ? 0 : state.generation
      const problem = model.check(lba + i, generation)
      if (problem !== undefined) problems.push(problem)
      model.observe(lba + i, generation)
    }
  }
  return { problems, bytes }
}

describe('crash consistency (SIGKILL of iscsi-target)', () => {
  it(
    `keeps every stable write and never tears a block over ${CYCLES} kill cycles`,
    async () => {
      const seed = seedFrom(process.env.CRASH_SEED)
      const random = new Random(seed)
      const model = new WriteModel(WORKING_SET)
      const totals = { writes: 0, acked: 0, fua: 0, syncs: 0, stable: 0, verifiedBytes: 0 }
      let app = await startApp()
      try {
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          const session = await login(app)
          const { blockSize } = await session.readCapacity(0)
          const figures: CycleFigures = { writes: 0, acked: 0, fua: 0, syncs: 0 }
          const writing = writeUntilKilled(session, model, random, blockSize, figures)
          // Kill at a random moment: early (little written), or deep into the run.
          await new Promise((resolve) => setTimeout(resolve, random.int(50, 1200)))
          const exit = await app.kill('SIGKILL')
          expect(exit.signal).toBe('SIGKILL')
          await writing
          totals.writes += figures.writes
          totals.acked += figures.acked
          totals.fua += figures.fua
          totals.syncs += figures.syncs

          app = await startApp()
          const checker = await login(app)
          const { problems, bytes } = await verify(checker, model, blockSize)
          totals.verifiedBytes += bytes
          await checker.logout()
          expect(problems, `seed ${seed}, cycle ${cycle}`).toEqual([])
        }
        totals.stable = model.stableWrites
        console.log(
          `crash consistency: seed ${seed}, ${CYCLES} SIGKILL cycles, ${totals.writes} writes issued, ${totals.acked} acknowledged ` +
            `(${totals.fua} FUA), ${totals.syncs} SYNCHRONIZE CACHE, ${totals.stable} stable writes checked, ${(totals.verifiedBytes / 1048576).toFixed(1)} MiB verified`,
        )
        expect(totals.acked).toBeGreaterThan(CYCLES * 10)
        expect(totals.fua).toBeGreaterThan(0)
        expect(totals.syncs).toBeGreaterThan(0)
      } finally {
        await app.stop()
      }
    },
    timeoutFor(CYCLES * 4),
  )
})
