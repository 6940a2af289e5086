// The key=value text of Login and Text PDU data segments (RFC 7143 6.1): UTF-8, each pair ends with a NUL.
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { maxValueLength } from './keys.js'
import type { TextPair } from './types.js'

/** Key names are at most 63 bytes (RFC 7143 6.1). */
export const MAX_KEY_LENGTH = 63

/** Key name characters: letters, digits, `.`, `-`, `+`, `@`, `_`, and `#` for `X#` public extensions. */
const KEY_NAME = /^[A-Za-z0-9.\-+@_#]+$/

const decoder = new TextDecoder('utf-8', { fatal: true })

export interface ParseTextOptions {
  /** Largest value in bytes for a key (default: the key table's limit, 255 for most keys). */
  readonly maxValueLength?: (key: string) => number
}

function syntax(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.TextSyntax, message)
}

/**
 * Parse a complete text (all PDUs of a C=1 sequence joined). Empty items between NULs (padding) are skipped; the
 * final pair may lack its NUL. Keys may repeat: the engines decide whether that is allowed (RFC 7143 6.2).
 */
export function parseText(data: Uint8Array, options: ParseTextOptions = {}): TextPair[] {
  const limit = options.maxValueLength ?? maxValueLength
  const pairs: TextPair[] = []
  let start = 0
  while (start < data.length) {
    let end = data.indexOf(0, start)
    if (end === -1) end = data.length
    if (end > start) pairs.push(parsePair(data.subarray(start, end), limit))
    start = end + 1
  }
  return pairs
}

function parsePair(bytes: Uint8Array, limit: (key: string) => number): TextPair {
  const equals = bytes.indexOf(0x3d)
  if (equals === -1) throw syntax('text item without "="')
  if (equals === 0) throw syntax('text item with an empty key')
  if (equals > MAX_KEY_LENGTH) {
    throw new NegotiationError(NegotiationErrorCode.KeyTooLong, `key longer than ${MAX_KEY_LENGTH} bytes`)
  }
  let key: string
  let value: string
  try {
    key = decoder.decode(bytes.subarray(0, equals))
    value = decoder.decode(bytes.subarray(equals + 1))
  } catch (cause) {
    throw new NegotiationError(NegotiationErrorCode.TextSyntax, 'text is not valid UTF-8', undefined, { cause })
  }
  if (!KEY_NAME.test(key)) throw syntax('key name with characters outside the RFC 7143 6.1 set')
  const valueBytes = bytes.length - equals - 1
  const max = limit(key)
  if (valueBytes > max) {
    throw new NegotiationError(NegotiationErrorCode.ValueTooLong, `value of ${key} longer than ${max} bytes`)
  }
  return { key, value }
}

/** Bytes `buildText(pairs)` produces. */
export function textLength(pairs: readonly TextPair[]): number {
  let length = 0
  for (const { key, value } of pairs) length += Buffer.byteLength(key) + Buffer.byteLength(value) + 2
  return length
}

/** Build the text of a data segment: `key=value\0` for each pair, in order (RFC 7143 6.1). */
export function buildText(pairs: readonly TextPair[]): Buffer {
  const out = Buffer.allocUnsafe(textLength(pairs))
  let offset = 0
  for (const { key, value } of pairs) {
    if (key.length === 0 || !KEY_NAME.test(key) || Buffer.byteLength(key) > MAX_KEY_LENGTH) {
      throw syntax('cannot build a pair with an invalid key name')
    }
    if (value.includes('\0')) throw syntax('cannot build a value containing NUL')
    offset += out.write(key, offset, 'utf8')
    out[offset++] = 0x3d
    offset += out.write(value, offset, 'utf8')
    out[offset++] = 0
  }
  return out
}

/**
 * Split a text into data segments of at most `maxLength` bytes (for C=1 sequences, RFC 7143 11.10.2/11.12.2). A pair
 * may be split anywhere; the receiver joins the segments before parsing. An empty text is one empty segment.
 */
export function splitSegments(data: Buffer, maxLength: number): Buffer[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError('maxLength must be a positive integer')
  if (data.length === 0) return [data]
  const segments: Buffer[] = []
  for (let offset = 0; offset < data.length; offset += maxLength) {
    segments.push(data.subarray(offset, Math.min(offset + maxLength, data.length)))
  }
  return segments
}
