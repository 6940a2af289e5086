import diagnosticsChannel from 'node:diagnostics_channel'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { arbitraryDigests, arbitraryPdu } from './arbitrary.test-support.js'
import { encodePdu } from './codec.js'
import { crc32c, writeDigest } from './crc32c.js'
import { PduError, PduErrorCode } from './errors.js'
import { FramerState, PduFramer } from './framer.js'
import { Opcode, RejectReason } from './opcode.js'
import {
  buildDataIn,
  buildLoginResponse,
  buildNopIn,
  buildNopOut,
  buildScsiCommand,
  decodeAll,
  frameChunks,
  pduBytes,
} from './testing.js'
import type { DigestOptions, Pdu } from './types.js'

const DIGEST_SETTINGS: readonly DigestOptions[] = [
  { headerDigest: false, dataDigest: false },
  { headerDigest: true, dataDigest: false },
  { headerDigest: false, dataDigest: true },
  { headerDigest: true, dataDigest: true },
]

/** A PDU with AHS and a data segment that needs padding, and a plain one with padding too. */
const first: Pdu = buildScsiCommand({ write: true, cdb: Buffer.alloc(24, 0x11), data: Buffer.from('seven!!'), itt: 1 })
const second: Pdu = buildDataIn({ itt: 2, data: Buffer.from('abcdefghij') })

/** A copy in its own ArrayBuffer (small Buffers otherwise share Node's pool), so identity checks mean something. */
function unpooled(bytes: Buffer): Buffer {
  const copy = Buffer.alloc(bytes.length)
  bytes.copy(copy)
  return copy
}

function framerCollect(digests: DigestOptions, max = 8192) {
  const pdus: Pdu[] = []
  const errors: PduError[] = []
  const framer = new PduFramer({
    ...digests,
    maxRecvDataSegmentLength: max,
    onPdu: (pdu) => pdus.push(pdu),
    onError: (error) => errors.push(error),
  })
  return { framer, pdus, errors }
}

describe('PduFramer splits', () => {
  for (const digests of DIGEST_SETTINGS) {
    const label = `header digest ${digests.headerDigest ? 'on' : 'off'}, data digest ${digests.dataDigest ? 'on' : 'off'}`

    it(`frames one PDU split at every byte (${label})`, () => {
      const bytes = encodePdu(first, digests)
      for (let split = 0; split <= bytes.length; split++) {
        const { pdus, errors } = frameChunks([bytes.subarray(0, split), bytes.subarray(split)], digests)
        expect(errors).toEqual([])
        expect(pdus).toEqual([first])
      }
    })

    it(`frames two PDUs split at every byte, and at every pair of points (${label})`, () => {
      const bytes = pduBytes([first, second], digests)
      for (let split = 0; split <= bytes.length; split++) {
        const { pdus, errors } = frameChunks([bytes.subarray(0, split), bytes.subarray(split)], digests)
        expect(errors).toEqual([])
        expect(pdus).toEqual([first, second])
      }
      for (let a = 1; a < bytes.length; a += 3) {
        for (let b = a; b < bytes.length; b += 5) {
          const { pdus } = frameChunks([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)], digests)
          expect(pdus).toEqual([first, second])
        }
      }
    })

    it(`frames byte by byte (${label})`, () => {
      const bytes = pduBytes([first, second, buildNopOut()], digests)
      const chunks = Array.from(bytes, (byte) => Buffer.from([byte]))
      const { pdus, framer } = frameChunks(chunks, digests)
      expect(pdus).toEqual([first, second, buildNopOut()])
      expect(framer.state).toBe(FramerState.BHS)
      expect(framer.bufferedBytes).toBe(0)
    })
  }

  it('frames several PDUs in one chunk, data as views of the chunk', () => {
    const list = [buildNopOut({ itt: 1 }), second, buildNopIn({ itt: 3, data: Buffer.from('xyz') }), first]
    const chunk = unpooled(pduBytes(list))
    const { pdus } = frameChunks([chunk])
    expect(pdus).toEqual(list)
    // A view, not a copy: the second PDU's data starts right after its BHS in the chunk.
    expect(pdus[1]!.data.buffer).toBe(chunk.buffer)
    expect(pdus[1]!.data.byteOffset).toBe(chunk.byteOffset + 48 + 48)
  })

  it('copies a data segment only when it spans chunks', () => {
    const bytes = encodePdu(second)
    const head = unpooled(bytes.subarray(0, 50))
    const tail = unpooled(bytes.subarray(50))
    const { pdus } = frameChunks([head, tail])
    expect(pdus).toEqual([second])
    expect(pdus[0]!.data.buffer).not.toBe(head.buffer)
    expect(pdus[0]!.data.buffer).not.toBe(tail.buffer)
    // Header in one chunk, the whole data segment in the next: a view of the second chunk.
    const dataChunk = unpooled(bytes.subarray(48))
    const { pdus: viewed } = frameChunks([bytes.subarray(0, 48), dataChunk])
    expect(viewed).toEqual([second])
    expect(viewed[0]!.data.buffer).toBe(dataChunk.buffer)
  })
})

