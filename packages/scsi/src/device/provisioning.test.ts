import { describe, expect, it } from 'vitest'
import { buildGetLbaStatus, buildRead10, buildUnmap, buildWrite10, buildWriteSame10, buildWriteSame16 } from '../cdb/builders.js'
import { decodeLbaStatus } from '../data/capacity.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'
import { encodeUnmapParameters } from './provisioning.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

/** A thin LU of 1024 blocks over 8-block (4 KiB) memory chunks. */
async function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const unit = memoryUnit({ blocks: 1024, chunkSize: 4096, thinProvisioned: true, ...options })
  const runner = new CommandRunner(testDevice({ 0: unit }))
  await runner.clearUnitAttentions(0)
  return { runner, unit }
}

const lbaStatus = async (runner: CommandRunner, lba = 0, allocationLength = 1024) => {
  const result = await runner.run(0, buildGetLbaStatus({ lba, allocationLength }))
  expect(result.status).toBe(ScsiStatus.GOOD)
  return decodeLbaStatus(result.dataIn!).descriptors.map((d) => [d.lba, d.blocks, d.provisioningStatus])
}

describe('UNMAP (SBC-3 5.28)', () => {
  it('encodes its parameter list', () => {
    expect(encodeUnmapParameters([{ lba: 16, blocks: 8 }])).toEqual(
      hex(`
        00 16                    # UNMAP DATA LENGTH 22
        00 10                    # UNMAP BLOCK DESCRIPTOR DATA LENGTH 16
        00 00 00 00              # reserved
        00 00 00 00 00 00 00 10  # LBA 16
        00 00 00 08              # NUMBER OF LOGICAL BLOCKS 8
        00 00 00 00              # reserved
      `),
    )
  })

  it('deallocates: GET LBA STATUS shows it and the blocks read zeros', async () => {
    const { runner } = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 64 }), { dataOut: Buffer.alloc(64 * 512, 0x33) })
    expect(await lbaStatus(runner)).toEqual([
      [0, 64, 0],
      [64, 960, 1],
    ])
    const list = encodeUnmapParameters([
      { lba: 8, blocks: 16 },
      { lba: 40, blocks: 0 },
      { lba: 48, blocks: 8 },
    ])
    expect((await runner.run(0, buildUnmap({ parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    expect(await lbaStatus(runner)).toEqual([
      [0, 8, 0],
      [8, 16, 1],
      [24, 24, 0],
      [48, 8, 1],
      [56, 8, 0],
      [64, 960, 1],
    ])
    const data = (await runner.run(0, buildRead10({ lba: 0, blocks: 64 }))).dataIn!
    for (let block = 0; block < 64; block++) expect(data[block * 512], `block ${block}`).toBe((block >= 8 && block < 24) || (block >= 48 && block < 56) ? 0 : 0x33)
  })

  it('checks the parameter list, limits and range before unmapping anything', async () => {
    const { runner } = await setup({ limits: { maxUnmapDescriptorCount: 2, maxUnmapLbaCount: 100 } })
    await runner.run(0, buildWrite10({ lba: 0, blocks: 8 }), { dataOut: Buffer.alloc(8 * 512, 1) })
    const run = (list: Buffer, length = list.length) => runner.run(0, buildUnmap({ parameterListLength: length }), { dataOut: list })
    expect((await run(Buffer.alloc(0))).status).toBe(ScsiStatus.GOOD)
    expect((await run(Buffer.alloc(6))).senseData).toMatchObject({ asc: 0x1a })
    expect((await run(encodeUnmapParameters([{ lba: 0, blocks: 1 }]), 40)).senseData).toMatchObject({ asc: 0x1a })
    const three = encodeUnmapParameters([
      { lba: 0, blocks: 1 },
      { lba: 2, blocks: 1 },
      { lba: 4, blocks: 1 },
    ])
    expect((await run(three)).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 2 } })
    const tooMany = encodeUnmapParameters([
      { lba: 0, blocks: 60 },
      { lba: 100, blocks: 60 },
    ])
    expect((await run(tooMany)).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 32 } })
    const outOfRange = encodeUnmapParameters([
      { lba: 0, blocks: 4 },
      { lba: 1020, blocks: 8 },
    ])
    expect((await run(outOfRange)).senseData).toMatchObject({ asc: 0x21 })
    // Nothing was unmapped by the refused lists.
    expect(await lbaStatus(runner, 0, 40)).toEqual([
      [0, 8, 0],
      [8, 1016, 1],
    ])
    expect((await runner.run(0, buildUnmap({ anchor: true, parameterListLength: 24 }), { dataOut: encodeUnmapParameters([{ lba: 0, blocks: 1 }]) })).senseData).toMatchObject({
      asc: 0x24,
      fieldPointer: { inCdb: true, byte: 1, bit: 0 },
    })
  })

  it('is not supported by a fully provisioned LU', async () => {
    const { runner } = await setup({ thinProvisioned: false })
    expect((await runner.run(0, buildUnmap({ parameterListLength: 0 }))).senseData).toMatchObject({ asc: 0x20 })
    expect((await runner.run(0, buildGetLbaStatus({ allocationLength: 100 }))).senseData).toMatchObject({ asc: 0x20 })
  })
})

