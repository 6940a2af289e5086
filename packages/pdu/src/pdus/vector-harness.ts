// Shared by the byte-vector tests in this folder (mqtt-packet style): every vector runs three ways, decode, encode
// and round trip. Not exported from the package.
import { describe, expect, it } from 'vitest'
import { decodePdu, encodePdu } from '../codec.js'
import type { DigestOptions, Pdu } from '../types.js'

/**
 * Bytes from commented hex: every `//` comment is dropped, then every pair of hex digits is a byte.
 * Write one field per line with its offset and meaning.
 */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  const text = strings.raw.reduce((acc, part, i) => acc + part + (i < values.length ? String(values[i]) : ''), '')
  const digits = text
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '')
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex vector: ${digits}`)
  return Buffer.from(digits, 'hex')
}

export interface Vector {
  title: string
  bytes: Buffer
  pdu: Pdu
  digests?: DigestOptions
}

export function vectorSuite(name: string, vectors: readonly Vector[]): void {
  describe(name, () => {
    for (const { title, bytes, pdu, digests } of vectors) {
      describe(title, () => {
        it('decodes', () => {
          const { value, bytesRead } = decodePdu(bytes, 0, { ...digests, strict: true })
          expect(bytesRead).toBe(bytes.length)
          expect(value).toEqual(pdu)
        })
        it('encodes', () => {
          expect(encodePdu(pdu, digests).toString('hex')).toBe(bytes.toString('hex'))
        })
        it('round-trips', () => {
          expect(decodePdu(encodePdu(pdu, digests), 0, digests).value).toEqual(pdu)
          expect(encodePdu(decodePdu(bytes, 0, digests).value, digests).equals(bytes)).toBe(true)
        })
      })
    }
  })
}
