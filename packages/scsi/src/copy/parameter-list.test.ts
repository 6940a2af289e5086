import { describe, expect, it } from 'vitest'
import { CheckCondition } from '../errors.js'
import { COPY_DEFAULTS } from './extended-copy.js'
import { decodeCopyParameterList } from './parameter-list.js'

describe('EXTENDED COPY (LID1) parameter list (SPC-4 6.4.3)', () => {
  const list = Buffer.from([
    // header (table 106)
    0x2a, // LIST IDENTIFIER
    0x10, // STR 0, LIST ID USAGE 10b, PRIORITY 0
    0x00, 0x20, // CSCD DESCRIPTOR LIST LENGTH 32
    0x00, 0x00, 0x00, 0x00, // reserved
    0x00, 0x00, 0x00, 0x1c, // SEGMENT DESCRIPTOR LIST LENGTH 28
    0x00, 0x00, 0x00, 0x00, // INLINE DATA LENGTH
    // identification CSCD descriptor (table 119)
    0xe4, // DESCRIPTOR TYPE CODE
    0xc0, // LU ID TYPE 11b (reserved, ignored in SPC-4), NUL 0, PERIPHERAL DEVICE TYPE 00h
    0x00, 0x00, // RELATIVE INITIATOR PORT IDENTIFIER
    0x01, // CODE SET binary
    0x03, // ASSOCIATION logical unit, DESIGNATOR TYPE NAA
    0x00,
    0x08, // DESIGNATOR LENGTH
    0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12, // NAA designator
    0, 0, 0, 0, 0, 0, 0, 0, // rest of the 20-byte designation descriptor
    0, 0, 0, 0, // reserved
    0x00, // PAD 0
    0x00, 0x10, 0x00, // DISK BLOCK LENGTH 4096
    // block to block segment descriptor (table 132)
    0x02, // DESCRIPTOR TYPE CODE
    0x02, // DC 1, CAT 0
    0x00, 0x18, // DESCRIPTOR LENGTH
    0x00, 0x00, // SOURCE CSCD DESCRIPTOR ID
    0x00, 0x00, // DESTINATION CSCD DESCRIPTOR ID
    0x00, 0x00, // reserved
    0x01, 0x00, // BLOCK DEVICE NUMBER OF BLOCKS 256
    0, 0, 0, 0, 0, 0, 0x10, 0x00, // SOURCE BLOCK DEVICE LOGICAL BLOCK ADDRESS 4096
    0, 0, 0, 1, 0, 0, 0, 0, // DESTINATION BLOCK DEVICE LOGICAL BLOCK ADDRESS 2^32
  ])

  it('decodes the header, the identification CSCD descriptor and the block to block segment', () => {
    expect(decodeCopyParameterList(list, COPY_DEFAULTS)).toEqual({
      listId: 0x2a,
      listIdUsage: 0b10,
      cscds: [
        {
          index: 0,
          offset: 16,
          peripheralType: 0,
          codeSet: 1,
          association: 0,
          designatorType: 3,
          designator: Buffer.from('6001405abcdef012', 'hex'),
          blockLength: 4096,
        },
      ],
      segments: [{ index: 0, offset: 48, sourceIndex: 0, destinationIndex: 0, destinationCount: true, cat: false, blocks: 256, sourceLba: 4096n, destinationLba: 1n << 32n }],
    })
  })

  it('walks 64-byte CSCD descriptor types when counting, and rejects a list that ends inside a descriptor', () => {
    const failureOf = (bytes: Buffer): unknown => {
      try {
        decodeCopyParameterList(bytes, COPY_DEFAULTS)
      } catch (e) {
        return e
      }
      return undefined
    }
    // An IPv6 CSCD descriptor (EAh) is 64 bytes: counted as one, then refused as unsupported.
    const ipv6 = Buffer.concat([Buffer.from(list.subarray(0, 16)), Buffer.alloc(64), list.subarray(48)])
    ipv6.writeUInt16BE(64, 2)
    ipv6[16] = 0xea
    expect(failureOf(ipv6)).toMatchObject({ senseKey: 0x5, asc: 0x26, ascq: 0x07, fieldPointer: { inCdb: false, byte: 16 } })
    // A CSCD DESCRIPTOR LIST LENGTH that ends inside the first descriptor.
    const bad = Buffer.from(list)
    bad.writeUInt16BE(0x10, 2)
    bad.writeUInt32BE(0x1c + 0x10, 8)
    const error = failureOf(bad)
    expect(error).toBeInstanceOf(CheckCondition)
    expect(error).toMatchObject({ asc: 0x26, ascq: 0x00, fieldPointer: { inCdb: false, byte: 2 } })
  })
})
