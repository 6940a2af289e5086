import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { arbitraryDigests, arbitraryPdu, arbitraryPduOf } from './arbitrary.test-support.js'
import {
  dataDigestOf,
  decodeBhs,
  decodePdu,
  encodeHeader,
  encodePdu,
  encodePduInto,
  encodingLength,
  headerLength,
  pduLength,
  serializePdu,
} from './codec.js'
import { crc32c, digestOf, readDigest } from './crc32c.js'
import { PduError, PduErrorCode } from './errors.js'
import { Opcode, RejectReason } from './opcode.js'
import { buildDataIn, buildLoginRequest, buildNopOut, buildScsiCommand, buildScsiResponse } from './testing.js'
import type { Pdu } from './types.js'

const TIME_BUDGET = { interruptAfterTimeLimit: 1500, numRuns: 100_000 }

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

describe('decodePdu errors', () => {
  const nop = encodePdu(buildNopOut({ data: Buffer.from('hello') }))

  it('reports a short buffer as PduTruncatedError with the bytes needed', () => {
    const error = thrown(() => decodePdu(nop.subarray(0, 20)))
    expect(error).toMatchObject({ code: PduErrorCode.Truncated, needed: 48, reaction: { kind: 'drop' } })
    expect(thrown(() => decodePdu(nop.subarray(0, 50)))).toMatchObject({ code: PduErrorCode.Truncated, needed: 56 })
  })

  it('rejects an unknown opcode with reason Command not supported and the BHS', () => {
    const bytes = Buffer.from(nop)
    bytes[0] = 0x3e
    const error = thrown(() => decodePdu(bytes)) as PduError
    expect(error).toBeInstanceOf(PduError)
    expect(error.code).toBe(PduErrorCode.UnknownOpcode)
    expect(error.fatal).toBe(false)
    expect(error.reaction).toEqual({ kind: 'reject', reason: RejectReason.CommandNotSupported, header: bytes.subarray(0, 48) })
  })

  it('refuses opcodes sent in the wrong direction when a role is given', () => {
    expect(decodePdu(nop, 0, { role: 'target' }).value.opcode).toBe(Opcode.NopOut)
    expect(thrown(() => decodePdu(nop, 0, { role: 'initiator' }))).toMatchObject({
      code: PduErrorCode.UnexpectedOpcode,
      reaction: { kind: 'reject', reason: RejectReason.ProtocolError },
    })
    const response = encodePdu(buildScsiResponse())
    expect(thrown(() => decodePdu(response, 0, { role: 'target' }))).toMatchObject({ code: PduErrorCode.UnexpectedOpcode })
  })

  it('ignores reserved bits by default and rejects them in strict mode (RFC 7143 11.1)', () => {
    const bytes = Buffer.from(nop)
    bytes[40] = 0x01 // reserved in NOP-Out
    expect(decodePdu(bytes).value).toMatchObject({ opcode: Opcode.NopOut, itt: 1 })
    expect(thrown(() => decodePdu(bytes, 0, { strict: true }))).toMatchObject({
      code: PduErrorCode.Reserved,
      byteOffset: 40,
      reaction: { kind: 'reject', reason: RejectReason.ProtocolError },
    })
    const noFinal = Buffer.from(nop)
    noFinal[1] = 0x00 // F must be 1 on NOP-Out
    expect(thrown(() => decodePdu(noFinal, 0, { strict: true }))).toMatchObject({ code: PduErrorCode.Reserved, byteOffset: 1 })
  })

  it('refuses a data segment over maxDataSegmentLength', () => {
    expect(thrown(() => decodePdu(nop, 0, { maxDataSegmentLength: 4 }))).toMatchObject({
      code: PduErrorCode.SegmentTooLong,
      dataSegmentLength: 5,
      limit: 4,
      fatal: true,
    })
  })

  it('drops on a header digest mismatch, rejects on a data digest mismatch', () => {
    const digests = { headerDigest: true, dataDigest: true }
    const good = encodePdu(buildNopOut({ data: Buffer.from('hello') }), digests)
    expect(decodePdu(good, 0, digests).value.data.toString()).toBe('hello')
    const badHeader = Buffer.from(good)
    badHeader[20] = badHeader[20]! ^ 0x01
    expect(thrown(() => decodePdu(badHeader, 0, digests))).toMatchObject({ code: PduErrorCode.HeaderDigest, reaction: { kind: 'drop' }, fatal: true })
    const badData = Buffer.from(good)
    badData[53] = badData[53]! ^ 0x80
    const error = thrown(() => decodePdu(badData, 0, digests)) as PduError
    expect(error).toMatchObject({ code: PduErrorCode.DataDigest, fatal: false })
    expect(error.reaction).toEqual({ kind: 'reject', reason: RejectReason.DataDigestError, header: good.subarray(0, 48) })
  })

  it('rejects an AHS that runs past TotalAHSLength', () => {
    const bytes = encodePdu(buildNopOut({ ahs: [{ type: 0x40, data: Buffer.from([1, 2, 3, 4]) }] }))
    bytes.writeUInt16BE(9, 48) // AHSLength 9 needs 12 bytes, only 8 there
    expect(thrown(() => decodePdu(bytes))).toMatchObject({ code: PduErrorCode.InvalidField, reaction: { kind: 'reject', reason: RejectReason.InvalidPduField } })
  })

  it('decodes at an offset and reports bytesRead', () => {
    const two = Buffer.concat([Buffer.from([9, 9, 9]), nop, nop])
    const first = decodePdu(two, 3)
    expect(first.bytesRead).toBe(56)
    expect(decodePdu(two, 3 + first.bytesRead).value).toEqual(first.value)
    expect(thrown(() => decodePdu(two, -1))).toBeInstanceOf(PduError)
    expect(thrown(() => decodePdu(two, 1.5))).toBeInstanceOf(PduError)
  })
})

