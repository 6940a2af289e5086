import { describe, expect, it } from 'vitest'
import { FaultInjectingBackstore } from '../backstore/fault-injecting-backstore.js'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import {
  buildGetLbaStatus,
  buildInquiry,
  buildModeSense6,
  buildPersistentReserveIn,
  buildRead10,
  buildReportLuns,
  buildRequestSense,
  buildSanitize,
  buildStartStopUnit,
  buildTestUnitReady,
  buildWrite10,
} from '../cdb/builders.js'
import { decodeLbaStatus } from '../data/capacity.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'
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

  it('refuses reserved CDB bits (byte 1 bit 6, bytes 2-6) with INVALID FIELD IN CDB, and sanitizes nothing', async () => {
    const runner = await setup()
    const list = overwriteList(Buffer.from([0x77]))
    const cases: Array<[number, number, number]> = [
      [1, 0x40, 6], // byte 1: IMMED, reserved (bit 6), AUSE, SERVICE ACTION
      [2, 0x02, 1],
      [3, 0x03, 1],
      [4, 0x80, 7],
      [5, 0x05, 2],
      [6, 0x06, 2],
    ]
    for (const [byte, value, bit] of cases) {
      for (const serviceAction of [1, 2, 3]) {
        const cdb = buildSanitize({ serviceAction, parameterListLength: serviceAction === 1 ? list.length : 0 })
        cdb[byte] = cdb[byte]! | value
        const result = await runner.run(0, cdb, serviceAction === 1 ? { dataOut: list } : {})
        expect(result.senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24, ascq: 0x00, fieldPointer: { inCdb: true, byte, bit } })
      }
    }
    // Fixed sense bytes 15-17: SKSV, C/D=1, BPV=1, BIT POINTER 6, FIELD POINTER 0001h.
    const cdb = buildSanitize({ serviceAction: 2 })
    cdb[1] = cdb[1]! | 0x40
    expect((await runner.run(0, cdb)).sense!.subarray(15, 18)).toEqual(Buffer.from([0xce, 0x00, 0x01]))
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 1 }))).dataIn).toEqual(Buffer.alloc(512, 0x99))
  })

  it('while it runs, only INQUIRY, REPORT LUNS and REQUEST SENSE are processed (SBC-3 4.11.2)', async () => {
    const store = new FaultInjectingBackstore(new MemoryBackstore({ size: 256 * 512, chunkSize: 4096 }), { rules: [{ op: 'write', fault: { kind: 'latency', ms: 5 } }] })
    const runner = await setup(new LogicalUnit({ backstore: store, removable: true, limits: { maxTransferLength: 16 } }))
    const list = overwriteList(Buffer.from([0x22]), 4)
    await runner.run(0, buildSanitize({ immed: true, serviceAction: 1, parameterListLength: list.length }), { dataOut: list })
    for (const cdb of [buildTestUnitReady(), buildModeSense6({ pageCode: 0x3f, allocationLength: 255 }), buildPersistentReserveIn({ serviceAction: 0, allocationLength: 64 }), buildStartStopUnit({ immed: true, powerCondition: 1, loej: true })]) {
      const result = await runner.run(0, cdb)
      expect(result.senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x04, ascq: 0x1b })
      expect(result.senseData!.progress).toBeGreaterThanOrEqual(0)
    }
    expect((await runner.run(0, buildInquiry({ allocationLength: 96 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildReportLuns({ allocationLength: 64 }))).status).toBe(ScsiStatus.GOOD)
    expect(decodeSense((await runner.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ keyName: 'NOT_READY', asc: 0x04, ascq: 0x1b })
    await runner.device.close()
  })

  it('goes on after ABORT TASK, LOGICAL UNIT RESET, target resets and I_T nexus loss; the command ends TASK ABORTED at once', async () => {
    const store = new MemoryBackstore({ size: 256 * 512, chunkSize: 4096 })
    store.close = () => Promise.resolve() // keep the data readable after the LU closes
    const unit = new LogicalUnit({ backstore: store, thinProvisioned: true, sanitizeThroughput: 64 * 1024 })
    const runner = await setup(unit)
    const list = overwriteList(Buffer.from([0x33]))
    const started = performance.now()
    const command = runner.run(0, buildSanitize({ serviceAction: 1, parameterListLength: list.length }), { dataOut: list, tag: 500 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(runner.device.abortTask(runner.nexus, 0, 500)).toBe('aborted')
    expect((await command).status).toBe(ScsiStatus.TASK_ABORTED)
    expect(performance.now() - started).toBeLessThan(1000) // 128 KiB at 64 KiB/s takes 2 s: the command did not wait
    runner.device.lunReset(runner.nexus, 0)
    runner.device.targetReset(runner.nexus, 'warm')
    runner.device.nexusLoss(runner.nexus)
    const again = new CommandRunner(runner.device, testNexus('again'))
    await again.clearUnitAttentions(0)
    expect((await again.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x04, ascq: 0x1b })
    // Closing the LU lifts the pacing: the sanitize finishes at once and the blocks hold the pattern.
    const closing = performance.now()
    await unit.close()
    expect(performance.now() - closing).toBeLessThan(1000)
    const data = Buffer.alloc(256 * 512)
    await store.read(0, 256, data)
    expect(data.every((byte) => byte === 0x33)).toBe(true)
  })

  it('is paced to sanitizeThroughput: 128 KiB at 256 KiB/s takes about half a second', async () => {
    const runner = await setup(memoryUnit({ blocks: 256, chunkSize: 4096, sanitizeThroughput: 256 * 1024, limits: { maxTransferLength: 64 } }))
    const list = overwriteList(Buffer.from([0x44]))
    const started = performance.now()
    expect((await runner.run(0, buildSanitize({ serviceAction: 1, parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    expect(performance.now() - started).toBeGreaterThanOrEqual(450)
    expect((await runner.run(0, buildRead10({ lba: 255, blocks: 1 }))).dataIn).toEqual(Buffer.alloc(512, 0x44))
    expect(() => memoryUnit({ sanitizeThroughput: 0 })).toThrow(RangeError)
  })
})
