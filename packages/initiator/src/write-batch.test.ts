import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Opcode, RESERVED_TAG, encodePdu, type DataOutPdu, type InitiatorPdu, type NopOutPdu, type ScsiCommandPdu } from '@iscsi-ts/pdu'
import { INLINE_DATA_LIMIT, SLAB_SIZE, WriteBatch } from './write-batch.js'

function command(itt: number, data: Buffer = Buffer.alloc(0), cdb: Buffer = Buffer.from([0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0])): ScsiCommandPdu {
  return {
    opcode: Opcode.ScsiCommand,
    immediate: false,
    final: true,
    read: data.length === 0,
    write: data.length > 0,
    attribute: 1,
    lun: 1n << 48n,
    itt,
    expectedDataTransferLength: data.length > 0 ? data.length : 4096,
    cmdSN: 100 + itt,
    expStatSN: 7,
    cdb,
    data,
  }
}

function dataOut(itt: number, data: Buffer): DataOutPdu {
  return { opcode: Opcode.DataOut, final: true, lun: 1n << 48n, itt, ttt: 0x1234, expStatSN: 7, dataSN: 0, bufferOffset: 0, data }
}

const nop: NopOutPdu = { opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 9, ttt: RESERVED_TAG, cmdSN: 3, expStatSN: 4, data: Buffer.alloc(0) }

function flat(taken: Buffer | Buffer[] | undefined): Buffer {
  if (taken === undefined) return Buffer.alloc(0)
  return Array.isArray(taken) ? Buffer.concat(taken) : taken
}

