// Value encodings of iSCSI text keys (RFC 7143 6.1): decimal, hex (0x) and base64 (0b) numbers, binary values for
// CHAP, Yes/No booleans and comma-separated lists.
import { NegotiationError, NegotiationErrorCode } from './errors.js'

/** Largest numeric value a key may carry: 64 bits (RFC 7143 6.1 "numerical-value"). */
const MAX_NUMBER = (1n << 64n) - 1n

const DECIMAL = /^[0-9]+$/
const HEX = /^0[xX][0-9a-fA-F]+$/
const BASE64 = /^0[bB](?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function badValue(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.BadValue, message)
}

/**
 * A numerical value: decimal, `0x` hex or `0b` base64 (RFC 7143 6.1). Returns a bigint so that an out-of-range
 * but well-formed number can be answered Reject rather than treated as malformed.
 */
export function parseNumber(value: string): bigint {
  let result: bigint
  if (DECIMAL.test(value)) {
    if (value.length > 20) throw badValue('numeric value longer than 64 bits')
    result = BigInt(value)
  } else if (HEX.test(value)) {
    const digits = value.slice(2).replace(/^0+(?=.)/, '')
    if (digits.length > 16) throw badValue('numeric value longer than 64 bits')
    result = BigInt(`0x${digits}`)
  } else if (value.length > 2 && BASE64.test(value)) {
    const bytes = Buffer.from(value.slice(2), 'base64')
    if (bytes.length > 8) throw badValue('numeric value longer than 64 bits')
    result = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`)
  } else {
    throw badValue('not a numerical value')
  }
  if (result > MAX_NUMBER) throw badValue('numeric value longer than 64 bits')
  return result
}

/** True when `value` parses as a number. */
export function isNumber(value: string): boolean {
  try {
    parseNumber(value)
    return true
  } catch {
    return false
  }
}

/**
 * A binary value (CHAP_C, CHAP_R): `0x` hex (an odd digit count has an implied leading zero) or `0b` base64
 * (RFC 7143 6.1, 12.1.3). `maxBytes` bounds the decoded length.
 */
export function parseBinary(value: string, maxBytes = 1024): Buffer {
  let bytes: Buffer
  if (HEX.test(value)) {
    const digits = value.slice(2)
    bytes = Buffer.from(digits.length % 2 === 1 ? `0${digits}` : digits, 'hex')
  } else if (value.length > 2 && BASE64.test(value)) {
    bytes = Buffer.from(value.slice(2), 'base64')
  } else {
    throw badValue('not a binary value (0x hex or 0b base64)')
  }
  if (bytes.length === 0) throw badValue('empty binary value')
  if (bytes.length > maxBytes) throw badValue(`binary value longer than ${maxBytes} bytes`)
  return bytes
}

/** Encode bytes as a binary value: `0x` + hex (default) or `0b` + base64. */
export function formatBinary(bytes: Uint8Array, encoding: 'hex' | 'base64' = 'hex'): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return encoding === 'hex' ? `0x${buffer.toString('hex')}` : `0b${buffer.toString('base64')}`
}

/** Yes/No (RFC 7143 6.2.2); undefined for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  if (value === 'Yes') return true
  if (value === 'No') return false
  return undefined
}

export function formatBoolean(value: boolean): 'Yes' | 'No' {
  return value ? 'Yes' : 'No'
}

/** A comma-separated list (RFC 7143 6.2.1); empty items are dropped. */
export function parseList(value: string): string[] {
  return value.split(',').filter((item) => item.length > 0)
}
