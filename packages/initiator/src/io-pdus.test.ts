import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Opcode, decodePdu, encodeHeader, encodePdu, type DataInPdu, type ScsiCommandPdu } from '@iscsi-ts/pdu'
import { dataInBufferOffset, dataInDataSN, dataInItt, emptyDataIn, isPlainScsiCommand, readDataInBhs, writeScsiCommandBhs } from './io-pdus.js'

const u32 = fc.integer({ min: 0, max: 0xffffffff })

const plainCommand = fc
  .record({
    flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()),
    attribute: fc.integer({ min: 0, max: 7 }),
    lun: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    itt: u32,
    edtl: u32,
    cmdSN: u32,
    expStatSN: u32,
    cdb: fc.uint8Array({ minLength: 6, maxLength: 16 }),
    data: fc.uint8Array({ maxLength: 64 }),
  })
  .map(
    (r): ScsiCommandPdu => ({
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
    }),
  )

function lunBytes(lun: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(lun)
  return b
}

describe('SCSI Command BHS (RFC 7143 11.3)', () => {
  it('writes READ(10) to LUN 1 byte for byte', () => {
    const pdu: ScsiCommandPdu = {
      opcode: Opcode.ScsiCommand,
      immediate: false,
      final: true,
      read: true,
      write: false,
      attribute: 1,
      lun: 1n << 48n,
      itt: 0x01020304,
      expectedDataTransferLength: 4096,
      cmdSN: 0x0a0b0c0d,
      expStatSN: 0x11223344,
      cdb: Buffer.from([0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]),
      data: Buffer.alloc(0),
    }
    const buf = Buffer.alloc(48, 0xff) // every byte must be written, whatever was there
    writeScsiCommandBhs(buf, 0, pdu, lunBytes(pdu.lun))
    expect(buf.toString('hex')).toBe(
      [
        '01', // opcode 0x01, I=0
        'c1', // F=1 R=1 W=0, ATTR simple
        '0000', // reserved
        '00', // TotalAHSLength
        '000000', // DataSegmentLength
        '0001000000000000', // LUN 1, peripheral addressing
        '01020304', // ITT
        '00001000', // Expected Data Transfer Length 4096
        '0a0b0c0d', // CmdSN
        '11223344', // ExpStatSN
        '28000000100000000800', // CDB: READ(10) LBA 0x10, 8 blocks
        '000000000000', // CDB padding to 16 bytes
      ].join(''),
    )
  })

  it('matches the pdu codec for any plain command', () => {
    fc.assert(
      fc.property(plainCommand, fc.integer({ min: 0, max: 16 }), (pdu, offset) => {
        expect(isPlainScsiCommand(pdu)).toBe(true)
        const ours = Buffer.alloc(offset + 48, 0xee)
        writeScsiCommandBhs(ours, offset, pdu, lunBytes(pdu.lun))
        const codec = Buffer.alloc(48)
        encodeHeader(pdu, codec, 0)
        expect(ours.subarray(offset)).toEqual(codec)
      }),
      { numRuns: 500 },
    )
  })

  it('leaves commands with an AHS to the codec', () => {
    const base = { opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attribute: 1, lun: 0n, itt: 1, expectedDataTransferLength: 0, cmdSN: 1, expStatSN: 1, data: Buffer.alloc(0) } as const
    expect(isPlainScsiCommand({ ...base, cdb: Buffer.alloc(16) })).toBe(true)
    expect(isPlainScsiCommand({ ...base, cdb: Buffer.alloc(17) })).toBe(false)
    expect(isPlainScsiCommand({ ...base, cdb: Buffer.alloc(10), expectedBidirectionalReadLength: 8 })).toBe(false)
    expect(isPlainScsiCommand({ ...base, cdb: Buffer.alloc(10), ahs: [{ type: 0x3f, data: Buffer.alloc(1) }] })).toBe(false)
  })
})

describe('Data-In BHS (RFC 7143 11.7)', () => {
  const dataIn = fc
    .record({
      flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()),
      status: fc.integer({ min: 0, max: 255 }),
      lun: fc.oneof(fc.integer({ min: 0, max: 255 }).map((n) => BigInt(n) << 48n), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn })),
      fields: fc.tuple(u32, u32, u32, u32, u32, u32, u32, u32),
      data: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    })
    .map(
      (r): DataInPdu => ({
        opcode: Opcode.DataIn,
        final: r.flags[0] || r.flags[4],
        acknowledge: r.flags[1],
        overflow: r.flags[2] && r.flags[4],
        underflow: r.flags[3] && !r.flags[2] && r.flags[4],
        statusPresent: r.flags[4],
        status: r.flags[4] ? r.status : 0,
        lun: r.lun,
        itt: r.fields[0],
        ttt: r.fields[1],
        statSN: r.fields[2],
        expCmdSN: r.fields[3],
        maxCmdSN: r.fields[4],
        dataSN: r.fields[5],
        bufferOffset: r.fields[6],
        residualCount: r.fields[7],
        data: Buffer.from(r.data),
      }),
    )

  it('reads every field the way the pdu codec decodes it, into one reused object', () => {
    const reused = emptyDataIn()
    fc.assert(
      fc.property(dataIn, fc.integer({ min: 0, max: 16 }), (pdu, offset) => {
        const wire = Buffer.concat([Buffer.alloc(offset, 0xaa), encodePdu(pdu)])
        const expected = decodePdu(wire, offset).value as DataInPdu
        const got = readDataInBhs(wire, offset, reused)
        expect(got).toBe(reused)
        expect({ ...got, data: expected.data }).toEqual(expected)
        expect(got.data).toHaveLength(0)
        expect(dataInItt(wire, offset)).toBe(pdu.itt)
        expect(dataInDataSN(wire, offset)).toBe(pdu.dataSN)
        expect(dataInBufferOffset(wire, offset)).toBe(pdu.bufferOffset)
      }),
      { numRuns: 500 },
    )
  })
})
