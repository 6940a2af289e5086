import { describe, expect, it } from 'vitest'
import { buildRead10, buildSynchronizeCache10, buildUnmap, buildWrite10 } from '../cdb/builders.js'
import { LogicalUnit } from '../device/logical-unit.js'
import { encodeUnmapParameters } from '../device/provisioning.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, testDevice } from '../testing.js'
import { FaultInjectingBackstore, type FaultPlan } from './fault-injecting-backstore.js'
import { MemoryBackstore } from './memory-backstore.js'

const memory = () => new MemoryBackstore({ size: 256 * 512, chunkSize: 4096 })

describe('FaultInjectingBackstore', () => {
  it('fails the matching operations with the planned error, only in range and only `times`', async () => {
    const store = new FaultInjectingBackstore(memory(), { rules: [{ op: 'read', lba: 10, blocks: 5, fault: { kind: 'error', code: 'EIO' }, times: 2 }] })
    const out = Buffer.alloc(512)
    await expect(store.read(0, 1, out)).resolves.toBeUndefined()
    await expect(store.read(9, 2, Buffer.alloc(1024))).rejects.toMatchObject({ code: 'EIO' })
    await expect(store.read(14, 1, out)).rejects.toMatchObject({ code: 'EIO' })
    await expect(store.read(12, 1, out)).resolves.toBeUndefined()
    expect(store.events.map((event) => [event.op, event.lba])).toEqual([
      ['read', 9],
      ['read', 14],
    ])
  })

  it('is deterministic for a seed', async () => {
    const plan: FaultPlan = { seed: 42, rules: [{ op: 'write', probability: 0.3, fault: { kind: 'error', code: 'EIO' } }] }
    const outcomes = async () => {
      const store = new FaultInjectingBackstore(memory(), plan)
      const results: boolean[] = []
      for (let i = 0; i < 50; i++) {
        results.push(
          await store.write(i, Buffer.alloc(512)).then(
            () => true,
            () => false,
          ),
        )
      }
      return results
    }
    const first = await outcomes()
    expect(await outcomes()).toEqual(first)
    expect(first.filter((ok) => !ok).length).toBeGreaterThan(5)
    expect(first.filter((ok) => ok).length).toBeGreaterThan(20)
  })

  it('tears writes: a prefix lands, the call fails', async () => {
    const inner = memory()
    const store = new FaultInjectingBackstore(inner, { rules: [{ op: 'write', fault: { kind: 'torn', blocks: 3 } }] })
    await expect(store.write(0, Buffer.alloc(8 * 512, 0xee))).rejects.toMatchObject({ code: 'EIO' })
    const out = Buffer.alloc(8 * 512)
    await inner.read(0, 8, out)
    expect(out[2 * 512]).toBe(0xee)
    expect(out[3 * 512]).toBe(0)
  })

  it('adds latency and then runs the operation', async () => {
    const store = new FaultInjectingBackstore(memory(), { rules: [{ op: 'flush', fault: { kind: 'latency', ms: 30 } }] })
    const started = performance.now()
    await store.flush()
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
    expect(store.events).toHaveLength(1)
    store.clear()
    expect(store.events).toHaveLength(0)
  })
})

describe('backstore failures become the right CHECK CONDITION', () => {
  const setup = (plan: FaultPlan) => {
    const backstore = new FaultInjectingBackstore(memory(), plan)
    const device = testDevice({ 0: new LogicalUnit({ backstore, thinProvisioned: true }) })
    return new CommandRunner(device)
  }

  it('EIO on read is MEDIUM ERROR, UNRECOVERED READ ERROR (11/00)', async () => {
    const runner = setup({ rules: [{ op: 'read', fault: { kind: 'error', code: 'EIO' } }] })
    const result = await runner.runReady(0, buildRead10({ lba: 0, blocks: 1 }))
    expect(result.status).toBe(ScsiStatus.CHECK_CONDITION)
    expect(result.senseData).toMatchObject({ keyName: 'MEDIUM_ERROR', asc: 0x11, ascq: 0x00 })
  })

  it('EIO on write is MEDIUM ERROR, WRITE ERROR (0c/00); a torn write too', async () => {
    const runner = setup({ rules: [{ op: 'write', lba: 0, blocks: 1, fault: { kind: 'torn' } }, { op: 'write', fault: { kind: 'error', code: 'EIO' } }] })
    for (const lba of [0, 5]) {
      const result = await runner.runReady(0, buildWrite10({ lba, blocks: 2 }), { dataOut: Buffer.alloc(1024) })
      expect(result.senseData).toMatchObject({ keyName: 'MEDIUM_ERROR', asc: 0x0c, ascq: 0x00 })
    }
  })

  it('ENOSPC is DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT (27/07)', async () => {
    const runner = setup({ rules: [{ op: 'write', fault: { kind: 'error', code: 'ENOSPC' } }] })
    const result = await runner.runReady(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })
    expect(result.senseData).toMatchObject({ keyName: 'DATA_PROTECT', asc: 0x27, ascq: 0x07 })
  })

  it('flush and unmap failures are WRITE ERROR; a non-errno throw is HARDWARE ERROR 44/00', async () => {
    const runner = setup({ rules: [{ op: 'flush', fault: { kind: 'error', code: 'EIO' } }, { op: 'unmap', fault: { kind: 'error', code: 'EIO' } }] })
    expect((await runner.runReady(0, buildSynchronizeCache10({}))).senseData).toMatchObject({ keyName: 'MEDIUM_ERROR', asc: 0x0c })
    const list = encodeUnmapParameters([{ lba: 0, blocks: 8 }])
    expect((await runner.run(0, buildUnmap({ parameterListLength: list.length }), { dataOut: list })).senseData).toMatchObject({ keyName: 'MEDIUM_ERROR', asc: 0x0c })

    const broken = new MemoryBackstore({ size: 64 * 512 })
    broken.read = () => Promise.reject(new TypeError('bug'))
    const other = new CommandRunner(testDevice({ 0: new LogicalUnit({ backstore: broken }) }))
    expect((await other.runReady(0, buildRead10({ lba: 0, blocks: 1 }))).senseData).toMatchObject({ keyName: 'HARDWARE_ERROR', asc: 0x44, ascq: 0 })
  })
})
