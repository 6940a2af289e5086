// LUN field encoding (SAM-5 4.6, RFC 7143 11.2.1.x: the 8-byte LUN field carries a SAM LUN). Single-level LUNs
// only: peripheral device addressing for 0-255 and flat space addressing for 0-16383, the two methods Linux, ESXi and
// Windows initiators use.
import { LunError, PduErrorCode } from './errors.js'

/** Address method, bits 7-6 of byte 0 (SAM-5 4.6.7). */
export const LunAddressMethod = {
  Peripheral: 0b00,
  FlatSpace: 0b01,
  LogicalUnit: 0b10,
  Extended: 0b11,
} as const
export type LunAddressMethod = (typeof LunAddressMethod)[keyof typeof LunAddressMethod]

/** Highest LUN that flat space addressing can carry (14 bits). */
export const MAX_LUN = 0x3fff

/**
 * The 8-byte LUN field for logical unit `n`: peripheral device addressing (bus 0) below 256, flat space addressing
 * up to 16383 (SAM-5 4.6.9, 4.6.10). Throws LunError for anything else.
 */
export function encodeLun(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LUN) {
    throw new LunError(PduErrorCode.LunRange, `LUN ${String(n)} is outside 0-${MAX_LUN}`)
  }
  if (n < 256) return BigInt(n) << 48n
  return BigInt(0x4000 | n) << 48n
}

/**
 * The logical unit number in a LUN field. Accepts single-level peripheral (bus 0) and flat space addressing; throws
 * LunError for other address methods, a nonzero bus, or a second level.
 */
export function decodeLun(field: bigint): number {
  if (typeof field !== 'bigint' || field < 0n || field > 0xffffffffffffffffn) {
    throw new LunError(PduErrorCode.LunRange, 'LUN field must be an unsigned 64-bit bigint')
  }
  const first = Number(field >> 48n)
  if ((field & 0xffffffffffffn) !== 0n) {
    throw new LunError(PduErrorCode.LunAddressMethod, `multi-level LUN 0x${field.toString(16).padStart(16, '0')} is not supported`)
  }
  const method = first >>> 14
  if (method === LunAddressMethod.Peripheral) {
    if (first >>> 8 !== 0) {
      throw new LunError(PduErrorCode.LunAddressMethod, `peripheral LUN on bus ${first >>> 8} is not supported`)
    }
    return first & 0xff
  }
  if (method === LunAddressMethod.FlatSpace) return first & MAX_LUN
  throw new LunError(
    PduErrorCode.LunAddressMethod,
    `LUN address method ${method === LunAddressMethod.LogicalUnit ? 'logical unit' : 'extended'} is not supported`,
  )
}
