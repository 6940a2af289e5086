// CDB field layouts: where a field sits in a CDB (byte, bit, width), how it reads and writes, which bits it covers
// (the CDB USAGE DATA of REPORT SUPPORTED OPERATION CODES, SPC-4 6.35.3) and where the sense-key-specific field
// pointer points when its value is rejected (SPC-4 4.5.2.4.2: the most significant byte, and the most significant
// bit when the field is not byte aligned).
import type { FieldPointer } from '../errors.js'

/** One bit: `byte` and `bit` (0 = least significant). */
export interface FlagField {
  readonly kind: 'flag'
  readonly byte: number
  readonly bit: number
}

/** A run of `width` bits inside one byte, `bit` the least significant. */
export interface BitsField {
  readonly kind: 'bits'
  readonly byte: number
  readonly bit: number
  readonly width: number
}

/** A big-endian unsigned integer of `bytes` bytes at `byte`, optionally only its low `width` bits (READ(6) LBA). */
export interface UintField {
  readonly kind: 'uint'
  readonly byte: number
  readonly bytes: number
  readonly width?: number
}

export type CdbField = FlagField | BitsField | UintField

export const flag = (byte: number, bit: number): FlagField => ({ kind: 'flag', byte, bit })
export const bits = (byte: number, bit: number, width: number): BitsField => ({ kind: 'bits', byte, bit, width })
export const uint = (byte: number, bytes: number, width?: number): UintField =>
  width === undefined ? { kind: 'uint', byte, bytes } : { kind: 'uint', byte, bytes, width }

/** The parsed value of a field: flags are booleans, the rest numbers. */
export type FieldValue<F> = F extends FlagField ? boolean : number
/** What a builder accepts for a field (8-byte fields also as bigint). */
export type FieldInput<F> = F extends FlagField ? boolean : number | bigint

/** Number of value bits of a field. */
export function fieldWidth(field: CdbField): number {
  switch (field.kind) {
    case 'flag':
      return 1
    case 'bits':
      return field.width
    case 'uint':
      return field.width ?? field.bytes * 8
  }
}

/** Last byte (exclusive) a field touches. */
export function fieldEnd(field: CdbField): number {
  return field.kind === 'uint' ? field.byte + field.bytes : field.byte + 1
}

/**
 * Read a field. Integers wider than 53 bits come back as the nearest number: every such value is far beyond any
 * capacity or length, so range checks against it still fail as they must.
 */
export function readField(cdb: Buffer, field: CdbField): number | boolean {
  switch (field.kind) {
    case 'flag':
      return ((cdb[field.byte]! >> field.bit) & 1) === 1
    case 'bits':
      return (cdb[field.byte]! >> field.bit) & ((1 << field.width) - 1)
    case 'uint': {
      if (field.bytes === 8) {
        const value = cdb.readBigUInt64BE(field.byte)
        return Number(field.width === undefined ? value : BigInt.asUintN(field.width, value))
      }
      const value = cdb.readUIntBE(field.byte, field.bytes)
      return field.width === undefined ? value : value % 2 ** field.width
    }
  }
}

/** Write a field; a value that does not fit is a RangeError (a builder was given bad input). */
export function writeField(cdb: Buffer, field: CdbField, value: number | boolean | bigint, name = 'field'): void {
  if (field.kind === 'flag') {
    if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`)
    if (value) cdb[field.byte] = cdb[field.byte]! | (1 << field.bit)
    else cdb[field.byte] = cdb[field.byte]! & ~(1 << field.bit)
    return
  }
  if (typeof value === 'boolean') throw new TypeError(`${name} must be a number`)
  const width = fieldWidth(field)
  const big = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : undefined
  if (big === undefined || big < 0n || big >= 1n << BigInt(width)) {
    throw new RangeError(`${name} ${String(value)} does not fit in ${width} bits`)
  }
  if (field.kind === 'bits') {
    const mask = ((1 << field.width) - 1) << field.bit
    cdb[field.byte] = (cdb[field.byte]! & ~mask) | (Number(big) << field.bit)
    return
  }
  if (field.bytes === 8) {
    const keep = field.width === undefined ? 0n : cdb.readBigUInt64BE(field.byte) & ~((1n << BigInt(field.width)) - 1n)
    cdb.writeBigUInt64BE(keep | big, field.byte)
    return
  }
  const keep = field.width === undefined ? 0 : cdb.readUIntBE(field.byte, field.bytes) - (cdb.readUIntBE(field.byte, field.bytes) % 2 ** field.width)
  cdb.writeUIntBE(keep + Number(big), field.byte, field.bytes)
}

/** Set the bits a field covers in a usage mask (one byte per CDB byte). */
export function markField(mask: Buffer, field: CdbField): void {
  if (field.kind === 'flag') {
    mask[field.byte] = mask[field.byte]! | (1 << field.bit)
    return
  }
  if (field.kind === 'bits') {
    mask[field.byte] = mask[field.byte]! | (((1 << field.width) - 1) << field.bit)
    return
  }
  const width = fieldWidth(field)
  for (let i = 0; i < field.bytes; i++) {
    // Bits of byte i are value bits (bytes-1-i)*8 .. +7; keep those below `width`.
    const low = (field.bytes - 1 - i) * 8
    const used = Math.max(0, Math.min(8, width - low))
    mask[field.byte + i] = mask[field.byte + i]! | ((1 << used) - 1)
  }
}

/** The field pointer of a field (SPC-4 4.5.2.4.2). */
export function fieldPointer(field: CdbField, inCdb = true): FieldPointer {
  switch (field.kind) {
    case 'flag':
      return { inCdb, byte: field.byte, bit: field.bit }
    case 'bits':
      return { inCdb, byte: field.byte, bit: field.bit + field.width - 1 }
    case 'uint': {
      const width = fieldWidth(field)
      if (width % 8 === 0) return { inCdb, byte: field.byte + field.bytes - width / 8 }
      const skipped = Math.floor((field.bytes * 8 - width) / 8)
      return { inCdb, byte: field.byte + skipped, bit: (width - 1) % 8 }
    }
  }
}
