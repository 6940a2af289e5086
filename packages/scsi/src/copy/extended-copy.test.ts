import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ScsiError } from '../errors.js'
import type { Nexus } from '../device/nexus.js'
import type { Backstore } from '../backstore/backstore.js'
import { type CopyUnit, CopyManager } from './extended-copy.js'

// ---- an in-memory backstore over a Buffer ----

class BufferBackstore implements Backstore {
  readonly data: Buffer
  readonly reads: Array<{ lba: number; blocks: number; length: number }> = []
  readonly writes: Array<{ lba: number; length: number }> = []
  /** Called before each read; may throw or wait. */
  beforeRead: (() => Promise<void>) | undefined

  readonly blockSize: number
  readonly blockCount: number
  readonly readOnly: boolean

  constructor(blockSize: number, blockCount: number, readOnly = false) {
    this.blockSize = blockSize
    this.blockCount = blockCount
    this.readOnly = readOnly
    this.data = Buffer.alloc(blockSize * blockCount)
  }

  async read(lba: number, blocks: number, into: Buffer): Promise<void> {
    await this.beforeRead?.()
    if (lba + blocks > this.blockCount || into.length !== blocks * this.blockSize) throw new RangeError('read out of range')
    this.reads.push({ lba, blocks, length: into.length })
    this.data.copy(into, 0, lba * this.blockSize, (lba + blocks) * this.blockSize)
  }

  write(lba: number, data: Buffer): Promise<void> {
    if (this.readOnly) return Promise.reject(new Error('read-only'))
    if (lba * this.blockSize + data.length > this.data.length) return Promise.reject(new RangeError('write out of range'))
    this.writes.push({ lba, length: data.length })
    data.copy(this.data, lba * this.blockSize)
    return Promise.resolve()
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  /** Block `lba` filled with a recognisable pattern. */
  fillPattern(tag: number): void {
    for (let i = 0; i < this.data.length; i++) this.data[i] = (tag + Math.floor(i / this.blockSize) * 7 + i) & 0xff
  }

  block(lba: number, count = 1): Buffer {
    return this.data.subarray(lba * this.blockSize, (lba + count) * this.blockSize)
  }
}

// ---- parameter list builders (SPC-4 6.4.3) ----

const NAA_1 = Buffer.from('6001405aaaaaaaaa1111111111111111', 'hex')
const NAA_2 = Buffer.from('6001405bbbbbbbbb2222222222222222', 'hex')
const NAA_UNKNOWN = Buffer.from('6001405ccccccccc3333333333333333', 'hex')

const nexus = (id: string): Nexus => ({ id, initiatorPort: `${id},i,0x000000000001`, targetPort: 'iqn.t,t,0x0001', relativeTargetPortId: 1, transportId: Buffer.alloc(0) })
const I1 = nexus('iqn.initiator-1')
const I2 = nexus('iqn.initiator-2')

interface CscdOptions {
  type?: number
  peripheral?: number
  designatorType?: number
}

/** Identification CSCD descriptor (SPC-4 6.4.5.3, table 119) with block device parameters (table 123). */
function cscd(designator: Buffer, blockLength: number, { type = 0xe4, peripheral = 0, designatorType = 3 }: CscdOptions = {}): Buffer {
  const d = Buffer.alloc(32)
  d[0] = type // DESCRIPTOR TYPE CODE E4h
  d[1] = peripheral // LU ID TYPE 00b, NUL 0, PERIPHERAL DEVICE TYPE
  d[4] = 0x01 // CODE SET: binary
  d[5] = designatorType // ASSOCIATION 00b (logical unit), DESIGNATOR TYPE 3h (NAA)
  d[7] = designator.length // DESIGNATOR LENGTH
  designator.copy(d, 8)
  d.writeUIntBE(blockLength, 29, 3) // DISK BLOCK LENGTH
  return d
}

interface SegmentOptions {
  source?: number
  destination?: number
  blocks: number
  sourceLba: number
  destinationLba: number
  dc?: boolean
  type?: number
}

/** Block device to block device segment descriptor (SPC-4 6.4.6.5, table 132). */
function segment({ source = 0, destination = 1, blocks, sourceLba, destinationLba, dc = false, type = 0x02 }: SegmentOptions): Buffer {
  const d = Buffer.alloc(28)
  d[0] = type // DESCRIPTOR TYPE CODE 02h
  d[1] = dc ? 0x02 : 0 // DC, CAT
  d.writeUInt16BE(0x18, 2) // DESCRIPTOR LENGTH
  d.writeUInt16BE(source, 4) // SOURCE CSCD DESCRIPTOR ID
  d.writeUInt16BE(destination, 6) // DESTINATION CSCD DESCRIPTOR ID
  d.writeUInt16BE(blocks, 10) // BLOCK DEVICE NUMBER OF BLOCKS
  d.writeBigUInt64BE(BigInt(sourceLba), 12)
  d.writeBigUInt64BE(BigInt(destinationLba), 20)
  return d
}

function parameterList(cscds: Buffer[], segments: Buffer[], { listId = 1, usage = 0, inline = 0 } = {}): Buffer {
  const header = Buffer.alloc(16)
  header[0] = listId // LIST IDENTIFIER
  header[1] = usage << 3 // STR 0, LIST ID USAGE, PRIORITY 0
  const c = Buffer.concat(cscds)
  const s = Buffer.concat(segments)
  header.writeUInt16BE(c.length, 2) // CSCD DESCRIPTOR LIST LENGTH
  header.writeUInt32BE(s.length, 8) // SEGMENT DESCRIPTOR LIST LENGTH
  header.writeUInt32BE(inline, 12) // INLINE DATA LENGTH
  return Buffer.concat([header, c, s, Buffer.alloc(inline)])
}

/** EXTENDED COPY (LID1) CDB (SPC-4 6.4.1, table 104). */
function xcopyCdb(length: number, serviceAction = 0): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = 0x83
  cdb[1] = serviceAction
  cdb.writeUInt32BE(length, 10)
  return cdb
}

