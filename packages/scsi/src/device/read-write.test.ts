import { describe, expect, it } from 'vitest'
import type { Backstore } from '../backstore/backstore.js'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import {
  buildOrwrite16,
  buildPreFetch10,
  buildPreFetch16,
  buildRead10,
  buildRead12,
  buildRead16,
  buildRead6,
  buildSynchronizeCache10,
  buildSynchronizeCache16,
  buildVerify10,
  buildVerify16,
  buildWrite10,
  buildWrite12,
  buildWrite16,
  buildWrite6,
  buildWriteAndVerify10,
  buildWriteAtomic16,
} from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, testDevice } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'

/** A memory backstore that records the calls the device server makes. */
function recording(blocks = 1024, extra: Partial<Backstore> = {}) {
  const store = new MemoryBackstore({ size: blocks * 512, chunkSize: 4096 })
  const calls: string[] = []
  const write = store.write.bind(store)
  const flush = store.flush.bind(store)
  store.write = (lba, data, options) => {
    calls.push(`write ${lba} ${data.length / 512}${options?.fua === true ? ' fua' : ''}`)
    return write(lba, data, options)
  }
  store.flush = () => {
    calls.push('flush')
    return flush()
  }
  return { store: Object.assign(store, extra), calls }
}

async function setup(options: { readOnly?: boolean; blocks?: number; limits?: { maxTransferLength?: number } } = {}) {
  const { store, calls } = recording(options.blocks)
  const device = testDevice({ 0: new LogicalUnit({ backstore: store, ...options }) })
  const runner = new CommandRunner(device)
  await runner.clearUnitAttentions(0)
  return { runner, store, calls }
}

const pattern = (blocks: number, seed: number) => Buffer.from(Array.from({ length: blocks * 512 }, (_, i) => (i * 7 + seed) & 0xff))

