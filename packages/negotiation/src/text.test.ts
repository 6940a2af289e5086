import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { buildText, parseText, splitSegments, textLength } from './text.js'
import type { TextPair } from './types.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof NegotiationError ? error.code : 'not a NegotiationError'
  }
  return undefined
}

describe('text codec vector (RFC 7143 6.1)', () => {
  const bytes = Buffer.from([
    // "HeaderDigest=CRC32C,None\0"
    0x48, 0x65, 0x61, 0x64, 0x65, 0x72, 0x44, 0x69, 0x67, 0x65, 0x73, 0x74, 0x3d, 0x43, 0x52, 0x43, 0x33, 0x32, 0x43,
    0x2c, 0x4e, 0x6f, 0x6e, 0x65, 0x00,
    // "X-a=\0" (empty value)
    0x58, 0x2d, 0x61, 0x3d, 0x00,
    // "TargetAlias=" + U+00E9 (0xc3 0xa9 in UTF-8) + "\0"
    0x54, 0x61, 0x72, 0x67, 0x65, 0x74, 0x41, 0x6c, 0x69, 0x61, 0x73, 0x3d, 0xc3, 0xa9, 0x00,
  ])
  const pairs: TextPair[] = [
    { key: 'HeaderDigest', value: 'CRC32C,None' },
    { key: 'X-a', value: '' },
    { key: 'TargetAlias', value: '\u00e9' },
  ]

  it('decodes', () => {
    expect(parseText(bytes)).toEqual(pairs)
  })
  it('encodes', () => {
    expect(buildText(pairs)).toEqual(bytes)
    expect(textLength(pairs)).toBe(bytes.length)
  })
  it('round-trips', () => {
    expect(buildText(parseText(bytes))).toEqual(bytes)
  })
})

describe('parseText', () => {
  it('keeps repeated keys in order (the engines judge them)', () => {
    const data = Buffer.from('TargetName=a\0TargetAddress=1.2.3.4:3260,1\0TargetAddress=[::1]:3260,1\0')
    expect(parseText(data).map((p) => p.value)).toEqual(['a', '1.2.3.4:3260,1', '[::1]:3260,1'])
  })

  it('skips NUL padding and accepts a last pair without NUL', () => {
    expect(parseText(Buffer.from('A=1\0\0\0B=2'))).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '2' },
    ])
    expect(parseText(Buffer.alloc(0))).toEqual([])
  })

  it('splits on the first "=" only', () => {
    expect(parseText(Buffer.from('X-k=a=b\0'))).toEqual([{ key: 'X-k', value: 'a=b' }])
  })

  it('accepts a 63-byte key and refuses a 64-byte key (RFC 7143 6.1)', () => {
    expect(parseText(Buffer.from(`${'K'.repeat(63)}=v\0`))).toHaveLength(1)
    expect(codeOf(() => parseText(Buffer.from(`${'K'.repeat(64)}=v\0`)))).toBe(NegotiationErrorCode.KeyTooLong)
  })

  it('accepts a 255-byte value and refuses 256 bytes (RFC 7143 6.1)', () => {
    expect(parseText(Buffer.from(`TargetAlias=${'v'.repeat(255)}\0`))).toHaveLength(1)
    expect(codeOf(() => parseText(Buffer.from(`TargetAlias=${'v'.repeat(256)}\0`)))).toBe(
      NegotiationErrorCode.ValueTooLong,
    )
    // Counted in bytes, not characters: 128 two-byte characters are 256 bytes.
    expect(codeOf(() => parseText(Buffer.from(`X-k=${'\u00e9'.repeat(128)}\0`)))).toBe(
      NegotiationErrorCode.ValueTooLong,
    )
  })

  it('allows CHAP_C/CHAP_R binary values of 1024 hex digits and beyond 255 bytes (RFC 7143 12.1.3)', () => {
    const value = `0x${'a'.repeat(1024)}`
    expect(parseText(Buffer.from(`CHAP_C=${value}\0CHAP_R=${value}\0`))).toHaveLength(2)
    expect(codeOf(() => parseText(Buffer.from(`CHAP_C=0x${'a'.repeat(4096)}\0`)))).toBe(
      NegotiationErrorCode.ValueTooLong,
    )
  })

  it('allows a TargetAddress longer than 255 bytes (a long DNS name, RFC 7143 13.8)', () => {
    const value = `${'h'.repeat(253)}:3260,1`
    expect(parseText(Buffer.from(`TargetAddress=${value}\0`))[0]!.value).toBe(value)
  })

  it.each([
    ['no "="', 'HeaderDigest\0'],
    ['empty key', '=x\0'],
    ['space in key', 'Header Digest=x\0'],
    ['colon in key', 'a:b=x\0'],
  ])('refuses %s (RFC 7143 6.1)', (_name, text) => {
    expect(codeOf(() => parseText(Buffer.from(text)))).toBe(NegotiationErrorCode.TextSyntax)
  })

  it('refuses invalid UTF-8 (RFC 7143 6.1: UTF-8 text)', () => {
    expect(codeOf(() => parseText(Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x00])))).toBe(NegotiationErrorCode.TextSyntax)
    expect(codeOf(() => parseText(Buffer.from([0xc3, 0x3d, 0x31, 0x00])))).toBe(NegotiationErrorCode.TextSyntax)
  })

  it('maps errors to login status 0x0200 by default and to a Reject outside login', () => {
    try {
      parseText(Buffer.from('nonsense\0'))
      expect.unreachable()
    } catch (error) {
      const e = error as NegotiationError
      expect(e.reaction).toEqual({ kind: 'login', statusClass: 2, statusDetail: 0 })
      expect(e.asReject().reaction).toEqual({ kind: 'reject', reason: 0x04 })
      expect(e.asReject().code).toBe(e.code)
    }
  })
})