describe('PduFramer errors', () => {
  const digests = { headerDigest: true, dataDigest: true }

  it('reports a data digest error as a Reject 0x02 and keeps framing', () => {
    const bytes = pduBytes([second, buildNopIn({ itt: 9 })], digests)
    bytes[52 + 3] = bytes[52 + 3]! ^ 0x20 // corrupt a data byte of the first PDU
    for (const chunks of [[bytes], [bytes.subarray(0, 57), bytes.subarray(57)]]) {
      const { framer, pdus, errors } = framerCollect(digests)
      for (const chunk of chunks) expect(framer.push(chunk)).toBe(true)
      expect(pdus).toEqual([buildNopIn({ itt: 9 })])
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ code: PduErrorCode.DataDigest, fatal: false })
      expect(errors[0]!.reaction).toEqual({ kind: 'reject', reason: RejectReason.DataDigestError, header: encodePdu(second).subarray(0, 48) })
      expect(framer.closed).toBe(false)
    }
  })

  it('treats a header digest error as fatal: drop, and refuse further input', () => {
    const bytes = pduBytes([second, buildNopIn()], digests)
    bytes[50] = bytes[50]! ^ 0x01 // header digest byte
    for (const split of [bytes.length, 30, 50, 51]) {
      const { framer, pdus, errors } = framerCollect(digests)
      framer.push(bytes.subarray(0, split))
      framer.push(bytes.subarray(split))
      expect(pdus).toEqual([])
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ code: PduErrorCode.HeaderDigest, fatal: true, reaction: { kind: 'drop' } })
      expect(framer.closed).toBe(true)
      expect(framer.state).toBe(FramerState.CLOSED)
      expect(framer.push(encodePdu(buildNopIn(), digests))).toBe(false)
      expect(pdus).toEqual([])
    }
  })

  it('refuses an oversized DataSegmentLength from the BHS alone, before buffering any data', () => {
    const big = encodePdu(buildDataIn({ data: Buffer.alloc(8193) }))
    const { framer, errors } = framerCollect({}, 8192)
    framer.push(big.subarray(0, 48))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      code: PduErrorCode.SegmentTooLong,
      dataSegmentLength: 8193,
      limit: 8192,
      fatal: true,
      reaction: { kind: 'reject', reason: RejectReason.ProtocolError },
    })
    expect(framer.bufferedBytes).toBe(0)
    expect(framer.push(big.subarray(48))).toBe(false)
    // Also when the BHS itself arrives in pieces, and when the whole PDU is in one chunk.
    const split = framerCollect({}, 8192)
    split.framer.push(big.subarray(0, 20))
    split.framer.push(big.subarray(20, 48))
    expect(split.errors[0]?.code).toBe(PduErrorCode.SegmentTooLong)
    const whole = framerCollect({}, 8192)
    whole.framer.push(big)
    expect(whole.errors[0]?.code).toBe(PduErrorCode.SegmentTooLong)
  })

  it('rejects an unknown opcode with 0x05, skips its data and carries on', () => {
    const unknown = encodePdu(buildNopIn({ data: Buffer.alloc(9, 7) }), digests)
    unknown[0] = 0x3c
    writeDigest(crc32c(unknown.subarray(0, 48)), unknown, 48) // a well-formed header with an unknown opcode
    const bytes = Buffer.concat([unknown, encodePdu(buildNopIn({ itt: 5 }), digests)])
    for (let split = 0; split <= bytes.length; split++) {
      const { pdus, errors, framer } = frameChunks([bytes.subarray(0, split), bytes.subarray(split)], digests)
      expect(errors.map((e) => e.code)).toEqual([PduErrorCode.UnknownOpcode])
      expect(framer.closed).toBe(false)
      expect(pdus).toEqual([buildNopIn({ itt: 5 })])
    }
    // Without digests, and checking the reaction.
    const plain = encodePdu(buildNopIn({ data: Buffer.alloc(9, 7) }))
    plain[0] = 0x3c
    const stream = Buffer.concat([plain, encodePdu(buildNopIn({ itt: 5 }))])
    for (let split = 0; split <= stream.length; split++) {
      const { pdus, errors } = frameChunks([stream.subarray(0, split), stream.subarray(split)])
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ code: PduErrorCode.UnknownOpcode, fatal: false, reaction: { kind: 'reject', reason: RejectReason.CommandNotSupported } })
      expect(pdus).toEqual([buildNopIn({ itt: 5 })])
    }
  })

  it('checks the role: a target refuses target opcodes', () => {
    const errors: PduError[] = []
    const pdus: Pdu[] = []
    const framer = new PduFramer({ role: 'target', onPdu: (p) => pdus.push(p), onError: (e) => errors.push(e) })
    framer.push(pduBytes([buildNopIn(), buildNopOut()]))
    expect(errors.map((e) => e.code)).toEqual([PduErrorCode.UnexpectedOpcode])
    expect(pdus.map((p) => p.opcode)).toEqual([Opcode.NopOut])
  })

  it('closes and rethrows when onPdu throws', () => {
    const framer = new PduFramer({
      onPdu: () => {
        throw new Error('consumer bug')
      },
      onError: () => undefined,
    })
    expect(() => framer.push(encodePdu(buildNopIn()))).toThrow('consumer bug')
    expect(framer.closed).toBe(true)
  })
})