describe('READ and WRITE (SBC-3 5.8-5.11, 5.35-5.38)', () => {
  it('write then read back through every CDB size', async () => {
    const { runner } = await setup()
    const cases = [
      [buildWrite6({ lba: 1, blocks: 2 }), buildRead6({ lba: 1, blocks: 2 })],
      [buildWrite10({ lba: 10, blocks: 3 }), buildRead10({ lba: 10, blocks: 3 })],
      [buildWrite12({ lba: 20, blocks: 4 }), buildRead12({ lba: 20, blocks: 4 })],
      [buildWrite16({ lba: 30, blocks: 5 }), buildRead16({ lba: 30, blocks: 5 })],
    ] as const
    for (const [index, [write, read]] of cases.entries()) {
      const blocks = index + 2
      const data = pattern(blocks, index)
      const written = await runner.run(0, write, { dataOut: data })
      expect(written).toMatchObject({ status: ScsiStatus.GOOD, dataOutLength: blocks * 512 })
      const back = await runner.run(0, read)
      expect(back.status).toBe(ScsiStatus.GOOD)
      expect(back.dataIn).toEqual(data)
      expect(back.dataInLength).toBe(blocks * 512)
    }
  })

  it('READ(6) with TRANSFER LENGTH 0 reads 256 blocks; READ(10) with 0 reads none', async () => {
    const { runner } = await setup()
    expect((await runner.run(0, buildRead6({ lba: 0, blocks: 0 }), { expected: 256 * 512 })).dataIn).toHaveLength(256 * 512)
    const none = await runner.run(0, buildRead10({ lba: 0, blocks: 0 }))
    expect(none).toMatchObject({ status: ScsiStatus.GOOD, dataInLength: 0 })
    expect(none.dataIn).toHaveLength(0)
  })

  it('never sends more than the expected length, and reports the full length for the residual', async () => {
    const { runner } = await setup()
    const result = await runner.run(0, buildRead10({ lba: 0, blocks: 8 }), { expected: 1000 })
    expect(result.dataIn).toHaveLength(1000)
    expect(result.dataInLength).toBe(4096)
    const zero = await runner.run(0, buildRead10({ lba: 0, blocks: 8 }), { expected: 0 })
    expect(zero.dataIn).toHaveLength(0)
    expect(zero.dataInLength).toBe(4096)
  })

  it('FUA reaches the backstore as a write-through; DPO changes nothing', async () => {
    const { runner, calls } = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 1, fua: true }), { dataOut: Buffer.alloc(512) })
    await runner.run(0, buildWrite16({ lba: 1, blocks: 1, dpo: true }), { dataOut: Buffer.alloc(512) })
    expect(calls).toEqual(['write 0 1 fua', 'write 1 1'])
  })

  it('LBA out of range (21/00), including 0-block transfers past the end', async () => {
    const { runner } = await setup({ blocks: 100 })
    const oob = { keyName: 'ILLEGAL_REQUEST', asc: 0x21, ascq: 0 }
    expect((await runner.run(0, buildRead10({ lba: 99, blocks: 2 }))).senseData).toMatchObject(oob)
    expect((await runner.run(0, buildRead10({ lba: 101, blocks: 0 }))).senseData).toMatchObject(oob)
    expect((await runner.run(0, buildRead16({ lba: 0xffff_ffff_ffff_ffffn, blocks: 1 }))).senseData).toMatchObject(oob)
    expect((await runner.run(0, buildWrite16({ lba: 100, blocks: 1 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject(oob)
    expect((await runner.run(0, buildRead10({ lba: 99, blocks: 1 }))).status).toBe(ScsiStatus.GOOD)
  })

  it('RDPROTECT/WRPROTECT and oversize transfers are invalid fields with their pointers', async () => {
    const { runner } = await setup({ limits: { maxTransferLength: 16 } })
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1, rdprotect: 1 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 1, bit: 7 } })
    expect((await runner.run(0, buildWrite12({ lba: 0, blocks: 1, wrprotect: 2 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 1, bit: 7 } })
    expect((await runner.run(0, buildRead16({ lba: 0, blocks: 17 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 10 } })
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 16 }))).status).toBe(ScsiStatus.GOOD)
  })

  it('a write with less data-out than the CDB asks writes only the whole blocks received', async () => {
    const { runner, calls } = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: Buffer.alloc(1024, 0x61) })
    const short = await runner.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: Buffer.alloc(512, 0x62) })
    expect(short).toMatchObject({ status: ScsiStatus.GOOD, dataOutLength: 1024 })
    const back = (await runner.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn!
    expect(back[0]).toBe(0x62)
    expect(back[512]).toBe(0x61)
    // No data at all: nothing written, GOOD (the transport reports the overflow residual).
    expect(await runner.run(0, buildWrite10({ lba: 0, blocks: 1 }))).toMatchObject({ status: ScsiStatus.GOOD, dataOutLength: 512 })
    // Data ending inside a block cannot be written.
    const partial = await runner.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(200) })
    expect(partial.senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x0e, ascq: 0x03 })
    expect(calls).toEqual(['write 0 2', 'write 0 1'])
  })

  it('a read-only LU refuses writes with DATA PROTECT, WRITE PROTECTED (27/00) and still reads', async () => {
    const { runner } = await setup({ readOnly: true })
    for (const cdb of [buildWrite10({ lba: 0, blocks: 1 }), buildWriteAndVerify10({ lba: 0, blocks: 1 }), buildOrwrite16({ lba: 0, blocks: 1 })]) {
      expect((await runner.run(0, cdb, { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ keyName: 'DATA_PROTECT', asc: 0x27, ascq: 0 })
    }
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).status).toBe(ScsiStatus.GOOD)
  })
})