/** RECEIVE COPY RESULTS CDB (SPC-4 6.18.1, table 148). */
function rcrCdb(action: number, listId = 0, allocation = 1024): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = 0x84
  cdb[1] = action
  cdb[2] = listId
  cdb.writeUInt32BE(allocation, 10)
  return cdb
}

function setup(options: { chunkBytes?: number; maxSegmentBytes?: number; readOnly2?: boolean; blockSize2?: number } = {}) {
  const unit1 = new BufferBackstore(512, 64)
  const unit2 = new BufferBackstore(options.blockSize2 ?? 512, 64, options.readOnly2 ?? false)
  unit1.fillPattern(1)
  const units = new Map<string, CopyUnit>([
    [NAA_1.toString('hex'), { backstore: unit1, readOnly: false }],
    [NAA_2.toString('hex'), { backstore: unit2, readOnly: options.readOnly2 ?? false }],
  ])
  const manager = new CopyManager({
    resolve: (designator) => units.get(designator.toString('hex')),
    ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
    ...(options.maxSegmentBytes === undefined ? {} : { maxSegmentBytes: options.maxSegmentBytes }),
  })
  const copy = (list: Buffer, from: Nexus = I1, signal?: AbortSignal) => manager.extendedCopy(from, xcopyCdb(list.length), list, signal)
  const twoUnits = [cscd(NAA_1, 512), cscd(NAA_2, options.blockSize2 ?? 512)]
  return { manager, unit1, unit2, copy, twoUnits }
}

async function failure(p: Promise<unknown>): Promise<ScsiError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ScsiError)
  return error as ScsiError
}

const ILLEGAL = (asc: number, ascq: number) => ({ status: 0x02, senseKey: 0x5, asc, ascq })
const COPY_ABORTED = (asc: number, ascq: number) => ({ status: 0x02, senseKey: 0xa, asc, ascq })

// ---- copying ----

