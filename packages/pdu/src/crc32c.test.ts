import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkDigest,
  Crc32c,
  crc32c,
  crc32cFallback,
  crc32cImplementation,
  crc32cNative,
  crc32cRange,
  crc32cSpan,
  digestOf,
  readDigest,
  writeDigest,
} from './crc32c.js'

const incrementing = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const decrementing = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))

// RFC 3720 appendix B.4: CRC32C results as the bytes that go on the wire.
const vectors: [string, Buffer, string][] = [
  ['32 bytes of 0x00', Buffer.alloc(32), 'aa 36 91 8a'],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), '43 ab a8 62'],
  ['32 incrementing bytes 00..1f', incrementing, '4e 79 dd 46'],
  ['32 decrementing bytes 1f..00', decrementing, '5c db 3f 11'],
  [
    'the iSCSI read PDU (BHS of a READ(10) SCSI Command)',
    Buffer.from(
      '01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018 28000000 00000000 02000000 00000000'.replace(/ /g, ''),
      'hex',
    ),
    '56 3a 96 d9',
  ],
]

const implementations = [
  ['crc32c', crc32c],
  ['fallback', crc32cFallback],
  ...(crc32cNative ? [['native', crc32cNative] as const] : []),
] as const

describe('CRC32C RFC 3720 B.4 vectors', () => {
  for (const [name, fn] of implementations) {
    for (const [title, input, wire] of vectors) {
      it(`${name}: ${title} -> ${wire}`, () => {
        const out = Buffer.alloc(4)
        writeDigest(fn(input, 0), out, 0)
        expect(out.toString('hex').match(/../g)!.join(' ')).toBe(wire)
        expect(digestOf(input).toString('hex')).toBe(wire.replace(/ /g, ''))
        expect(checkDigest(input, out, 0)).toBe(true)
      })
    }
  }

  it('reads a digest back as the CRC value', () => {
    expect(readDigest(Buffer.from([0xaa, 0x36, 0x91, 0x8a]), 0)).toBe(0x8a9136aa)
    expect(crc32c(Buffer.alloc(0))).toBe(0)
  })

  it('uses the native implementation on this machine', () => {
    expect(crc32cImplementation).toBe('native')
  })
})

/** Bit-at-a-time CRC32C straight from the definition (reflected polynomial 0x82f63b78), as an independent oracle. */
function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}

describe('CRC32C properties', () => {
  const budget = { interruptAfterTimeLimit: 1000, numRuns: 10_000 }
  const data = fc.uint8Array({ maxLength: 3000 })

  it('the fallback equals the bitwise definition at any length and byte alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), fc.integer({ min: 0, max: 7 }), (bytes, skew) => {
        const view = Buffer.from(bytes.length + skew === 0 ? [] : [...new Uint8Array(skew), ...bytes]).subarray(skew)
        expect(crc32cFallback(view)).toBe(bitwiseCrc32c(bytes))
      }),
      budget,
    )
  })

  it('native and fallback agree on random buffers, including native-sized ones', () => {
    fc.assert(
      fc.property(data, fc.integer({ min: 0, max: 0xffffffff }), (bytes, previous) => {
        const expected = crc32cFallback(bytes, previous)
        expect(crc32c(bytes, previous)).toBe(expected)
        if (crc32cNative) expect(crc32cNative(bytes, previous) >>> 0).toBe(expected)
      }),
      budget,
    )
  })

  it('incremental equals one-shot, whatever the split', () => {
    fc.assert(
      fc.property(data, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const crc = new Crc32c()
        let fallback = 0
        let last = 0
        for (const p of [...points, bytes.length]) {
          crc.update(bytes.subarray(last, p))
          fallback = crc32cFallback(bytes.subarray(last, p), fallback)
          last = p
        }
        const oneShot = crc32c(bytes)
        expect(crc.digest()).toBe(oneShot)
        expect(fallback).toBe(oneShot)
        expect(new Crc32c().update(bytes).reset().update(bytes).digest()).toBe(oneShot)
      }),
      budget,
    )
  })

  it('range and span helpers equal a CRC of the subarray', () => {
    fc.assert(
      fc.property(data, fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = a % (bytes.length + 1)
        const end = start + (b % (bytes.length - start + 1))
        const expected = crc32cFallback(bytes.subarray(start, end))
        expect(crc32cRange(bytes, start, end)).toBe(expected)
        expect(crc32cSpan(bytes, start, end, 0)).toBe(expected)
      }),
      budget,
    )
  })
})