describe('encoding', () => {
  it('refuses fields that do not fit, with PduEncodeError', () => {
    const cases: Pdu[] = [
      buildNopOut({ itt: -1 }),
      buildNopOut({ cmdSN: 2 ** 32 }),
      buildNopOut({ expStatSN: 1.5 }),
      buildNopOut({ lun: -1n }),
      buildNopOut({ lun: 2n ** 64n }),
      buildScsiCommand({ attribute: 8 }),
      buildLoginRequest({ isid: Buffer.alloc(5) }),
      buildLoginRequest({ csg: 4 }),
      buildLoginRequest({ tsih: 0x10000 }),
      buildScsiResponse({ status: 256 }),
      { ...buildNopOut(), data: undefined as unknown as Buffer },
      { ...buildNopOut(), opcode: 0x3e as 0x00 },
      buildNopOut({ ahs: [{ type: 0x40, data: Buffer.alloc(1018) }] }),
    ]
    for (const pdu of cases) {
      expect(thrown(() => encodePdu(pdu))).toMatchObject({ code: PduErrorCode.Encode, reaction: { kind: 'none' } })
    }
  })

  it('computes lengths: header, padding, digests', () => {
    const pdu = buildDataIn({ data: Buffer.alloc(5) })
    expect(headerLength(pdu)).toBe(48)
    expect(headerLength(pdu, { headerDigest: true })).toBe(52)
    expect(encodingLength(pdu)).toBe(56)
    expect(encodingLength(pdu, { headerDigest: true, dataDigest: true })).toBe(64)
    // No data digest without a data segment (RFC 7143 11.1).
    expect(encodingLength(buildDataIn(), { headerDigest: true, dataDigest: true })).toBe(52)
    expect(headerLength(buildScsiCommand({ cdb: Buffer.alloc(32) }))).toBe(68)
  })

  it('encodeHeader writes every header byte into a reused buffer', () => {
    const scratch = Buffer.alloc(52, 0xee)
    const pdu = buildDataIn({ itt: 7, data: Buffer.alloc(100) })
    expect(encodeHeader(pdu, scratch, 0, { headerDigest: true })).toBe(52)
    expect(scratch.equals(encodePdu(pdu, { headerDigest: true }).subarray(0, 52))).toBe(true)
    expect(thrown(() => encodeHeader(pdu, Buffer.alloc(51), 0, { headerDigest: true }))).toMatchObject({ code: PduErrorCode.Encode })
  })

  it('encodePduInto writes at an offset and returns the length', () => {
    const pdu = buildNopOut({ data: Buffer.from('abc') })
    const buf = Buffer.alloc(100, 0xff)
    expect(encodePduInto(pdu, buf, 10)).toBe(52)
    expect(buf.subarray(10, 62).equals(encodePdu(pdu))).toBe(true)
    expect(buf[9]).toBe(0xff)
    expect(buf[62]).toBe(0xff)
    expect(thrown(() => encodePduInto(pdu, buf, 60))).toMatchObject({ code: PduErrorCode.Encode })
  })
})

describe('serializePdu', () => {
  it('returns header, the data Buffer itself, padding and data digest', () => {
    const data = Buffer.from('hello')
    const pdu = buildDataIn({ data })
    const parts = serializePdu(pdu, { headerDigest: true, dataDigest: true })
    expect(parts.map((p) => p.length)).toEqual([52, 5, 3, 4])
    expect(parts[1]).toBe(data) // never copied
    expect(parts[2]!.equals(Buffer.alloc(3))).toBe(true)
    expect(readDigest(parts[3]!, 0)).toBe(crc32c(Buffer.from('hello\0\0\0')))
    expect(Buffer.concat(parts).equals(encodePdu(pdu, { headerDigest: true, dataDigest: true }))).toBe(true)
  })

  it('omits empty entries', () => {
    expect(serializePdu(buildNopOut()).map((p) => p.length)).toEqual([48])
    expect(serializePdu(buildNopOut({ data: Buffer.alloc(8) })).map((p) => p.length)).toEqual([48, 8])
    expect(serializePdu(buildNopOut({ data: Buffer.alloc(8) }), { dataDigest: true }).map((p) => p.length)).toEqual([48, 8, 4])
  })

  it('data digest covers the padding', () => {
    expect(dataDigestOf(Buffer.from([1, 2]))).toBe(crc32c(Buffer.from([1, 2, 0, 0])))
    expect(digestOf(Buffer.alloc(32)).toString('hex')).toBe('aa36918a')
  })
})

