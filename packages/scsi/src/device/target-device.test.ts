import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import { buildCdb } from '../cdb/cdb.js'
import {
  buildExtendedCopy,
  buildInquiry,
  buildModeSelect10,
  buildPersistentReserveIn,
  buildPersistentReserveOut,
  buildRead10,
  buildReceiveCopyResults,
  buildRelease6,
  buildReserve6,
  buildTestUnitReady,
  buildWrite10,
  buildWrite16,
} from '../cdb/builders.js'
import { commandNames, commandSpec } from '../cdb/commands.js'
import { fieldWidth } from '../cdb/fields.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'
import type { TaskAttribute } from './nexus.js'
import { ScsiTargetDevice } from './target-device.js'

const statuses = new Set<number>(Object.values(ScsiStatus))

describe('ScsiTargetDevice.execute never rejects', () => {
  it('random CDBs, data-out and attributes always yield a valid status (and sense for CHECK CONDITION)', async () => {
    const device = testDevice({
      0: memoryUnit({ blocks: 256, thinProvisioned: true, removable: true, chunkSize: 4096 }),
      1: memoryUnit({ blocks: 64, blockSize: 4096, readOnly: true }),
    })
    const nexuses = [testNexus('a'), testNexus('b')]
    // Well-formed CDBs of every command with random fields, and raw random bytes.
    const structured = fc.oneof(
      ...commandNames.map((name) => {
        const spec = commandSpec(name)
        const fields: Record<string, fc.Arbitrary<unknown>> = {}
        for (const [field, layout] of Object.entries(spec.fields)) {
          if (field === 'serviceAction' && spec.serviceActions !== undefined) fields[field] = fc.constantFrom(...spec.serviceActions)
          else if (layout.kind === 'flag') fields[field] = fc.boolean()
          else if (field === 'blocks' || field === 'parameterListLength' || field === 'allocationLength') fields[field] = fc.integer({ min: 0, max: Math.min(2 ** fieldWidth(layout) - 1, 600) })
          else if (field === 'lba') fields[field] = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: Math.min(2 ** fieldWidth(layout), Number.MAX_SAFE_INTEGER) - 1 }))
          else fields[field] = fc.integer({ min: 0, max: Math.min(2 ** fieldWidth(layout), Number.MAX_SAFE_INTEGER) - 1 })
        }
        return fc.record(fields).map((values) => buildCdb(name, values as never))
      }),
    )
    const raw = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => Buffer.from(bytes))
    const command = fc.record({
      cdb: fc.oneof(structured, raw),
      lun: fc.constantFrom(0, 1, 2),
      nexus: fc.constantFrom(0, 1),
      attribute: fc.constantFrom<TaskAttribute>('simple', 'ordered', 'head-of-queue', 'untagged', 'aca'),
      dataOut: fc.option(fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)), { nil: undefined }),
      expected: fc.integer({ min: 0, max: 70000 }),
    })
    let tag = 0
    let runs = 0
    // A handler that throws anything but a ScsiError is a bug, even though the initiator only sees 44/00.
    const bugs: unknown[] = []
    const onBug = (message: unknown) => bugs.push(message)
    subscribe('iscsi:scsi:internal-error', onBug)
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
        runs++
        const results = await Promise.all(
          commands.map((c) =>
            device.execute({
              nexus: nexuses[c.nexus]!,
              lun: c.lun,
              cdb: c.cdb,
              tag: tag++,
              attribute: c.attribute,
              ...(c.dataOut === undefined ? {} : { dataOut: c.dataOut }),
              expectedDataInLength: c.expected,
            }),
          ),
        )
        results.forEach((result, index) => {
          expect(statuses.has(result.status)).toBe(true)
          if (result.status === ScsiStatus.CHECK_CONDITION) expect(decodeSense(result.sense!).length).toBeGreaterThanOrEqual(8)
          else expect(result.sense).toBeUndefined()
          expect(result.dataIn?.length ?? 0).toBeLessThanOrEqual(commands[index]!.expected)
          if (result.dataIn !== undefined) expect(result.dataInLength).toBeGreaterThanOrEqual(result.dataIn.length)
        })
      }),
      { numRuns: 100_000, interruptAfterTimeLimit: 2500 },
    )
    unsubscribe('iscsi:scsi:internal-error', onBug)
    expect(bugs).toEqual([])
    expect(runs).toBeGreaterThan(100)
    await device.close()
  }, 20_000)
})

