import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CheckCondition, ScsiDecodeError } from '../errors.js'
import { type SenseData, decodeSense, encodeSense, senseEncodingLength, senseForError } from './sense-data.js'

/** Hex with per-byte comments stripped: `hex('70 00 05 # key')`. */
const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

describe('fixed format sense data (SPC-4 4.5.3)', () => {
  // ILLEGAL REQUEST, INVALID FIELD IN CDB, field pointer to CDB byte 1 bit 4.
  const sense: SenseData = { format: 'fixed', key: 0x5, asc: 0x24, ascq: 0x00, fieldPointer: { inCdb: true, byte: 1, bit: 4 } }
  const bytes = hex(`
    70           # 0: VALID 0, RESPONSE CODE 70h (current, fixed)
    00           # 1: obsolete
    05           # 2: SENSE KEY 5h ILLEGAL REQUEST
    00 00 00 00  # 3-6: INFORMATION (not valid)
    0a           # 7: ADDITIONAL SENSE LENGTH 10
    00 00 00 00  # 8-11: COMMAND-SPECIFIC INFORMATION
    24 00        # 12-13: ASC/ASCQ 24/00 INVALID FIELD IN CDB
    00           # 14: FRU
    cc 00 01     # 15-17: SKSV 1, C/D 1, BPV 1, BIT POINTER 4; FIELD POINTER 0001h
  `)

  it('encodes', () => {
    expect(encodeSense(sense)).toEqual(bytes)
    expect(senseEncodingLength(sense)).toBe(18)
  })
  it('decodes', () => {
    const decoded = decodeSense(bytes)
    expect(decoded).toMatchObject({ ...sense, deferred: false, keyName: 'ILLEGAL_REQUEST', ascName: 'INVALID_FIELD_IN_CDB', length: 18 })
    expect(decoded.text).toBe('ILLEGAL REQUEST: invalid field in cdb (24/00)')
  })
  it('round trips', () => {
    expect(encodeSense(decodeSense(bytes))).toEqual(bytes)
  })

  // MISCOMPARE with INFORMATION = 0x1234 (offset of the first differing byte).
  const miscompare = hex(`
    f0           # 0: VALID 1, RESPONSE CODE 70h
    00           # 1
    0e           # 2: SENSE KEY Eh MISCOMPARE
    00 00 12 34  # 3-6: INFORMATION 1234h
    0a           # 7
    00 00 00 00  # 8-11
    1d 00        # 12-13: 1D/00 MISCOMPARE DURING VERIFY OPERATION
    00 00 00 00  # 14-17
  `)
  it('carries INFORMATION with VALID', () => {
    expect(encodeSense({ format: 'fixed', key: 0xe, asc: 0x1d, ascq: 0, information: 0x1234n })).toEqual(miscompare)
    expect(decodeSense(miscompare).information).toBe(0x1234n)
  })
  it('drops an INFORMATION that does not fit 4 bytes (VALID 0)', () => {
    const encoded = encodeSense({ format: 'fixed', key: 0xe, asc: 0x1d, ascq: 0, information: 0x1_0000_0000n })
    expect(encoded[0]).toBe(0x70)
    expect(decodeSense(encoded).information).toBeUndefined()
  })

  // NOT READY, SANITIZE IN PROGRESS, progress 8000h (half way).
  const progress = hex(`
    70 00 02 00 00 00 00 0a 00 00 00 00
    04 1b        # 12-13: 04/1B SANITIZE IN PROGRESS
    00
    80 80 00     # 15-17: SKSV 1; PROGRESS INDICATION 8000h
  `)
  it('carries a progress indication', () => {
    expect(encodeSense({ format: 'fixed', key: 0x2, asc: 0x04, ascq: 0x1b, progress: 0x8000 })).toEqual(progress)
    expect(decodeSense(progress)).toMatchObject({ progress: 0x8000, keyName: 'NOT_READY' })
  })

  it('reads a deferred error (71h) and a short record without ASC', () => {
    const deferred = hex('71 00 03 00 00 00 00 0a 00 00 00 00 11 00 00 00 00 00')
    expect(decodeSense(deferred)).toMatchObject({ deferred: true, key: 3, asc: 0x11, ascq: 0 })
    // ADDITIONAL SENSE LENGTH 0: only 8 bytes belong to the record; ASC and ASCQ read as zero.
    const short = hex('70 00 06 00 00 00 00 00 29 00')
    expect(decodeSense(short)).toMatchObject({ key: 6, asc: 0, ascq: 0, length: 8 })
  })
})