describe('VERIFY and WRITE AND VERIFY (SBC-3 5.31-5.33, 5.39-5.41)', () => {
  it('BYTCHK 0 reads the medium, 1 compares every block, 3 compares one block against each', async () => {
    const { runner } = await setup()
    const data = pattern(4, 3)
    await runner.run(0, buildWrite10({ lba: 8, blocks: 4 }), { dataOut: data })
    expect((await runner.run(0, buildVerify10({ lba: 8, blocks: 4 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildVerify10({ lba: 8, blocks: 4, bytchk: 1 }), { dataOut: data })).status).toBe(ScsiStatus.GOOD)
    const wrong = Buffer.from(data)
    wrong[3 * 512 + 17] = wrong[3 * 512 + 17]! ^ 0xff
    const miscompare = await runner.run(0, buildVerify16({ lba: 8, blocks: 4, bytchk: 1 }), { dataOut: wrong })
    expect(miscompare.senseData).toMatchObject({ keyName: 'MISCOMPARE', asc: 0x1d, ascq: 0, information: BigInt(3 * 512 + 17) })
    await runner.run(0, buildWrite10({ lba: 20, blocks: 3 }), { dataOut: Buffer.concat([pattern(1, 9), pattern(1, 9), pattern(1, 9)]) })
    expect((await runner.run(0, buildVerify10({ lba: 20, blocks: 3, bytchk: 3 }), { dataOut: pattern(1, 9) })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildVerify10({ lba: 20, blocks: 4, bytchk: 3 }), { dataOut: pattern(1, 9) })).senseData).toMatchObject({ keyName: 'MISCOMPARE', information: BigInt(3 * 512) })
  })

  it('refuses BYTCHK 10b, VRPROTECT and missing compare data', async () => {
    const { runner } = await setup()
    expect((await runner.run(0, buildVerify10({ lba: 0, blocks: 1, bytchk: 2 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 1, bit: 2 } })
    expect((await runner.run(0, buildVerify10({ lba: 0, blocks: 1, vrprotect: 1 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 1, bit: 7 } })
    expect((await runner.run(0, buildVerify10({ lba: 0, blocks: 2, bytchk: 1 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 7 } })
    expect((await runner.run(0, buildVerify10({ lba: 1020, blocks: 8 }))).senseData).toMatchObject({ asc: 0x21 })
  })

  it('WRITE AND VERIFY writes through and checks the medium', async () => {
    const { runner, calls } = await setup()
    const data = pattern(2, 5)
    expect((await runner.run(0, buildWriteAndVerify10({ lba: 4, blocks: 2, bytchk: 1 }), { dataOut: data })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 4, blocks: 2 }))).dataIn).toEqual(data)
    expect(calls).toEqual(['write 4 2 fua'])
    expect((await runner.run(0, buildWriteAndVerify10({ lba: 4, blocks: 1, bytchk: 2 }), { dataOut: data })).senseData).toMatchObject({ asc: 0x24 })
  })
})

describe('ORWRITE, WRITE ATOMIC, PRE-FETCH, SYNCHRONIZE CACHE', () => {
  it('ORWRITE(16) ORs the data-out into the medium', async () => {
    const { runner } = await setup()
    await runner.run(0, buildWrite10({ lba: 2, blocks: 1 }), { dataOut: Buffer.alloc(512, 0x0f) })
    expect((await runner.run(0, buildOrwrite16({ lba: 2, blocks: 1 }), { dataOut: Buffer.alloc(512, 0xa0) })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 2, blocks: 1 }))).dataIn).toEqual(Buffer.alloc(512, 0xaf))
    expect((await runner.run(0, buildOrwrite16({ lba: 2, blocks: 1, orprotect: 1 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ asc: 0x24 })
  })

  it('WRITE ATOMIC(16) is one backstore write within the atomic limits', async () => {
    const { runner, calls } = await setup()
    const data = pattern(4, 1)
    expect((await runner.run(0, buildWriteAtomic16({ lba: 8, blocks: 4, fua: true }), { dataOut: data })).status).toBe(ScsiStatus.GOOD)
    expect(calls).toEqual(['write 8 4 fua'])
    expect((await runner.run(0, buildRead10({ lba: 8, blocks: 4 }))).dataIn).toEqual(data)
    expect((await runner.run(0, buildWriteAtomic16({ lba: 0, blocks: 1, atomicBoundary: 1 }), { dataOut: data })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 10 } })
    expect((await runner.run(0, buildWriteAtomic16({ lba: 0, blocks: 4 }), { dataOut: data.subarray(0, 1024) })).senseData).toMatchObject({ asc: 0x24 })
    expect(calls).toHaveLength(1)
  })

  it('WRITE ATOMIC(16) is not supported over a backstore without atomic writes', async () => {
    const store = new MemoryBackstore({ size: 64 * 512 })
    Object.defineProperty(store, 'atomicWriteBlocks', { value: undefined })
    const runner = new CommandRunner(testDevice({ 0: new LogicalUnit({ backstore: store }) }))
    expect((await runner.runReady(0, buildWriteAtomic16({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ asc: 0x20 })
  })

  it('PRE-FETCH answers CONDITION MET when the range fits the prefetch capacity', async () => {
    const { runner } = await setup({ limits: { maxTransferLength: 64 } })
    expect((await runner.run(0, buildPreFetch10({ lba: 0, blocks: 64 }))).status).toBe(ScsiStatus.CONDITION_MET)
    expect((await runner.run(0, buildPreFetch16({ lba: 0, blocks: 65 }))).status).toBe(ScsiStatus.GOOD)
    // PREFETCH LENGTH 0: to the last LBA (1024 - 1000 = 24 blocks, which fit).
    expect((await runner.run(0, buildPreFetch10({ lba: 1000, blocks: 0 }))).status).toBe(ScsiStatus.CONDITION_MET)
    expect((await runner.run(0, buildPreFetch10({ lba: 1025, blocks: 0 }))).senseData).toMatchObject({ asc: 0x21 })
  })

  it('SYNCHRONIZE CACHE checks its range, then flushes', async () => {
    const { runner, calls } = await setup()
    expect((await runner.run(0, buildSynchronizeCache10({ lba: 0, blocks: 0 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildSynchronizeCache16({ lba: 1000, blocks: 30 }))).senseData).toMatchObject({ asc: 0x21 })
    expect(calls).toEqual(['flush'])
  })
})
