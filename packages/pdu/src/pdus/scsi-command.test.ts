import { describe, expect, it } from 'vitest'
import { decodePdu, encodePdu } from '../codec.js'
import { PduErrorCode } from '../errors.js'
import type { ScsiCommandPdu } from '../types.js'
import { hex, vectorSuite } from './vector-harness.js'

// RFC 3720 appendix B.4 "iSCSI Read PDU": a READ(10) with its CRC32C header digest 56 3a 96 d9.
const rfcRead = hex`
  01 c0 00 00                // 0: I=0, opcode 0x01; 1: F=1 R=1 W=0 ATTR=0 (untagged); 2-3: reserved
  00 00 00 00                // 4: no AHS, no data
  00 00 00 00 00 00 00 00    // 8: LUN 0
  14 00 00 00                // 16: ITT 0x14000000
  00 00 04 00                // 20: Expected Data Transfer Length 1024
  00 00 00 14                // 24: CmdSN 20
  00 00 00 18                // 28: ExpStatSN 24
  28 00 00 00 00 00 00 00    // 32: CDB READ(10), LBA 0
  02 00 00 00 00 00 00 00    //     transfer length 2 blocks, rest padding
  56 3a 96 d9                // 48: header digest
`

const longCdb = Buffer.from([0x7f, ...Array.from({ length: 31 }, (_, i) => i + 1)])

vectorSuite('SCSI Command (RFC 7143 11.2)', [
  {
    title: 'RFC 3720 B.4 read PDU with header digest',
    bytes: rfcRead,
    digests: { headerDigest: true },
    pdu: {
      opcode: 0x01,
      immediate: false,
      final: true,
      read: true,
      write: false,
      attribute: 0,
      lun: 0n,
      itt: 0x14000000,
      expectedDataTransferLength: 1024,
      cmdSN: 20,
      expStatSN: 24,
      cdb: hex`28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'bidirectional 32-byte CDB: Extended CDB and Bidi Read Length AHS, immediate data',
    bytes: hex`
      41 e1 00 00                // 0: I=1, opcode 0x01; 1: F=1 R=1 W=1 ATTR=1 (simple)
      07 00 00 08                // 4: TotalAHSLength 7 words (28 bytes); DataSegmentLength 8
      00 05 00 00 00 00 00 00    // 8: LUN 5
      00 00 00 63                // 16: ITT 99
      00 00 10 00                // 20: Expected Data Transfer Length 4096
      00 00 00 21                // 24: CmdSN 33
      00 00 00 22                // 28: ExpStatSN 34
      7f 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f // 32: CDB bytes 0-15
      00 11 01 00                // 48: AHSLength 17, AHSType 1 (extended CDB), reserved
      10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f // 52: CDB bytes 16-31
      00 05 02 00                // 68: AHSLength 5, AHSType 2 (bidi read length), reserved
      00 00 02 00                // 72: Expected Bidirectional Read Data Length 512
      de ad be ef ca fe ba be    // 76: immediate data
    `,
    pdu: {
      opcode: 0x01,
      immediate: true,
      final: true,
      read: true,
      write: true,
      attribute: 1,
      lun: 0x0005000000000000n,
      itt: 99,
      expectedDataTransferLength: 4096,
      cmdSN: 33,
      expStatSN: 34,
      cdb: longCdb,
      expectedBidirectionalReadLength: 512,
      data: hex`de ad be ef ca fe ba be`,
    },
  },
  {
    title: 'unknown AHS type kept in `ahs`',
    bytes: hex`
      01 a2 00 00                // 0: opcode 0x01; 1: F=1 W=1 ATTR=2 (ordered)
      02 00 00 00                // 4: TotalAHSLength 2 words, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 01 // 16: ITT 1, EDTL 0, CmdSN 1, ExpStatSN 1
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32: CDB TEST UNIT READY
      00 02 40 aa                // 48: AHSLength 2, AHSType 0x40 (vendor), data aa
      bb 00 00 00                // 52: data bb, 3 bytes padding
    `,
    pdu: {
      opcode: 0x01,
      immediate: false,
      final: true,
      read: false,
      write: true,
      attribute: 2,
      lun: 0n,
      itt: 1,
      expectedDataTransferLength: 0,
      cmdSN: 1,
      expStatSN: 1,
      cdb: Buffer.alloc(16),
      data: Buffer.alloc(0),
      ahs: [{ type: 0x40, data: hex`aa bb` }],
    },
  },
])

describe('SCSI Command CDB handling', () => {
  const base: ScsiCommandPdu = {
    opcode: 0x01,
    immediate: false,
    final: true,
    read: false,
    write: false,
    attribute: 1,
    lun: 0n,
    itt: 1,
    expectedDataTransferLength: 0,
    cmdSN: 1,
    expStatSN: 1,
    cdb: Buffer.from([0, 0, 0, 0, 0, 0]),
    data: Buffer.alloc(0),
  }

  it('zero-pads a 6-byte CDB to 16 bytes in the BHS', () => {
    const bytes = encodePdu(base)
    expect(bytes.length).toBe(48)
    expect(bytes.subarray(32, 48).equals(Buffer.alloc(16))).toBe(true)
    expect(decodePdu(bytes).value).toMatchObject({ cdb: Buffer.alloc(16) })
  })

  it('refuses an Extended CDB AHS too short to carry a CDB byte', () => {
    const bytes = encodePdu({ ...base, ahs: [{ type: 1, data: Buffer.from([0]) }] })
    expect(() => decodePdu(bytes)).toThrow(expect.objectContaining({ code: PduErrorCode.InvalidField }))
  })

  it('refuses a Bidirectional Read Length AHS of the wrong length', () => {
    const bytes = encodePdu({ ...base, ahs: [{ type: 2, data: Buffer.from([0, 0, 0, 1]) }] })
    expect(() => decodePdu(bytes)).toThrow(expect.objectContaining({ code: PduErrorCode.InvalidField }))
  })

  it('refuses a CDB too long for TotalAHSLength', () => {
    expect(() => encodePdu({ ...base, cdb: Buffer.alloc(2000) })).toThrow(expect.objectContaining({ code: PduErrorCode.Encode }))
  })
})