describe('descriptor format sense data (SPC-4 4.5.2)', () => {
  const sense: SenseData = { format: 'descriptor', key: 0xe, asc: 0x1d, ascq: 0x00, information: 0x200n, fieldPointer: { inCdb: false, byte: 0x10 } }
  const bytes = hex(`
    72           # 0: RESPONSE CODE 72h (current, descriptor)
    0e           # 1: SENSE KEY Eh MISCOMPARE
    1d 00        # 2-3: ASC/ASCQ
    00 00 00     # 4-6: reserved
    14           # 7: ADDITIONAL SENSE LENGTH 20
    00 0a 80 00  # information descriptor: type 00h, length 0Ah, VALID
    00 00 00 00 00 00 02 00  #   INFORMATION 200h
    02 06 00 00  # sense key specific descriptor: type 02h, length 06h
    80 00 10 00  #   SKSV 1, C/D 0 (parameter data), FIELD POINTER 0010h
  `)
  it('encodes', () => {
    expect(encodeSense(sense)).toEqual(bytes)
  })
  it('decodes', () => {
    expect(decodeSense(bytes)).toMatchObject({ format: 'descriptor', information: 0x200n, key: 0xe, asc: 0x1d })
  })
  it('round trips', () => {
    expect(encodeSense(decodeSense(bytes))).toEqual(bytes)
  })
  it('refuses a descriptor that overruns the record', () => {
    const bad = hex('72 05 24 00 00 00 00 06 00 0a 80 00 00 00')
    expect(() => decodeSense(bad)).toThrow(ScsiDecodeError)
  })
})

describe('decodeSense on bad input', () => {
  it('refuses unknown response codes and short buffers', () => {
    expect(() => decodeSense(Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 0]))).toThrow(ScsiDecodeError)
    expect(() => decodeSense(Buffer.from([0x70]))).toThrow(ScsiDecodeError)
    expect(() => decodeSense(Buffer.from([0x72, 0, 0]))).toThrow(ScsiDecodeError)
  })

  it('random bytes only ever produce a DecodedSense or a ScsiDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const decoded = decodeSense(Buffer.from(bytes))
          expect(decoded.length).toBeLessThanOrEqual(bytes.length)
          expect(typeof decoded.text).toBe('string')
        } catch (error) {
          expect(error).toBeInstanceOf(ScsiDecodeError)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('decode(encode(x)) keeps every field, in both formats', () => {
    const pointer = fc.record({ inCdb: fc.boolean(), byte: fc.integer({ min: 0, max: 0xffff }), bit: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }) })
    fc.assert(
      fc.property(
        fc.constantFrom('fixed' as const, 'descriptor' as const),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xf }),
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.option(fc.bigInt({ min: 0n, max: 0xffffffffn }), { nil: undefined }),
        fc.option(pointer, { nil: undefined }),
        (format, deferred, key, asc, ascq, information, fieldPointer) => {
          const sense: SenseData = {
            format,
            deferred,
            key: fieldPointer === undefined ? key : 0x5,
            asc,
            ascq,
            ...(information === undefined ? {} : { information }),
            ...(fieldPointer === undefined ? {} : { fieldPointer: fieldPointer.bit === undefined ? { inCdb: fieldPointer.inCdb, byte: fieldPointer.byte } : fieldPointer }),
          }
          const decoded = decodeSense(encodeSense(sense))
          expect(decoded).toMatchObject(sense)
          expect(encodeSense(decoded)).toEqual(encodeSense(sense))
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('senseForError', () => {
  it('builds the sense of a CheckCondition in the asked format', () => {
    const error = new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { fieldPointer: { inCdb: true, byte: 2 } })
    expect(senseForError(error, 'fixed')).toEqual(hex('70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 02'))
    expect(senseForError(error, 'descriptor')).toEqual(hex('72 05 24 00 00 00 00 08 02 06 00 00 c0 00 02 00'))
  })
})

describe('ScsiDecodeError', () => {
  it('has its own code and still answers INVALID FIELD IN PARAMETER LIST', () => {
    try {
      decodeSense(Buffer.from([0x00, 0x00]))
      throw new Error('did not throw')
    } catch (error) {
      expect(error).toBeInstanceOf(ScsiDecodeError)
      expect(error).toMatchObject({ code: 'ISCSI_ERR_SCSI_DECODE', senseKey: 5, asc: 0x26, ascq: 0 })
    }
  })
})