describe('WRITE SAME (SBC-3 5.42, 5.43)', () => {
  it('writes the block over the range', async () => {
    const { runner } = await setup()
    const one = Buffer.alloc(512, 0x5c)
    expect((await runner.run(0, buildWriteSame10({ lba: 3, blocks: 10 }), { dataOut: one })).status).toBe(ScsiStatus.GOOD)
    const data = (await runner.run(0, buildRead10({ lba: 2, blocks: 12 }))).dataIn!
    expect(data.subarray(0, 512).every((byte) => byte === 0)).toBe(true)
    expect(data.subarray(512, 11 * 512).every((byte) => byte === 0x5c)).toBe(true)
    expect(data.subarray(11 * 512).every((byte) => byte === 0)).toBe(true)
  })

  it('with UNMAP deallocates whatever the block holds (SBC-3 5.42: UNMAP 1, ANCHOR 0), the blocks then read zeros', async () => {
    const { runner } = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 32 }), { dataOut: Buffer.alloc(32 * 512, 1) })
    expect((await runner.run(0, buildWriteSame16({ lba: 8, blocks: 8, unmap: true }), { dataOut: Buffer.alloc(512) })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildWriteSame16({ lba: 16, blocks: 8, unmap: true, ndob: true }))).status).toBe(ScsiStatus.GOOD)
    expect(await lbaStatus(runner, 0, 100)).toEqual([
      [0, 8, 0],
      [8, 16, 1],
      [24, 8, 0],
      [32, 992, 1],
    ])
    await runner.run(0, buildWrite10({ lba: 0, blocks: 8 }), { dataOut: Buffer.alloc(8 * 512, 1) })
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 8, unmap: true }), { dataOut: Buffer.alloc(512, 9) })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 8 }))).dataIn).toEqual(Buffer.alloc(8 * 512))
    expect((await lbaStatus(runner, 0, 100))[0]).toEqual([0, 24, 1])
    // NDOB without UNMAP writes zeros.
    await runner.run(0, buildWriteSame16({ lba: 0, blocks: 2, ndob: true }))
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn).toEqual(Buffer.alloc(1024))
  })

  it('with NUMBER OF LOGICAL BLOCKS 0 (WSNZ 0) writes from the LBA to the last one, within MAXIMUM WRITE SAME LENGTH', async () => {
    const { runner } = await setup({ limits: { maxWriteSameLength: 64 } })
    await runner.run(0, buildWrite10({ lba: 950, blocks: 10 }), { dataOut: Buffer.alloc(10 * 512, 0x01) })
    expect((await runner.run(0, buildWriteSame10({ lba: 960, blocks: 0 }), { dataOut: Buffer.alloc(512, 0x7e) })).status).toBe(ScsiStatus.GOOD)
    const tail = (await runner.run(0, buildRead10({ lba: 950, blocks: 74 }), { expected: 74 * 512 })).dataIn!
    expect(tail.subarray(0, 10 * 512).every((byte) => byte === 0x01)).toBe(true)
    expect(tail.subarray(10 * 512).every((byte) => byte === 0x7e)).toBe(true)
    // 1024 - 959 = 65 blocks implied: over the limit. The LBA past the end is out of range, not "too long".
    expect((await runner.run(0, buildWriteSame16({ lba: 959, blocks: 0 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 10 } })
    for (const lba of [1024, 1025, 0xffffffff]) {
      expect((await runner.run(0, buildWriteSame10({ lba, blocks: 0 }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x21 })
    }
  })

  it('refuses too long a range, ANCHOR, UNMAP on a full LU, and a missing block', async () => {
    const { runner } = await setup({ limits: { maxWriteSameLength: 64 } })
    const one = Buffer.alloc(512)
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 0 }), { dataOut: one })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 7 } })
    expect((await runner.run(0, buildWriteSame16({ lba: 0, blocks: 65 }), { dataOut: one })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 10 } })
    expect((await runner.run(0, buildWriteSame16({ lba: 1020, blocks: 8 }), { dataOut: one })).senseData).toMatchObject({ asc: 0x21 })
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 1, anchor: true }), { dataOut: one })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 1, bit: 4 } })
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 1 }))).senseData).toMatchObject({ asc: 0x24 })
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(256) })).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24 })
    expect((await runner.run(0, buildWriteSame10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(1024) })).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24 })
    expect((await runner.run(0, buildWriteSame16({ lba: 0, blocks: 1, ndob: true }), { dataOut: Buffer.alloc(512) })).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24 })
    const full = (await setup({ thinProvisioned: false })).runner
    expect((await full.run(0, buildWriteSame10({ lba: 0, blocks: 1, unmap: true }), { dataOut: one })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 1, bit: 3 } })
  })

  it('refuses a data-out transfer announced larger than its one block, as when the transport kept only that block', async () => {
    const { runner } = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 8 }), { dataOut: Buffer.alloc(8 * 512, 0x5a) })
    const send = (cdb: Buffer, dataOut: Buffer, expectedDataOutLength: number) =>
      runner.device.execute({ nexus: runner.nexus, lun: 0, cdb, tag: 77, attribute: 'simple', dataOut, expectedDataOutLength, expectedDataInLength: 0 })
    for (const cdb of [buildWriteSame10({ lba: 0, blocks: 8, unmap: true }), buildWriteSame16({ lba: 0, blocks: 8, unmap: true })]) {
      const result = await send(cdb, Buffer.alloc(512), 1024)
      expect(result.status).toBe(ScsiStatus.CHECK_CONDITION)
      expect([result.sense![2]! & 0x0f, result.sense![12], result.sense![13]]).toEqual([0x05, 0x24, 0x00]) // ILLEGAL REQUEST, INVALID FIELD IN CDB
    }
    // NDOB announces no data-out at all.
    expect((await send(buildWriteSame16({ lba: 0, blocks: 8, unmap: true, ndob: true }), Buffer.alloc(0), 512)).status).toBe(ScsiStatus.CHECK_CONDITION)
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 8 }))).dataIn).toEqual(Buffer.alloc(8 * 512, 0x5a))
    expect((await send(buildWriteSame10({ lba: 0, blocks: 8, unmap: true }), Buffer.alloc(512), 512)).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 8 }))).dataIn).toEqual(Buffer.alloc(8 * 512))
  })
})