describe('ScsiTargetDevice', () => {
  it('tells the transport how much data-out a CDB wants', () => {
    const device = testDevice({ 0: memoryUnit({ blockSize: 4096 }) })
    expect(device.dataOutLength(0, buildWrite10({ lba: 0, blocks: 4 }))).toBe(16384)
    expect(device.dataOutLength(0, buildModeSelect10({ pf: true, parameterListLength: 28 }))).toBe(28)
    expect(device.dataOutLength(0, buildRead10({ blocks: 4 }))).toBe(0)
    expect(device.dataOutLength(9, buildModeSelect10({ parameterListLength: 28 }))).toBe(28)
    expect(device.dataOutLength(9, buildWrite10({ blocks: 4 }))).toBe(0)
    expect(device.dataOutLength(0, Buffer.from([0xff]))).toBe(0)
  })

  it('validates the inventory', () => {
    const device = new ScsiTargetDevice()
    const unit = memoryUnit()
    device.addLogicalUnit(0, unit)
    expect(() => device.addLogicalUnit(0, memoryUnit())).toThrow(RangeError)
    expect(() => device.addLogicalUnit(1, unit)).toThrow(TypeError)
    expect(() => device.addLogicalUnit(16384, memoryUnit())).toThrow(RangeError)
    expect(unit.serial).toMatch(/^[0-9a-f]{24}$/)
    expect(() => new LogicalUnit({ backstore: new MemoryBackstore({ size: 4096 }), thinProvisioned: true, removable: false, queueDepth: -1 })).toThrow(RangeError)
  })

  it('publishes every command on the diagnostics channel', async () => {
    const events: unknown[] = []
    const listener = (message: unknown) => events.push(message)
    subscribe('iscsi:scsi:command', listener)
    try {
      const runner = new CommandRunner(testDevice(1))
      await runner.run(0, buildInquiry({ allocationLength: 36 }))
      await runner.run(3, buildTestUnitReady())
    } finally {
      unsubscribe('iscsi:scsi:command', listener)
    }
    expect(events).toMatchObject([
      { lun: 0, opcode: 0x12, command: 'INQUIRY', status: 0 },
      { lun: 3, opcode: 0x00, status: 2, senseKey: 5, asc: 0x25, ascq: 0 },
    ])
  })

  it('close waits for tasks, then closes the backstores; later commands find no LU', async () => {
    const store = new MemoryBackstore({ size: 64 * 512 })
    let closed = false
    const close = store.close.bind(store)
    store.close = () => {
      closed = true
      return close()
    }
    const device = testDevice({ 0: new LogicalUnit({ backstore: store }) })
    await device.close()
    expect(closed).toBe(true)
    expect((await new CommandRunner(device).run(0, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x25 })
  })
})

describe('reservations (dispatched to the reservations module)', () => {
  it('RESERVE(6) from one nexus makes writes of another a RESERVATION CONFLICT until RELEASE', async () => {
    const device = testDevice(1)
    const a = new CommandRunner(device, testNexus('a'))
    const b = new CommandRunner(device, testNexus('b'))
    await a.clearUnitAttentions(0)
    await b.clearUnitAttentions(0)
    expect((await a.run(0, buildReserve6())).status).toBe(ScsiStatus.GOOD)
    const conflict = await b.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })
    expect(conflict.status).toBe(ScsiStatus.RESERVATION_CONFLICT)
    expect(conflict.sense).toBeUndefined()
    expect((await b.run(0, buildInquiry({ allocationLength: 36 }))).status).toBe(ScsiStatus.GOOD)
    expect((await a.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })).status).toBe(ScsiStatus.GOOD)
    expect((await a.run(0, buildRelease6())).status).toBe(ScsiStatus.GOOD)
    expect((await b.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })).status).toBe(ScsiStatus.GOOD)
  })

  it('PERSISTENT RESERVE OUT/IN: register, reserve write exclusive; others may read but not write', async () => {
    const device = testDevice(1)
    const a = new CommandRunner(device, testNexus('a'))
    const b = new CommandRunner(device, testNexus('b'))
    await a.clearUnitAttentions(0)
    await b.clearUnitAttentions(0)
    const parameters = (key: bigint, serviceActionKey: bigint) => {
      const list = Buffer.alloc(24)
      list.writeBigUInt64BE(key, 0)
      list.writeBigUInt64BE(serviceActionKey, 8)
      return list
    }
    expect((await a.run(0, buildPersistentReserveOut({ serviceAction: 0, parameterListLength: 24 }), { dataOut: parameters(0n, 0xabcn) })).status).toBe(ScsiStatus.GOOD)
    expect((await a.run(0, buildPersistentReserveOut({ serviceAction: 1, type: 1, parameterListLength: 24 }), { dataOut: parameters(0xabcn, 0n) })).status).toBe(ScsiStatus.GOOD)
    const keys = await b.run(0, buildPersistentReserveIn({ serviceAction: 0, allocationLength: 64 }))
    expect(keys.dataIn!.readUInt32BE(4)).toBe(8)
    expect(keys.dataIn!.readBigUInt64BE(8)).toBe(0xabcn)
    expect((await b.run(0, buildRead10({ lba: 0, blocks: 1 }))).status).toBe(ScsiStatus.GOOD)
    expect((await b.run(0, buildWrite16({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })).status).toBe(ScsiStatus.RESERVATION_CONFLICT)
    // A parameter list shorter than the CDB says is a PARAMETER LIST LENGTH ERROR.
    expect((await a.run(0, buildPersistentReserveOut({ serviceAction: 0, parameterListLength: 24 }), { dataOut: Buffer.alloc(10) })).senseData).toMatchObject({ asc: 0x1a })
  })
})