describe('PduFramer runtime settings', () => {
  it('switches digests on after the final Login Response, within the same chunk', () => {
    const login = buildLoginResponse({ csg: 1, nsg: 3, transit: true })
    const after = buildNopIn({ itt: 4, data: Buffer.from('ping') })
    const bytes = Buffer.concat([encodePdu(login), encodePdu(after, { headerDigest: true, dataDigest: true })])
    for (let split = 0; split <= bytes.length; split++) {
      const pdus: Pdu[] = []
      const errors: PduError[] = []
      const framer: PduFramer = new PduFramer({
        onPdu: (pdu) => {
          pdus.push(pdu)
          if (pdu.opcode === Opcode.LoginResponse) framer.setDigests({ headerDigest: true, dataDigest: true })
        },
        onError: (e) => errors.push(e),
      })
      framer.push(bytes.subarray(0, split))
      framer.push(bytes.subarray(split))
      expect(errors).toEqual([])
      expect(pdus).toEqual([login, after])
    }
  })

  it('applies a new MaxRecvDataSegmentLength to the next PDU', () => {
    const { framer, pdus, errors } = framerCollect({}, 8192)
    framer.push(encodePdu(buildDataIn({ data: Buffer.alloc(8000) })))
    framer.setMaxRecvDataSegmentLength(262144)
    framer.push(encodePdu(buildDataIn({ data: Buffer.alloc(200_000) })))
    expect(errors).toEqual([])
    expect(pdus.map((p) => p.data.length)).toEqual([8000, 200_000])
    expect(() => framer.setMaxRecvDataSegmentLength(2 ** 24)).toThrow(RangeError)
  })

  it('publishes received PDUs on the iscsi:pdu:receive diagnostics channel', () => {
    const seen: unknown[] = []
    const listener = (message: unknown): void => {
      seen.push(message)
    }
    diagnosticsChannel.subscribe('iscsi:pdu:receive', listener)
    try {
      frameChunks([encodePdu(buildNopIn({ itt: 77 }))])
    } finally {
      diagnosticsChannel.unsubscribe('iscsi:pdu:receive', listener)
    }
    expect(seen).toEqual([{ pdu: buildNopIn({ itt: 77 }) }])
  })
})

