import { describe, expect, it } from 'vitest'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { TextAccumulator } from './text-accumulator.js'
import { buildText } from './text.js'

describe('TextAccumulator (RFC 7143 11.10.2, 11.12.2: text spanning PDUs with C=1)', () => {
  const pairs = [
    { key: 'InitiatorName', value: 'iqn.2026-01.org.example:host' },
    { key: 'SessionType', value: 'Normal' },
    { key: 'X-vendor', value: 'v' },
  ]
  const data = buildText(pairs)

  it('joins a text split at every possible boundary, keys split across PDUs included', () => {
    for (let cut = 0; cut <= data.length; cut++) {
      const acc = new TextAccumulator()
      acc.push(data.subarray(0, cut))
      expect(acc.finish(data.subarray(cut))).toEqual(pairs)
      expect(acc.pending).toBe(false)
    }
  })

  it('joins a text split into one-byte PDUs', () => {
    const acc = new TextAccumulator()
    for (const byte of data.subarray(0, -1)) acc.push(Uint8Array.of(byte))
    expect(acc.length).toBe(data.length - 1)
    expect(acc.finish(data.subarray(-1))).toEqual(pairs)
  })

  it('copies what it holds (the caller may reuse its buffer)', () => {
    const acc = new TextAccumulator()
    const chunk = Buffer.from(data.subarray(0, 10))
    acc.push(chunk)
    chunk.fill(0x41)
    expect(acc.finish(data.subarray(10))).toEqual(pairs)
  })

  it('refuses to hold more than its limit and resets (bounded memory)', () => {
    const acc = new TextAccumulator(64)
    acc.push(Buffer.alloc(60, 0x41))
    try {
      acc.push(Buffer.alloc(5, 0x41))
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(NegotiationError)
      expect((error as NegotiationError).code).toBe(NegotiationErrorCode.TextTooLong)
    }
    expect(acc.length).toBe(0)
  })

  it('defaults to 64 KiB', () => {
    const acc = new TextAccumulator()
    expect(acc.maxLength).toBe(65536)
    acc.push(Buffer.alloc(65536, 0x41))
    expect(() => acc.push(Uint8Array.of(0x41))).toThrow(NegotiationError)
  })
})
