// A failing backstore under the target: EIO on read (MEDIUM ERROR 11/00), EIO on write and torn writes (MEDIUM
// ERROR 0c/00), ENOSPC (DATA PROTECT 27/07), intermittent errors and a slow disk. The right CHECK CONDITION reaches
// our initiator, the session and the target stay up, and another LUN of the same target is not affected.
import diagnostics from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Session } from '@iscsi-ts/initiator'
import type { ScsiCommandError } from '@iscsi-ts/initiator'
import { FaultInjectingBackstore, MemoryBackstore } from '@iscsi-ts/scsi'
import { startTestTarget } from '@iscsi-ts/target/testing'
import type { TestTarget } from '@iscsi-ts/target/testing'
import type { ErrorEvent } from '@iscsi-ts/target'

const BLOCK = 512
const SLOW_MS = 300

let t: TestTarget
let session: Session
let faulty: FaultInjectingBackstore
const internal: string[] = []
const onError = (message: unknown): void => {
  const event = message as ErrorEvent
  if (event.kind === 'internal') internal.push(event.message)
}

beforeAll(async () => {
  diagnostics.subscribe('iscsi:target:error', onError)
  faulty = new FaultInjectingBackstore(new MemoryBackstore({ size: 4096 * BLOCK, blockSize: BLOCK }), {
    seed: 7,
    rules: [
      { op: 'read', lba: 100, blocks: 10, fault: { kind: 'error', code: 'EIO' } },
      { op: 'write', lba: 200, blocks: 10, fault: { kind: 'error', code: 'EIO' } },
      { op: 'write', lba: 300, blocks: 10, fault: { kind: 'error', code: 'ENOSPC' } },
      { op: 'read', lba: 400, blocks: 10, fault: { kind: 'latency', ms: SLOW_MS } },
      { op: 'write', lba: 500, blocks: 10, fault: { kind: 'torn', blocks: 2 } },
      { op: 'read', lba: 600, blocks: 100, probability: 0.3, fault: { kind: 'error', code: 'EIO' } },
    ],
  })
  t = await startTestTarget({ backstores: [faulty, new MemoryBackstore({ size: 4096 * BLOCK, blockSize: BLOCK })] })
  session = await Session.login({ host: t.host, port: t.port, targetName: t.targetName, initiatorName: 'iqn.2026-11.io.iscsi-ts:faults', reconnect: false })
})

afterAll(async () => {
  await session.logout().catch(() => undefined)
  await t.close()
  diagnostics.unsubscribe('iscsi:target:error', onError)
})

async function failure(work: Promise<unknown>): Promise<ScsiCommandError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e as ScsiCommandError,
  )
  if (error === undefined) throw new Error('the command succeeded; a CHECK CONDITION was expected')
  return error
}

describe('backstore failures reach the initiator as the right CHECK CONDITION', () => {
  it('EIO on read: MEDIUM ERROR, UNRECOVERED READ ERROR (03/11/00)', async () => {
    const error = await failure(session.read(0, 105, 1))
    expect(error.status).toBe(0x02)
    expect(error.sense).toMatchObject({ key: 0x03, asc: 0x11, ascq: 0x00 })
  })

  it('EIO on write: MEDIUM ERROR, WRITE ERROR (03/0c/00); a torn write too', async () => {
    for (const lba of [200, 500]) {
      const error = await failure(session.write(0, lba, Buffer.alloc(4 * BLOCK, 0x11)))
      expect(error.sense, `LBA ${lba}`).toMatchObject({ key: 0x03, asc: 0x0c, ascq: 0x00 })
    }
  })

  it('ENOSPC: DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT (07/27/07)', async () => {
    const error = await failure(session.write(0, 300, Buffer.alloc(BLOCK)))
    expect(error.sense).toMatchObject({ key: 0x07, asc: 0x27, ascq: 0x07 })
  })

  it('intermittent EIO: every read is either right or MEDIUM ERROR, never wrong data', async () => {
    const pattern = Buffer.alloc(100 * BLOCK)
    for (let i = 0; i < 100; i++) pattern.fill(i, i * BLOCK, (i + 1) * BLOCK)
    await session.write(0, 600, pattern)
    let good = 0
    let failed = 0
    for (let i = 0; i < 60; i++) {
      const lba = 600 + ((i * 7) % 100)
      try {
        const data = await session.read(0, lba, 1)
        expect(data.equals(pattern.subarray((lba - 600) * BLOCK, (lba - 599) * BLOCK))).toBe(true)
        good++
      } catch (e) {
        expect((e as ScsiCommandError).sense).toMatchObject({ key: 0x03, asc: 0x11, ascq: 0x00 })
        failed++
      }
    }
    expect(good).toBeGreaterThan(20)
    expect(failed).toBeGreaterThan(5)
  })

  it('a slow disk delays only its own LUN: the other LUN answers meanwhile', async () => {
    await session.write(1, 0, Buffer.alloc(8 * BLOCK, 0x42))
    const slowStarted = performance.now()
    const slow = session.read(0, 400, 2).then(() => performance.now() - slowStarted)
    const fast: number[] = []
    for (let i = 0; i < 10; i++) {
      const started = performance.now()
      const data = await session.read(1, 0, 8)
      fast.push(performance.now() - started)
      expect(data.equals(Buffer.alloc(8 * BLOCK, 0x42))).toBe(true)
    }
    const slowMs = await slow
    expect(slowMs).toBeGreaterThanOrEqual(SLOW_MS - 20)
    // Ten reads of the other LUN were done while the slow one waited (all of them before it returned).
    expect(fast.reduce((a, b) => a + b, 0)).toBeLessThan(slowMs)
  })

  it('leaves the session, the target and the other LUN working', async () => {
    const data = Buffer.alloc(16 * BLOCK, 0x5e)
    await session.write(0, 1000, data)
    expect((await session.read(0, 1000, 16)).equals(data)).toBe(true)
    await session.write(1, 100, data)
    expect((await session.read(1, 100, 16)).equals(data)).toBe(true)
    await session.testUnitReady(0)
    expect(t.target.stats).toEqual({ sessions: 1, connections: 1 })
    expect(faulty.events.length).toBeGreaterThan(5)
    expect(internal).toEqual([])
  })
})