describe('EXTENDED COPY (LID1) copying (SPC-4 6.4)', () => {
  it('copies between two logical units, touching nothing else', async () => {
    const { unit1, unit2, copy, twoUnits } = setup()
    await copy(parameterList(twoUnits, [segment({ blocks: 8, sourceLba: 2, destinationLba: 5 })]))
    expect(unit2.block(5, 8)).toEqual(unit1.block(2, 8))
    expect(unit2.block(0, 5).every((b) => b === 0)).toBe(true)
    expect(unit2.block(13, 51).every((b) => b === 0)).toBe(true)
  })

  it('copies within one logical unit, overlapping ranges included, as if the source were read first', async () => {
    for (const [sourceLba, destinationLba] of [
      [0, 32],
      [4, 8], // destination inside the source range, above it
      [8, 4], // destination inside the source range, below it
    ] as const) {
      const { unit1, copy } = setup({ chunkBytes: 1024 })
      const before = Buffer.from(unit1.data)
      await copy(parameterList([cscd(NAA_1, 512)], [segment({ source: 0, destination: 0, blocks: 16, sourceLba, destinationLba })]))
      expect(unit1.block(destinationLba, 16)).toEqual(before.subarray(sourceLba * 512, (sourceLba + 16) * 512))
    }
  })

  it('moves data in bounded chunks with one reused buffer', async () => {
    const { unit1, unit2, copy, twoUnits } = setup({ chunkBytes: 4096 })
    await copy(parameterList(twoUnits, [segment({ blocks: 60, sourceLba: 0, destinationLba: 0 }), segment({ blocks: 3, sourceLba: 60, destinationLba: 60 })]))
    expect(unit2.block(0, 63)).toEqual(unit1.block(0, 63))
    expect(unit1.reads.map((r) => r.blocks)).toEqual([8, 8, 8, 8, 8, 8, 8, 4, 3])
    expect(Math.max(...unit1.reads.map((r) => r.length))).toBe(4096)
  })

  it('counts destination blocks with DC=1 across different block sizes', async () => {
    const { unit1, unit2, copy, twoUnits } = setup({ blockSize2: 4096 })
    // 2 destination blocks of 4096 bytes = 16 source blocks of 512.
    await copy(parameterList(twoUnits, [segment({ blocks: 2, sourceLba: 8, destinationLba: 3, dc: true })]))
    expect(unit2.block(3, 2)).toEqual(unit1.block(8, 16))
    // DC=0: 8 source blocks = 1 destination block.
    await copy(parameterList(twoUnits, [segment({ blocks: 8, sourceLba: 0, destinationLba: 10 })]))
    expect(unit2.block(10)).toEqual(unit1.block(0, 8))
  })

  it('completes a zero-block segment and a zero PARAMETER LIST LENGTH without moving data', async () => {
    const { manager, unit1, copy, twoUnits } = setup()
    await copy(parameterList(twoUnits, [segment({ blocks: 0, sourceLba: 0, destinationLba: 0 })]))
    await manager.extendedCopy(I1, xcopyCdb(0), Buffer.alloc(0))
    expect(unit1.reads).toEqual([])
  })
})

// ---- errors ----