describe('PduFramer properties', () => {
  const budget = { interruptAfterTimeLimit: 1500, numRuns: 100_000 }

  it('any stream of valid PDUs, split anywhere, comes out whole and in order', () => {
    fc.assert(
      fc.property(fc.array(arbitraryPdu, { minLength: 1, maxLength: 6 }), arbitraryDigests, fc.array(fc.nat(), { maxLength: 8 }), (list, digests, cuts) => {
        const bytes = pduBytes(list, digests)
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const chunks: Buffer[] = []
        let last = 0
        for (const p of points) {
          chunks.push(bytes.subarray(last, p))
          last = p
        }
        chunks.push(bytes.subarray(last))
        const { pdus, errors, framer } = frameChunks(chunks, digests)
        expect(errors).toEqual([])
        expect(pdus).toEqual(decodeAll(bytes, digests))
        expect(pdus).toEqual(list)
        expect(framer.bufferedBytes).toBe(0)
      }),
      budget,
    )
  })

  it('random and mutated input only ever yields PduError, never a throw, within the memory bound', () => {
    const max = 1024
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
          fc
            .tuple(fc.array(arbitraryPdu, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }))
            .map(([list, flips]) => {
              const bytes = Buffer.from(pduBytes(list, { headerDigest: true, dataDigest: true }))
              for (const [at, xor] of flips) bytes[at % bytes.length] = bytes[at % bytes.length]! ^ xor
              return bytes
            }),
        ),
        arbitraryDigests,
        fc.boolean(),
        fc.integer({ min: 1, max: 97 }),
        (bytes, digests, strict, step) => {
          const errors: PduError[] = []
          const framer = new PduFramer({ ...digests, strict, maxRecvDataSegmentLength: max, onPdu: () => undefined, onError: (e) => errors.push(e) })
          for (let at = 0; at < bytes.length; at += step) {
            framer.push(bytes.subarray(at, at + step))
            // BHS + AHS + header digest + data + padding + data digest
            expect(framer.bufferedBytes).toBeLessThanOrEqual(48 + 1020 + 4 + max + 3 + 4)
          }
          for (const error of errors) expect(error).toBeInstanceOf(PduError)
          if (errors.some((e) => e.fatal)) expect(framer.closed).toBe(true)
        },
      ),
      budget,
    )
  })
})

describe('PduFramer placeData', () => {
  it('puts each data segment into the buffer the consumer names, whatever the split', () => {
    const list = [buildDataIn({ itt: 1, bufferOffset: 0, data: Buffer.from('0123456') }), buildNopIn({ itt: 2 }), buildDataIn({ itt: 3, bufferOffset: 7, data: Buffer.from('789') })]
    for (const digests of DIGEST_SETTINGS) {
      const bytes = pduBytes(list, digests)
      for (let split = 0; split <= bytes.length; split++) {
        const readBuffer = Buffer.alloc(10)
        const asked: number[] = []
        const pdus: Pdu[] = []
        const framer = new PduFramer({
          ...digests,
          placeData: (pdu, length) => {
            asked.push(length)
            return pdu.opcode === Opcode.DataIn ? readBuffer.subarray(pdu.bufferOffset, pdu.bufferOffset + length) : undefined
          },
          onPdu: (pdu) => pdus.push(pdu),
          onError: (error) => {
            throw error
          },
        })
        framer.push(bytes.subarray(0, split))
        framer.push(bytes.subarray(split))
        expect(pdus).toEqual(list)
        expect(asked).toEqual([7, 3])
        expect(readBuffer.toString()).toBe('0123456789')
        expect(pdus[0]!.data.buffer).toBe(readBuffer.buffer)
      }
    }
  })

  it('closes the framer when placeData returns the wrong length', () => {
    const framer = new PduFramer({ placeData: () => Buffer.alloc(1), onPdu: () => undefined, onError: () => undefined })
    expect(() => framer.push(encodePdu(buildDataIn({ data: Buffer.alloc(8) })))).toThrow(RangeError)
    expect(framer.closed).toBe(true)
  })
})
