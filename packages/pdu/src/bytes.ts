// Validated big-endian field writers for the encoders. A value that doesn't fit its wire field is a PduEncodeError,
// never a silent truncation.
import { PduEncodeError } from './errors.js'

const MAX_U64 = 0xffffffffffffffffn

function invalid(field: string, value: unknown, bits: number): never {
  throw new PduEncodeError(`${field} must be an unsigned ${bits}-bit integer, got ${String(value)}`)
}

export function put32(buf: Buffer, offset: number, value: number, field: string): void {
  if (value >>> 0 !== value) invalid(field, value, 32)
  buf[offset] = value >>> 24
  buf[offset + 1] = value >>> 16
  buf[offset + 2] = value >>> 8
  buf[offset + 3] = value
}

export function put24(buf: Buffer, offset: number, value: number, field: string): void {
  if (value >>> 0 !== value || value > 0xffffff) invalid(field, value, 24)
  buf[offset] = value >>> 16
  buf[offset + 1] = value >>> 8
  buf[offset + 2] = value
}

export function put16(buf: Buffer, offset: number, value: number, field: string): void {
  if (value >>> 0 !== value || value > 0xffff) invalid(field, value, 16)
  buf[offset] = value >>> 8
  buf[offset + 1] = value
}

/** Checks that `value` fits in `bits` bits and returns it, for fields packed with others into one byte. */
export function bits(value: number, width: number, field: string): number {
  if (value >>> 0 !== value || value >= 1 << width) invalid(field, value, width)
  return value
}

export function putLun(buf: Buffer, offset: number, value: bigint, field = 'lun'): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_U64) invalid(field, value, 64)
  buf.writeBigUInt64BE(value, offset)
}

export function putBytes(buf: Buffer, offset: number, value: Uint8Array, length: number, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new PduEncodeError(`${field} must be a ${length}-byte Buffer`)
  }
  buf.set(value, offset)
}

export function flag(value: boolean, mask: number): number {
  return value ? mask : 0
}

export function put8(buf: Buffer, offset: number, value: number, field: string): void {
  if (value >>> 0 !== value || value > 0xff) invalid(field, value, 8)
  buf[offset] = value
}

// Readers for the decoders. Callers have checked that the bytes are there (decodePdu and the framer check lengths
// first); these skip Node's per-call argument validation, which costs more than the read on the hot path.

export function get32(buf: Uint8Array, offset: number): number {
  return buf[offset]! * 0x1000000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!)
}

export function get16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!
}

/** LUN fields 0x00nn000000000000 (peripheral LUNs 0-255) are by far the most common: no BigInt arithmetic for them. */
const PERIPHERAL_LUNS: readonly bigint[] = Array.from({ length: 256 }, (_, n) => BigInt(n) << 48n)

export function getLun(buf: Uint8Array, offset: number): bigint {
  const hi = get32(buf, offset)
  const lo = get32(buf, offset + 4)
  if (lo === 0 && (hi & 0xff00ffff) === 0) return PERIPHERAL_LUNS[hi >>> 16]!
  return (BigInt(hi) << 32n) | BigInt(lo)
}