describe('EXTENDED COPY errors (SPC-4 6.4)', () => {
  it('checks the parameter list length against the header and the CDB', async () => {
    const { manager, copy, twoUnits } = setup()
    const list = parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })])
    // iscsi-test-cu ExtendedCopy.ParamHdr: truncating a CSCD or a segment descriptor.
    expect(await failure(manager.extendedCopy(I1, xcopyCdb(16 + 31), list))).toMatchObject(ILLEGAL(0x1a, 0x00))
    expect(await failure(manager.extendedCopy(I1, xcopyCdb(list.length - 1), list))).toMatchObject(ILLEGAL(0x1a, 0x00))
    expect(await failure(manager.extendedCopy(I1, xcopyCdb(15), list))).toMatchObject(ILLEGAL(0x1a, 0x00))
    expect(await failure(manager.extendedCopy(I1, xcopyCdb(list.length + 8), list))).toMatchObject(ILLEGAL(0x1a, 0x00))
    // A header alone, announcing descriptor lists that are not there.
    expect(await failure(copy(list.subarray(0, 16)))).toMatchObject(ILLEGAL(0x1a, 0x00))
  })

  it('enforces the descriptor limits it reports (26/06, 26/08, 1a/00)', async () => {
    const { manager, copy } = setup()
    const limits = manager.operatingParameters
    const seg = segment({ source: 0, destination: 0, blocks: 1, sourceLba: 0, destinationLba: 1 })
    const manyCscds = Array.from({ length: limits.maxCscdDescriptors + 1 }, () => cscd(NAA_1, 512))
    expect(await failure(copy(parameterList(manyCscds, [seg])))).toMatchObject({ ...ILLEGAL(0x26, 0x06), fieldPointer: { inCdb: false, byte: 2 } })
    const manySegments = Array.from({ length: limits.maxSegmentDescriptors + 1 }, () => seg)
    expect(await failure(copy(parameterList([cscd(NAA_1, 512)], manySegments)))).toMatchObject({ ...ILLEGAL(0x26, 0x08), fieldPointer: { inCdb: false, byte: 8 } })
    const overLimit = Array.from({ length: Math.ceil(limits.maxDescriptorListLength / 28) }, () => seg)
    expect(await failure(copy(parameterList([cscd(NAA_1, 512)], overLimit)))).toMatchObject(ILLEGAL(0x1a, 0x00))
  })

  it('refuses unsupported CSCD and segment descriptor type codes (26/07, 26/09)', async () => {
    const { copy, twoUnits } = setup()
    const seg = segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })
    const fc = cscd(NAA_2, 512, { type: 0xe0 }) // Fibre Channel N_Port_Name
    expect(await failure(copy(parameterList([cscd(NAA_1, 512), fc], [seg])))).toMatchObject({ ...ILLEGAL(0x26, 0x07), fieldPointer: { inCdb: false, byte: 48 } })
    const stream = Buffer.alloc(20)
    stream[0] = 0x03 // stream device to stream device
    stream.writeUInt16BE(0x10, 2)
    expect(await failure(copy(parameterList(twoUnits, [stream])))).toMatchObject({ ...ILLEGAL(0x26, 0x09), fieldPointer: { inCdb: false, byte: 80 } })
    const wrongLength = segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })
    wrongLength.writeUInt16BE(0x14, 2)
    expect(await failure(copy(parameterList(twoUnits, [wrongLength.subarray(0, 24)])))).toMatchObject({ ...ILLEGAL(0x26, 0x00), fieldPointer: { inCdb: false, byte: 82 } })
  })

  it('aborts the copy for a copy target it cannot reach (0d/02, 08/04, 0d/03)', async () => {
    const { copy, twoUnits, unit2 } = setup()
    const seg = segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })
    expect(await failure(copy(parameterList([cscd(NAA_1, 512), cscd(NAA_UNKNOWN, 512)], [seg])))).toMatchObject(COPY_ABORTED(0x0d, 0x02))
    // A T10 vendor ID designator names no logical unit this copy manager can find.
    expect(await failure(copy(parameterList([cscd(NAA_1, 512), cscd(NAA_2, 512, { designatorType: 1 })], [seg])))).toMatchObject(COPY_ABORTED(0x0d, 0x02))
    // iscsi-test-cu ExtendedCopy.ValidSegDescr: a CSCD DESCRIPTOR ID past the list.
    expect(await failure(copy(parameterList([cscd(NAA_1, 512)], [seg])))).toMatchObject(COPY_ABORTED(0x08, 0x04))
    expect(await failure(copy(parameterList([cscd(NAA_1, 512), cscd(NAA_2, 512, { peripheral: 1 })], [seg])))).toMatchObject(COPY_ABORTED(0x0d, 0x03))
    // An unreferenced descriptor for an unknown logical unit is not an error.
    await copy(parameterList([...twoUnits, cscd(NAA_UNKNOWN, 512)], [seg]))
    expect(unit2.writes).toHaveLength(1)
  })

  it('aborts the copy for an LBA range past either copy target, before moving any data', async () => {
    const { copy, twoUnits, unit1, unit2 } = setup()
    const good = segment({ blocks: 4, sourceLba: 0, destinationLba: 0 })
    for (const bad of [segment({ blocks: 8, sourceLba: 60, destinationLba: 0 }), segment({ blocks: 8, sourceLba: 0, destinationLba: 57 })]) {
      expect(await failure(copy(parameterList(twoUnits, [good, bad])))).toMatchObject(COPY_ABORTED(0x00, 0x00))
    }
    const huge = segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })
    huge.writeBigUInt64BE(0xffffffffffffffffn, 12)
    expect(await failure(copy(parameterList(twoUnits, [huge])))).toMatchObject(COPY_ABORTED(0x00, 0x00))
    expect(unit1.reads).toEqual([])
    expect(unit2.writes).toEqual([])
  })

  it('refuses to write a write-protected destination with DATA PROTECT, WRITE PROTECTED', async () => {
    const { copy, twoUnits, unit2 } = setup({ readOnly2: true })
    expect(await failure(copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })])))).toMatchObject({
      status: 0x02,
      senseKey: 0x7,
      asc: 0x27,
      ascq: 0x00,
    })
    expect(unit2.writes).toEqual([])
    // Reading from it is fine.
    await copy(parameterList(twoUnits, [segment({ source: 1, destination: 0, blocks: 1, sourceLba: 0, destinationLba: 0 })]))
  })

  it('refuses inexact segments, oversized segments, wrong block lengths and inline data', async () => {
    const { copy, twoUnits } = setup({ blockSize2: 4096, maxSegmentBytes: 8192 })
    expect(await failure(copy(parameterList(twoUnits, [segment({ blocks: 3, sourceLba: 0, destinationLba: 0 })])))).toMatchObject({
      ...ILLEGAL(0x26, 0x0a),
      fieldPointer: { inCdb: false, byte: 16 + 64 + 10 },
    })
    expect(await failure(copy(parameterList(twoUnits, [segment({ blocks: 24, sourceLba: 0, destinationLba: 0 })])))).toMatchObject(ILLEGAL(0x26, 0x00))
    expect(await failure(copy(parameterList([cscd(NAA_1, 512), cscd(NAA_2, 512)], [segment({ blocks: 8, sourceLba: 0, destinationLba: 0 })])))).toMatchObject({
      ...ILLEGAL(0x26, 0x00),
      fieldPointer: { inCdb: false, byte: 16 + 32 + 29 },
    })
    expect(await failure(copy(parameterList(twoUnits, [], { inline: 4 })))).toMatchObject({ ...ILLEGAL(0x26, 0x0b), fieldPointer: { inCdb: false, byte: 12 } })
  })

  it('checks LIST ID USAGE and the service action', async () => {
    const { manager, copy, twoUnits } = setup()
    const seg = segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })
    expect(await failure(copy(parameterList(twoUnits, [seg], { usage: 0b01 })))).toMatchObject({ ...ILLEGAL(0x26, 0x00), fieldPointer: { inCdb: false, byte: 1, bit: 4 } })
    expect(await failure(copy(parameterList(twoUnits, [seg], { usage: 0b11, listId: 5 })))).toMatchObject({ ...ILLEGAL(0x26, 0x00), fieldPointer: { inCdb: false, byte: 0 } })
    const list = parameterList(twoUnits, [seg])
    expect(await failure(manager.extendedCopy(I1, xcopyCdb(list.length, 0x01), list))).toMatchObject({ ...ILLEGAL(0x24, 0x00), fieldPointer: { inCdb: true, byte: 1, bit: 4 } })
  })

  it('turns a backstore failure into COPY ABORTED, THIRD PARTY DEVICE FAILURE', async () => {
    const { copy, twoUnits, unit1 } = setup()
    unit1.beforeRead = () => Promise.reject(new Error('EIO'))
    const error = await failure(copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })])))
    expect(error).toMatchObject(COPY_ABORTED(0x0d, 0x01))
    expect((error.cause as Error).message).toBe('EIO')
  })

  it('stops between chunks when the task is aborted', async () => {
    const { copy, twoUnits, unit1, unit2, manager } = setup({ chunkBytes: 1024 })
    const controller = new AbortController()
    let reads = 0
    unit1.beforeRead = () => {
      if (++reads === 3) controller.abort()
      return Promise.resolve()
    }
    const error = await failure(copy(parameterList(twoUnits, [segment({ blocks: 32, sourceLba: 0, destinationLba: 0 })]), I1, controller.signal))
    expect(error).toMatchObject({ status: 0x40 }) // TASK ABORTED
    expect(unit2.writes.length).toBe(2)
    // COPY STATUS: completed with errors, one segment not finished, 2 KiB moved.
    expect(manager.receiveCopyResults(I1, rcrCdb(0x00, 1))).toEqual(Buffer.from([0, 0, 0, 8, 0x02, 0, 0, 0x00, 0, 0, 0x08, 0x00]))
  })

  it('refuses a second copy with a list identifier that is still in progress', async () => {
    const { copy, twoUnits, unit1, manager } = setup()
    let release: () => void = () => undefined
    unit1.beforeRead = () => {
      unit1.beforeRead = undefined // only the first read waits
      return new Promise((resolve) => (release = resolve))
    }
    const list = parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })])
    const first = copy(list)
    await Promise.resolve()
    expect(manager.receiveCopyResults(I1, rcrCdb(0x00, 1))[4]).toBe(0x00) // in progress
    expect(await failure(copy(list))).toMatchObject(ILLEGAL(0x00, 0x16))
    await copy(list, I2) // the same list identifier from another I_T nexus is fine...
    await copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })], { listId: 2 })) // ...and so is another one
    release()
    await first
  })

  it('never fails with anything but a ScsiError, whatever the parameter list', async () => {
    const { manager, unit2 } = setup({ readOnly2: true })
    const valid = parameterList([cscd(NAA_1, 512), cscd(NAA_2, 512)], [segment({ source: 1, destination: 0, blocks: 2, sourceLba: 1, destinationLba: 3 })])
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc.array(fc.record({ at: fc.nat(valid.length - 1), value: fc.nat(255) }), { minLength: 1, maxLength: 6 }).map((edits) => {
            const list = Buffer.from(valid)
            for (const { at, value } of edits) list[at] = value
            return list
          }),
        ),
        fc.integer({ min: -8, max: 8 }),
        async (list, delta) => {
          const length = Math.max(0, list.length + delta)
          const result = await manager.extendedCopy(I1, xcopyCdb(length), list).then(
            () => undefined,
            (e: unknown) => e,
          )
          if (result !== undefined) expect(result).toBeInstanceOf(ScsiError)
        },
      ),
      { numRuns: 1500, interruptAfterTimeLimit: 2500 },
    )
    expect(unit2.writes).toEqual([])
  })
})