describe('WriteBatch', () => {
  it('lays a turn of commands out as one contiguous buffer, byte for byte what the pdu codec encodes', () => {
    const batch = new WriteBatch()
    const pdus = [command(1), command(2), nop, command(3)]
    for (const pdu of pdus) batch.add(pdu)
    const taken = batch.take()
    expect(Buffer.isBuffer(taken)).toBe(true)
    expect(flat(taken)).toEqual(Buffer.concat(pdus.map((pdu) => encodePdu(pdu))))
    expect(batch.empty).toBe(true)
    expect(batch.take()).toBeUndefined()
  })

  it('copies small data segments inline and queues large ones as the caller\'s own buffer, padded and digested', () => {
    const small = Buffer.alloc(INLINE_DATA_LIMIT - 1, 0x5a)
    const large = Buffer.alloc(INLINE_DATA_LIMIT + 3, 0xa5)
    for (const digests of [{}, { headerDigest: true, dataDigest: true }]) {
      const batch = new WriteBatch()
      batch.setDigests(digests.headerDigest === true, digests.dataDigest === true)
      const pdus: InitiatorPdu[] = [command(1, small), command(2, large), dataOut(2, large.subarray(0, 5)), nop]
      for (const pdu of pdus) batch.add(pdu)
      const taken = batch.take()
      expect(Array.isArray(taken)).toBe(true)
      // The large payload is not copied: the very buffer is one of the iovecs.
      expect((taken as Buffer[]).some((chunk) => chunk === large)).toBe(true)
      expect(flat(taken)).toEqual(Buffer.concat(pdus.map((pdu) => encodePdu(pdu, digests))))
    }
  })

  it('never writes again into slab bytes it handed out, across slab roll-overs', () => {
    const batch = new WriteBatch()
    const handedOut: Array<{ chunk: Buffer; copy: Buffer }> = []
    let itt = 0
    // More than two slabs' worth of headers, taken a few at a time.
    while (itt * 48 < SLAB_SIZE * 2.5) {
      for (let i = 0; i < 7; i++) batch.add(command(++itt))
      const taken = batch.take()
      for (const chunk of Array.isArray(taken) ? taken : taken ? [taken] : []) handedOut.push({ chunk, copy: Buffer.from(chunk) })
    }
    for (const { chunk, copy } of handedOut) expect(chunk.equals(copy)).toBe(true)
    expect(Buffer.concat(handedOut.map((h) => h.chunk))).toEqual(Buffer.concat(Array.from({ length: itt }, (_, i) => encodePdu(command(i + 1)))))
  })

  it('recycle() starts the slab over once everything taken has left, and never while something is queued', () => {
    const batch = new WriteBatch()
    batch.add(command(1))
    const first = batch.take() as Buffer
    batch.recycle()
    batch.add(command(2))
    const second = batch.take() as Buffer
    // The same slab bytes again: the second header overwrote the first.
    expect(second.buffer).toBe(first.buffer)
    expect(second.byteOffset).toBe(first.byteOffset)
    expect(second).toEqual(encodePdu(command(2)))
    // Something queued since the last take(): recycle() must leave it alone.
    batch.add(command(3))
    batch.recycle()
    batch.add(command(4))
    expect(flat(batch.take())).toEqual(Buffer.concat([encodePdu(command(3)), encodePdu(command(4))]))
    // A payload view queued (a writev batch): not recycled either.
    const large = Buffer.alloc(INLINE_DATA_LIMIT + 4, 0x5a)
    batch.add(dataOut(5, large))
    batch.recycle()
    expect(flat(batch.take())).toEqual(encodePdu(dataOut(5, large)))
  })

  it('takes the same path as the codec for commands with an AHS (long CDB, bidirectional)', () => {
    const batch = new WriteBatch()
    const long = command(5, Buffer.alloc(0), Buffer.alloc(32, 0x11))
    const bidi = { ...command(6, Buffer.alloc(16, 1)), expectedBidirectionalReadLength: 512 }
    batch.add(long)
    batch.add(bidi)
    expect(flat(batch.take())).toEqual(Buffer.concat([encodePdu(long), encodePdu(bidi)]))
  })

  it('encodes any mix of commands and Data-Out exactly as the codec does', () => {
    const arbitraryPdu = fc.oneof(
      fc.record({
        itt: fc.integer({ min: 0, max: 0xfffffffe }),
        cmdSN: fc.integer({ min: 0, max: 0xffffffff }),
        expStatSN: fc.integer({ min: 0, max: 0xffffffff }),
        edtl: fc.integer({ min: 0, max: 0xffffffff }),
        attribute: fc.integer({ min: 0, max: 7 }),
        lun: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        cdb: fc.uint8Array({ minLength: 6, maxLength: 16 }),
        data: fc.uint8Array({ maxLength: 3000 }),
        flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()),
      }).map((r): InitiatorPdu => ({
        opcode: Opcode.ScsiCommand,
        immediate: r.flags[0],
        final: r.flags[1],
        read: r.flags[2],
        write: r.flags[3],
        attribute: r.attribute,
        lun: r.lun,
        itt: r.itt,
        expectedDataTransferLength: r.edtl,
        cmdSN: r.cmdSN,
        expStatSN: r.expStatSN,
        cdb: Buffer.from(r.cdb),
        data: Buffer.from(r.data),
      })),
      fc.record({ itt: fc.integer({ min: 0, max: 0xfffffffe }), offset: fc.integer({ min: 0, max: 1 << 20 }), data: fc.uint8Array({ minLength: 1, maxLength: 5000 }) }).map(
        (r): InitiatorPdu => ({ ...dataOut(r.itt, Buffer.from(r.data)), bufferOffset: r.offset }),
      ),
    )
    fc.assert(
      fc.property(fc.array(arbitraryPdu, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.boolean(), (pdus, headerDigest, dataDigest) => {
        const batch = new WriteBatch()
        batch.setDigests(headerDigest, dataDigest)
        for (const pdu of pdus) batch.add(pdu)
        expect(flat(batch.take())).toEqual(Buffer.concat(pdus.map((pdu) => encodePdu(pdu, { headerDigest, dataDigest }))))
      }),
      { numRuns: 200 },
    )
  })
})