describe('decodeBhs and pduLength', () => {
  it('reads the shared BHS fields', () => {
    const bytes = encodePdu(buildScsiCommand({ immediate: true, itt: 0x1234, cdb: Buffer.alloc(32), data: Buffer.alloc(10) }))
    expect(decodeBhs(bytes)).toEqual({
      value: { opcode: 1, immediate: true, final: true, totalAhsLength: 20, dataSegmentLength: 10, itt: 0x1234 },
      bytesRead: 48,
    })
    expect(pduLength(bytes)).toBe(bytes.length)
    expect(pduLength(bytes, 0, { headerDigest: true, dataDigest: true })).toBe(bytes.length + 8)
    expect(thrown(() => decodeBhs(bytes, bytes.length - 47))).toMatchObject({ code: PduErrorCode.Truncated })
  })
})

describe('properties', () => {
  it('decode(encode(x)) equals x for every PDU kind and digest setting', () => {
    fc.assert(
      fc.property(arbitraryPdu, arbitraryDigests, (pdu, digests) => {
        const bytes = encodePdu(pdu, digests)
        expect(bytes.length).toBe(encodingLength(pdu, digests))
        const { value, bytesRead } = decodePdu(bytes, 0, { ...digests, strict: true })
        expect(bytesRead).toBe(bytes.length)
        expect(value).toEqual(pdu)
        expect(Buffer.concat(serializePdu(pdu, digests)).equals(bytes)).toBe(true)
      }),
      TIME_BUDGET,
    )
  })

  it('every opcode gets exercised', () => {
    for (const opcode of Object.values(Opcode)) {
      fc.assert(
        fc.property(arbitraryPduOf(opcode), (pdu) => {
          expect(decodePdu(encodePdu(pdu), 0, { strict: true }).value).toEqual(pdu)
        }),
        { numRuns: 50 },
      )
    }
  })

  it('every non-reserved BHS bit is modelled: encode(decode(b)) equals b for template-valid headers', () => {
    const opcodes = Object.values(Opcode)
    fc.assert(
      fc.property(fc.constantFrom(...opcodes), fc.uint8Array({ minLength: 48, maxLength: 48 }), (opcode, raw) => {
        const bytes = Buffer.from(raw)
        bytes[0] = opcode | (bytes[0]! & 0x40)
        bytes.fill(0, 4, 8) // no AHS, no data
        // Make reserved/fixed bits valid by decoding leniently, re-encoding, and checking that strict decoding
        // accepts the canonical form and reproduces it bit for bit.
        const canonical = encodePdu(decodePdu(bytes).value)
        const again = encodePdu(decodePdu(canonical, 0, { strict: true }).value)
        expect(again.equals(canonical)).toBe(true)
        // Every bit that differs between the input and its canonical form is reserved or fixed.
        for (let i = 0; i < 48; i++) {
          const diff = bytes[i]! ^ canonical[i]!
          if (diff === 0) continue
          expect(thrown(() => decodePdu(mutate(canonical, i, diff), 0, { strict: true }))).toMatchObject({ code: PduErrorCode.Reserved })
        }
      }),
      TIME_BUDGET,
    )
  })

  it('random bytes only ever produce a PduError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.record({ headerDigest: fc.boolean(), dataDigest: fc.boolean(), strict: fc.boolean(), role: fc.constantFrom(undefined, 'target' as const, 'initiator' as const) }),
        (raw, options) => {
          const bytes = Buffer.from(raw)
          // Bias toward known opcodes and small lengths so decoding gets past the first checks.
          if (bytes.length > 8) {
            bytes[4] = bytes[4]! & 0x03
            bytes[5] = 0
            bytes[6] = 0
          }
          try {
            const { bytesRead } = decodePdu(bytes, 0, options)
            expect(bytesRead).toBeLessThanOrEqual(bytes.length)
          } catch (error) {
            expect(error).toBeInstanceOf(PduError)
          }
        },
      ),
      TIME_BUDGET,
    )
  })

  it('mutated valid PDUs only ever produce a PduError', () => {
    fc.assert(
      fc.property(arbitraryPdu, arbitraryDigests, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (pdu, digests, flips) => {
        const bytes = Buffer.from(encodePdu(pdu, digests))
        for (const [at, xor] of flips) bytes[at % bytes.length] = bytes[at % bytes.length]! ^ xor
        try {
          decodePdu(bytes, 0, { ...digests, strict: true })
        } catch (error) {
          expect(error).toBeInstanceOf(PduError)
        }
      }),
      TIME_BUDGET,
    )
  })
})

function mutate(bytes: Buffer, index: number, xor: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[index] = copy[index]! ^ xor
  return copy
}