// ---- RECEIVE COPY RESULTS ----

describe('RECEIVE COPY RESULTS (SPC-4 6.18)', () => {
  it('OPERATING PARAMETERS reports the limits and the implemented descriptor type codes (6.18.4)', () => {
    const { manager } = setup({ maxSegmentBytes: 0x01000000 })
    expect(manager.receiveCopyResults(I1, rcrCdb(0x03))).toEqual(
      Buffer.from([
        0x00, 0x00, 0x00, 0x2a, // AVAILABLE DATA: 42
        0x01, // SNLID
        0x00, 0x00, 0x00, // reserved
        0x00, 0x10, // MAXIMUM CSCD DESCRIPTOR COUNT 16
        0x00, 0x40, // MAXIMUM SEGMENT DESCRIPTOR COUNT 64
        0x00, 0x00, 0x09, 0x00, // MAXIMUM DESCRIPTOR LIST LENGTH 2304
        0x01, 0x00, 0x00, 0x00, // MAXIMUM SEGMENT LENGTH (the maxSegmentBytes option)
        0x00, 0x00, 0x00, 0x00, // MAXIMUM INLINE DATA LENGTH
        0x00, 0x00, 0x00, 0x00, // HELD DATA LIMIT
        0x00, 0x00, 0x00, 0x00, // MAXIMUM STREAM DEVICE TRANSFER SIZE
        0x00, 0x00, // reserved
        0x00, 0x10, // TOTAL CONCURRENT COPIES
        0x10, // MAXIMUM CONCURRENT COPIES
        0x09, // DATA SEGMENT GRANULARITY: 512 bytes
        0x00, // INLINE DATA GRANULARITY
        0x00, // HELD DATA GRANULARITY
        0x00, 0x00, 0x00, // reserved
        0x02, // IMPLEMENTED DESCRIPTOR LIST LENGTH
        0x02, 0xe4, // block to block segments, identification CSCD descriptors
      ]),
    )
  })

  it('COPY STATUS reports a finished copy of this I_T nexus (6.18.2), and nothing for others', async () => {
    const { manager, copy, twoUnits } = setup()
    await copy(parameterList(twoUnits, [segment({ blocks: 8, sourceLba: 0, destinationLba: 0 }), segment({ blocks: 2, sourceLba: 8, destinationLba: 8 })], { listId: 7 }))
    expect(manager.receiveCopyResults(I1, rcrCdb(0x00, 7))).toEqual(
      Buffer.from([
        0x00, 0x00, 0x00, 0x08, // AVAILABLE DATA
        0x01, // HDD 0, COPY MANAGER STATUS: completed without errors
        0x00, 0x02, // SEGMENTS PROCESSED
        0x00, // TRANSFER COUNT UNITS: bytes
        0x00, 0x00, 0x14, 0x00, // TRANSFER COUNT: 10 blocks of 512
      ]),
    )
    expect(syncFailure(() => manager.receiveCopyResults(I2, rcrCdb(0x00, 7)))).toMatchObject({ ...ILLEGAL(0x24, 0x00), fieldPointer: { inCdb: true, byte: 2 } })
    expect(syncFailure(() => manager.receiveCopyResults(I1, rcrCdb(0x00, 8)))).toMatchObject(ILLEGAL(0x24, 0x00))
    manager.nexusLoss(I1)
    expect(syncFailure(() => manager.receiveCopyResults(I1, rcrCdb(0x00, 7)))).toMatchObject(ILLEGAL(0x24, 0x00))
  })

  it('holds nothing when LIST ID USAGE is 11b', async () => {
    const { manager, copy, twoUnits } = setup()
    await copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })], { usage: 0b11, listId: 0 }))
    expect(syncFailure(() => manager.receiveCopyResults(I1, rcrCdb(0x00, 0)))).toMatchObject(ILLEGAL(0x24, 0x00))
  })

  it('FAILED SEGMENT DETAILS returns the status and sense of a failed copy once (6.18.5)', async () => {
    const { manager, copy, twoUnits } = setup()
    await failure(copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 }), segment({ blocks: 8, sourceLba: 60, destinationLba: 0 })], { listId: 3 })))
    const details = manager.receiveCopyResults(I1, rcrCdb(0x04, 3, 0x100))
    expect(details.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 60 + 18 - 4])) // AVAILABLE DATA
    expect(details.subarray(4, 56).every((b) => b === 0)).toBe(true)
    expect(details[56]).toBe(0x02) // COPY COMMAND STATUS: CHECK CONDITION
    expect(details.readUInt16BE(58)).toBe(18) // SENSE DATA LENGTH
    expect(details.subarray(60)).toEqual(
      Buffer.from([
        0x70, // current error, fixed format
        0x00,
        0x0a, // COPY ABORTED
        0, 0, 0, 0, // INFORMATION
        0x0a, // ADDITIONAL SENSE LENGTH
        0x00, 0x00, 0x00, 0x01, // COMMAND-SPECIFIC INFORMATION: segment 1
        0x00, 0x00, // ASC, ASCQ
        0x00, // FRU
        0x00, 0x00, 0x00, // sense key specific
      ]),
    )
    // Transferred whole: discarded.
    expect(manager.receiveCopyResults(I1, rcrCdb(0x04, 3))).toEqual(Buffer.alloc(4))
  })

  it('keeps failed segment details that did not fit the allocation length, and reports ILLEGAL REQUEST field pointers', async () => {
    const { manager, copy, twoUnits } = setup()
    await failure(copy(parameterList(twoUnits, [segment({ blocks: 1, sourceLba: 0, destinationLba: 0 })], { listId: 4, usage: 0b01 })))
    expect(manager.receiveCopyResults(I1, rcrCdb(0x04, 4))).toEqual(Buffer.alloc(4)) // header errors hold nothing
    await failure(copy(parameterList(twoUnits, [segment({ blocks: 3, sourceLba: 0, destinationLba: 0, type: 0x09 })], { listId: 4 })))
    const partial = manager.receiveCopyResults(I1, rcrCdb(0x04, 4, 20))
    expect(partial.readUInt32BE(0)).toBe(74)
    const whole = manager.receiveCopyResults(I1, rcrCdb(0x04, 4, 200))
    expect([...whole.subarray(60 + 12, 60 + 14)]).toEqual([0x26, 0x09])
    expect([...whole.subarray(60 + 15, 60 + 18)]).toEqual([0x80, 0x00, 0x50]) // SKSV, C/D 0, FIELD POINTER 80
  })

  it('refuses RECEIVE DATA and undefined service actions', () => {
    const { manager } = setup()
    for (const action of [0x01, 0x02, 0x05, 0x1f]) {
      expect(syncFailure(() => manager.receiveCopyResults(I1, rcrCdb(action)))).toMatchObject({ ...ILLEGAL(0x24, 0x00), fieldPointer: { inCdb: true, byte: 1, bit: 4 } })
    }
  })
})

function syncFailure(fn: () => unknown): ScsiError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ScsiError)
    return error as ScsiError
  }
  throw new Error('expected a ScsiError')
}