describe('GET LBA STATUS (SBC-3 5.16)', () => {
  it('returns descriptors from the starting LBA, as many as the allocation length holds', async () => {
    const { runner } = await setup()
    for (const lba of [0, 16, 32]) await runner.run(0, buildWrite10({ lba, blocks: 8 }), { dataOut: Buffer.alloc(4096, 1) })
    const result = await runner.run(0, buildGetLbaStatus({ lba: 4, allocationLength: 8 + 2 * 16 }))
    expect(result.dataIn).toEqual(
      hex(`
        00 00 00 24              # PARAMETER DATA LENGTH 36 (4 + 2 descriptors)
        00 00 00 00              # reserved
        00 00 00 00 00 00 00 04  # LBA 4
        00 00 00 04              # 4 blocks
        00 00 00 00              # mapped
        00 00 00 00 00 00 00 08  # LBA 8
        00 00 00 08              # 8 blocks
        01 00 00 00              # deallocated
      `),
    )
    expect(await lbaStatus(runner, 30)).toEqual([
      [30, 2, 1],
      [32, 8, 0],
      [40, 984, 1],
    ])
  })

  it('refuses a starting LBA past the end', async () => {
    const { runner } = await setup()
    expect((await runner.run(0, buildGetLbaStatus({ lba: 1024, allocationLength: 24 }))).senseData).toMatchObject({ asc: 0x21 })
    expect((await runner.run(0, buildGetLbaStatus({ lba: 1023, allocationLength: 24 }))).status).toBe(ScsiStatus.GOOD)
  })
})
