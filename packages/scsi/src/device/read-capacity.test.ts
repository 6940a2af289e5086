import { describe, expect, it } from 'vitest'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import { buildReadCapacity10, buildReadCapacity16 } from '../cdb/builders.js'
import { decodeReadCapacity16 } from '../data/capacity.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

describe('READ CAPACITY (SBC-3 5.15, 5.16)', () => {
  it('(10): last LBA and block length', async () => {
    const runner = new CommandRunner(testDevice({ 0: memoryUnit({ blocks: 2048, blockSize: 4096 }) }))
    const result = await runner.runReady(0, buildReadCapacity10({}))
    expect(result.dataIn).toEqual(hex('00 00 07 ff  00 00 10 00'))
    expect((await runner.run(0, buildReadCapacity10({ lba: 5 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 2 } })
    expect((await runner.run(0, buildReadCapacity10({ lba: 5, pmi: true }))).dataIn).toEqual(hex('00 00 07 ff  00 00 10 00'))
  })

  it('(10) reports FFFFFFFFh for a capacity past 32 bits', async () => {
    const big = { blockSize: 512, blockCount: 2 ** 33, read: () => Promise.resolve(), write: () => Promise.resolve(), flush: () => Promise.resolve(), close: () => Promise.resolve() }
    const runner = new CommandRunner(testDevice({ 0: new LogicalUnit({ backstore: big }) }))
    expect((await runner.runReady(0, buildReadCapacity10({}))).dataIn).toEqual(hex('ff ff ff ff 00 00 02 00'))
    expect(decodeReadCapacity16((await runner.run(0, buildReadCapacity16({ allocationLength: 32 }))).dataIn!).lastLba).toBe(2 ** 33 - 1)
  })

  it('(16): LBPME/LBPRZ for thin LUs and the physical block exponent', async () => {
    const runner = new CommandRunner(testDevice({ 0: memoryUnit({ blocks: 4096, thinProvisioned: true, physicalBlockExponent: 3 }) }))
    const result = await runner.runReady(0, buildReadCapacity16({ allocationLength: 32 }))
    expect(result.dataIn).toEqual(
      hex(`
        00 00 00 00 00 00 0f ff  # RETURNED LOGICAL BLOCK ADDRESS 4095
        00 00 02 00              # LOGICAL BLOCK LENGTH 512
        00                       # P_TYPE, PROT_EN
        03                       # LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT 3
        c0 00                    # LBPME 1, LBPRZ 1, LOWEST ALIGNED LBA 0
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      `),
    )
    const cut = await runner.run(0, buildReadCapacity16({ allocationLength: 12 }))
    expect(cut.dataIn).toHaveLength(12)
    expect(cut.dataInLength).toBe(12)
    const none = await runner.run(0, buildReadCapacity16({ allocationLength: 0 }))
    expect(none.dataIn).toHaveLength(0)
  })

  it('a full LU has LBPME 0', async () => {
    const runner = new CommandRunner(testDevice({ 0: new LogicalUnit({ backstore: new MemoryBackstore({ size: 512 * 16 }) }) }))
    expect((await runner.runReady(0, buildReadCapacity16({ allocationLength: 32 }))).dataIn![14]).toBe(0)
  })
})