describe('EXTENDED COPY (dispatched to the copy manager)', () => {
  /** LID1 parameter list: two identification CSCD descriptors and one block-to-block segment (SPC-4 6.4). */
  function copyList(source: Buffer, destination: Buffer, blocks: number, sourceLba: number, destinationLba: number): Buffer {
    const cscd = (naa: Buffer) => {
      const descriptor = Buffer.alloc(32)
      descriptor[0] = 0xe4 // identification CSCD descriptor
      descriptor[4] = 0x01 // code set binary
      descriptor[5] = 0x03 // association LU, designator type NAA
      descriptor[7] = naa.length
      naa.copy(descriptor, 8)
      descriptor.writeUIntBE(512, 29, 3) // disk block length
      return descriptor
    }
    const segment = Buffer.alloc(28)
    segment[0] = 0x02 // block device to block device
    segment.writeUInt16BE(0x18, 2)
    segment.writeUInt16BE(0, 4)
    segment.writeUInt16BE(1, 6)
    segment.writeUInt16BE(blocks, 10)
    segment.writeBigUInt64BE(BigInt(sourceLba), 12)
    segment.writeBigUInt64BE(BigInt(destinationLba), 20)
    const header = Buffer.alloc(16)
    header[1] = 0x18 // LIST ID USAGE 11b: no list identifier
    header.writeUInt16BE(64, 2)
    header.writeUInt32BE(28, 8)
    return Buffer.concat([header, cscd(source), cscd(destination), segment])
  }

  it('copies between two LUs of the device found by their NAA designators', async () => {
    const source = memoryUnit({ blocks: 128 })
    const destination = memoryUnit({ blocks: 128 })
    const device = testDevice({ 0: source, 1: destination })
    const runner = new CommandRunner(device)
    await runner.clearUnitAttentions(0)
    await runner.clearUnitAttentions(1)
    const data = Buffer.from(Array.from({ length: 8 * 512 }, (_, i) => i & 0xff))
    await runner.run(0, buildWrite10({ lba: 10, blocks: 8 }), { dataOut: data })
    const list = copyList(source.naa!, destination.naa!, 8, 10, 100)
    const result = await runner.run(0, buildExtendedCopy({ parameterListLength: list.length }), { dataOut: list })
    expect(result.status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(1, buildRead10({ lba: 100, blocks: 8 }))).dataIn!.equals(data)).toBe(true)
    const parameters = await runner.run(0, buildReceiveCopyResults({ serviceAction: 0x03, allocationLength: 256 }))
    expect(parameters.status).toBe(ScsiStatus.GOOD)
    expect(parameters.dataInLength).toBeGreaterThan(4)
  })
})

describe('a user backstore (the README example)', () => {
  function mapBackstore(blockCount: number, blockSize = 512) {
    const blocks = new Map<number, Buffer>()
    return {
      blockSize,
      blockCount,
      read(lba: number, count: number, into: Buffer) {
        for (let i = 0; i < count; i++) (blocks.get(lba + i) ?? Buffer.alloc(blockSize)).copy(into, i * blockSize)
        return Promise.resolve()
      },
      write(lba: number, data: Buffer) {
        for (let i = 0; i < data.length / blockSize; i++) blocks.set(lba + i, Buffer.from(data.subarray(i * blockSize, (i + 1) * blockSize)))
        return Promise.resolve()
      },
      unmap(lba: number, count: number) {
        for (let i = 0; i < count; i++) blocks.delete(lba + i)
        return Promise.resolve()
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    }
  }

  it('serves reads, writes and WRITE SAME with UNMAP through the device', async () => {
    const device = new ScsiTargetDevice()
    device.addLogicalUnit(1, new LogicalUnit({ backstore: mapBackstore(2048), serial: 'map-1', thinProvisioned: true }))
    const runner = new CommandRunner(device)
    await runner.clearUnitAttentions(1)
    expect((await runner.run(1, buildWrite10({ lba: 7, blocks: 2 }), { dataOut: Buffer.alloc(1024, 0x42) })).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(1, buildRead10({ lba: 7, blocks: 2 }))).dataIn).toEqual(Buffer.alloc(1024, 0x42))
    expect((await runner.run(1, buildCdb('WRITE_SAME_16', { lba: 7, blocks: 2, unmap: true, ndob: true }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(1, buildRead10({ lba: 7, blocks: 2 }))).dataIn).toEqual(Buffer.alloc(1024))
    // Without allocationStatus, GET LBA STATUS reports everything mapped.
    const status = await runner.run(1, buildCdb('GET_LBA_STATUS', { allocationLength: 24 }))
    expect(status.dataIn!.readUInt32BE(16)).toBe(2048)
  })
})