describe('buildText', () => {
  it('refuses keys and values it could not send', () => {
    expect(() => buildText([{ key: '', value: 'x' }])).toThrow(NegotiationError)
    expect(() => buildText([{ key: 'a=b', value: 'x' }])).toThrow(NegotiationError)
    expect(() => buildText([{ key: 'K'.repeat(64), value: 'x' }])).toThrow(NegotiationError)
    expect(() => buildText([{ key: 'A', value: 'x\0y' }])).toThrow(NegotiationError)
  })
})

describe('splitSegments (C=1 sequences, RFC 7143 11.10.2)', () => {
  it('cuts at the limit, anywhere in a pair, and joins back to the same bytes', () => {
    const data = buildText([
      { key: 'TargetName', value: 'iqn.2026-01.org.example:disk' },
      { key: 'TargetAddress', value: '[::1]:3260,1' },
    ])
    for (let limit = 1; limit <= data.length + 1; limit++) {
      const segments = splitSegments(data, limit)
      expect(segments.every((s) => s.length <= limit && s.length > 0)).toBe(true)
      expect(Buffer.concat(segments)).toEqual(data)
    }
  })

  it('gives one empty segment for an empty text (the empty answer of a C=1 exchange)', () => {
    expect(splitSegments(Buffer.alloc(0), 8192)).toEqual([Buffer.alloc(0)])
  })

  it('refuses a non-positive limit', () => {
    expect(() => splitSegments(Buffer.from('a'), 0)).toThrow(RangeError)
  })
})

const keyArb = fc.stringMatching(/^[A-Za-z0-9.\-+@_#]{1,63}$/)
const valueArb = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((v) => !v.includes('\0') && Buffer.byteLength(v) <= 255)

describe('properties', () => {
  it('parse(build(pairs)) equals pairs', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: keyArb, value: valueArb }), { maxLength: 20 }), (pairs) => {
        const text = buildText(pairs)
        expect(parseText(text)).toEqual(pairs)
        // Split anywhere and joined again, the same text comes back.
        expect(parseText(Buffer.concat(splitSegments(text, 7)))).toEqual(pairs)
      }),
      { interruptAfterTimeLimit: 1500, numRuns: 2000 },
    )
  })

  it('random bytes only ever produce pairs or a NegotiationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          const pairs = parseText(bytes)
          for (const pair of pairs) expect(pair.key.length).toBeGreaterThan(0)
        } catch (error) {
          expect(error).toBeInstanceOf(NegotiationError)
        }
      }),
      { interruptAfterTimeLimit: 1500, numRuns: 5000 },
    )
  })
})
