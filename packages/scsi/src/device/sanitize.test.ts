import { describe, expect, it } from 'vitest'
import { FaultInjectingBackstore } from '../backstore/fault-injecting-backstore.js'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import { buildGetLbaStatus, buildRead10, buildRequestSense, buildSanitize, buildWrite10 } from '../cdb/builders.js'
import { decodeLbaStatus } from '../data/capacity.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'

const overwriteList = (pattern: Buffer, count = 1, invert = false) => Buffer.concat([Buffer.from([(invert ? 0x80 : 0) | count, 0, pattern.length >> 8, pattern.length & 0xff]), pattern])

async function setup(unit: LogicalUnit = memoryUnit({ blocks: 256, chunkSize: 4096, thinProvisioned: true })) {
  const runner = new CommandRunner(testDevice({ 0: unit }))
  await runner.clearUnitAttentions(0)
  await runner.run(0, buildWrite10({ lba: 0, blocks: 256 }), { dataOut: Buffer.alloc(256 * 512, 0x99) })
  return runner
}

describe('SANITIZE (SBC-3 5.30)', () => {
  it('OVERWRITE repeats the initialization pattern over every block', async () => {
    const runner = await setup()
    const list = overwriteList(Buffer.from([0xde, 0xad, 0xbe]))
    expect((await runner.run(0, buildSanitize({ serviceAction: 1, parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    const data = (await runner.run(0, buildRead10({ lba: 200, blocks: 1 }))).dataIn!
    expect(data.subarray(0, 7)).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xde, 0xad, 0xbe, 0xde]))
    expect(data[511]).toBe([0xde, 0xad, 0xbe][511 % 3])
  })

  it('OVERWRITE with INVERT and two passes ends on the inverted pattern', async () => {
    const runner = await setup()
    const list = overwriteList(Buffer.from([0x0f]), 2, true)
    await runner.run(0, buildSanitize({ serviceAction: 1, parameterListLength: list.length }), { dataOut: list })
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).dataIn).toEqual(Buffer.alloc(512, 0xf0))
  })

  it('BLOCK ERASE and CRYPTOGRAPHIC ERASE deallocate everything (a store without unmap gets zeros)', async () => {
    for (const serviceAction of [2, 3]) {
      const runner = await setup()
      expect((await runner.run(0, buildSanitize({ serviceAction }))).status).toBe(ScsiStatus.GOOD)
      expect((await runner.run(0, buildRead10({ lba: 0, blocks: 256 }), { expected: 256 * 512 })).dataIn!.every((byte) => byte === 0)).toBe(true)
      expect(decodeLbaStatus((await runner.run(0, buildGetLbaStatus({ allocationLength: 100 }))).dataIn!).descriptors).toEqual([{ lba: 0, blocks: 256, provisioningStatus: 1 }])
    }
    const store = new MemoryBackstore({ size: 256 * 512 })
    Object.defineProperty(store, 'unmap', { value: undefined })
    const runner = await setup(new LogicalUnit({ backstore: store }))
    await runner.run(0, buildSanitize({ serviceAction: 2 }))
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 256 }), { expected: 256 * 512 })).dataIn!.every((byte) => byte === 0)).toBe(true)
  })

  it('with IMMED returns at once; medium access is NOT READY, SANITIZE IN PROGRESS with progress until it ends', async () => {
    const store = new FaultInjectingBackstore(new MemoryBackstore({ size: 256 * 512, chunkSize: 4096 }), { rules: [{ op: 'write', fault: { kind: 'latency', ms: 5 } }] })
    const runner = await setup(new LogicalUnit({ backstore: store, limits: { maxTransferLength: 256 } }))
    const list = overwriteList(Buffer.from([0x11]), 3)
    expect((await runner.run(0, buildSanitize({ immed: true, serviceAction: 1, parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x04, ascq: 0x1b })
    const sense = decodeSense((await runner.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)
    expect(sense).toMatchObject({ keyName: 'NOT_READY', asc: 0x04, ascq: 0x1b })
    expect(sense.progress).toBeGreaterThanOrEqual(0)
    for (let i = 0; i < 200; i++) {
      const read = await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))
      if (read.status === ScsiStatus.GOOD) {
        expect(read.dataIn).toEqual(Buffer.alloc(512, 0x11))
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('the sanitize did not finish')
  })

  it('a failed sanitize leaves the LU in failure mode until EXIT FAILURE MODE (AUSE=1) or a good sanitize', async () => {
    const store = new FaultInjectingBackstore(new MemoryBackstore({ size: 256 * 512 }), { rules: [{ op: 'unmap', fault: { kind: 'error', code: 'EIO' }, times: 2 }] })
    const runner = await setup(new LogicalUnit({ backstore: store }))
    expect((await runner.run(0, buildSanitize({ serviceAction: 2, ause: false }))).senseData).toMatchObject({ keyName: 'MEDIUM_ERROR' })
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).senseData).toMatchObject({ keyName: 'MEDIUM_ERROR', asc: 0x31, ascq: 0x03 })
    expect((await runner.run(0, buildSanitize({ serviceAction: 0x1f }))).senseData).toMatchObject({ asc: 0x2c })
    expect((await runner.run(0, buildSanitize({ serviceAction: 2, ause: true }))).senseData).toMatchObject({ keyName: 'MEDIUM_ERROR' })
    expect((await runner.run(0, buildSanitize({ serviceAction: 0x1f }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).status).toBe(ScsiStatus.GOOD)
  })

  it('checks the parameter list and write protection', async () => {
    const runner = await setup()
    const run = (serviceAction: number, list: Buffer, length = list.length) => runner.run(0, buildSanitize({ serviceAction, parameterListLength: length }), { dataOut: list })
    expect((await run(2, Buffer.alloc(4))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 7 } })
    expect((await run(1, Buffer.alloc(0))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 7 } })
    expect((await run(1, overwriteList(Buffer.alloc(1), 0))).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 0, bit: 4 } })
    expect((await run(1, Buffer.from([0x21, 0, 0, 1, 0]))).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 0, bit: 6 } })
    expect((await run(1, Buffer.from([0x01, 0, 0, 2, 0]))).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 2 } })
    expect((await run(1, overwriteList(Buffer.alloc(1)), 5 + 100)).senseData).toMatchObject({ asc: 0x1a })
    const readOnly = await setup(memoryUnit({ readOnly: true }))
    expect((await readOnly.run(0, buildSanitize({ serviceAction: 2 }))).senseData).toMatchObject({ keyName: 'DATA_PROTECT', asc: 0x27 })
  })
})
