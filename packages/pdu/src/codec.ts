// Whole-PDU codec (RFC 7143 11.1): BHS, AHS, header digest, data segment, padding, data digest. The per-opcode
// field mapping lives in `pdus/*.ts`, looked up in one table indexed by opcode.
import { put24, put8 } from './bytes.js'
import { crc32c, crc32cRange, readDigest, writeDigest } from './crc32c.js'
import {
  DataDigestError,
  HeaderDigestError,
  InvalidFieldError,
  PduEncodeError,
  PduTruncatedError,
  ReservedFieldError,
  SegmentTooLongError,
  UnexpectedOpcodeError,
  UnknownOpcodeError,
} from './errors.js'
import { BHS_LENGTH } from './opcode.js'
import type { BhsTemplate, PduCodec } from './pdu-codec.js'
import { asyncMessageCodec } from './pdus/async-message.js'
import { dataInCodec } from './pdus/data-in.js'
import { dataOutCodec } from './pdus/data-out.js'
import { loginRequestCodec } from './pdus/login-request.js'
import { loginResponseCodec } from './pdus/login-response.js'
import { logoutRequestCodec } from './pdus/logout-request.js'
import { logoutResponseCodec } from './pdus/logout-response.js'
import { nopInCodec } from './pdus/nop-in.js'
import { nopOutCodec } from './pdus/nop-out.js'
import { r2tCodec } from './pdus/r2t.js'
import { rejectCodec } from './pdus/reject.js'
import { scsiCommandCodec } from './pdus/scsi-command.js'
import { scsiResponseCodec } from './pdus/scsi-response.js'
import { snackRequestCodec } from './pdus/snack-request.js'
import { taskManagementRequestCodec } from './pdus/task-management-request.js'
import { taskManagementResponseCodec } from './pdus/task-management-response.js'
import { textRequestCodec } from './pdus/text-request.js'
import { textResponseCodec } from './pdus/text-response.js'
import type { Ahs, DigestOptions, Pdu, ReceiverRole } from './types.js'

/** TotalAHSLength is one byte of 4-byte words (RFC 7143 11.2.1.2). */
export const MAX_AHS_LENGTH = 255 * 4
/** DataSegmentLength is 24 bits (RFC 7143 11.2.1.3). */
export const MAX_DATA_SEGMENT_LENGTH = 0xffffff

/** One codec per opcode, indexed by the 6-bit opcode; undefined for opcodes RFC 7143 doesn't define. */
const CODECS: readonly (PduCodec | undefined)[] = (() => {
  const table: (PduCodec | undefined)[] = new Array<PduCodec | undefined>(64).fill(undefined)
  const all = [
    nopOutCodec,
    scsiCommandCodec,
    taskManagementRequestCodec,
    loginRequestCodec,
    textRequestCodec,
    dataOutCodec,
    logoutRequestCodec,
    snackRequestCodec,
    nopInCodec,
    scsiResponseCodec,
    taskManagementResponseCodec,
    loginResponseCodec,
    textResponseCodec,
    dataInCodec,
    logoutResponseCodec,
    r2tCodec,
    asyncMessageCodec,
    rejectCodec,
  ] as unknown as PduCodec[]
  for (const codec of all) table[codec.opcode] = codec
  return table
})()

/** A zero-length data segment shared by every PDU decoded without data. */
export const EMPTY: Buffer = Buffer.alloc(0)
/** Zero bytes for padding; never written to. */
const ZEROS: Buffer = Buffer.alloc(4)
const PADDING: readonly Buffer[] = [EMPTY, ZEROS.subarray(0, 1), ZEROS.subarray(0, 2), ZEROS.subarray(0, 3)]

export interface DecodeOptions extends DigestOptions {
  /** Check every reserved and fixed bit of the BHS (RFC 7143 11.1 asks receivers to ignore them; off by default). */
  strict?: boolean
  /** Refuse opcodes this side never receives (a target only accepts initiator opcodes). */
  role?: ReceiverRole
  /** MaxRecvDataSegmentLength declared by this side; a longer DataSegmentLength is a protocol error. */
  maxDataSegmentLength?: number
}

export interface DecodeResult<T> {
  value: T
  bytesRead: number
}

/** Padding after a data segment of `length` bytes (RFC 7143 11.1: segments end on a 4-byte boundary). */
export function paddingLength(length: number): number {
  return -length & 3
}

/** A copy of the 48-byte BHS at `offset`, for the data segment of a Reject (RFC 7143 11.17.3). */
export function copyBhs(buf: Buffer, offset: number): Buffer {
  return Buffer.from(buf.subarray(offset, offset + BHS_LENGTH))
}

function checkTemplate(t: BhsTemplate, buf: Buffer, offset: number): void {
  const { mask, value } = t
  for (let i = 0; i < BHS_LENGTH; i++) {
    if ((buf[offset + i]! & mask[i]!) !== value[i]) throw new ReservedFieldError(i, copyBhs(buf, offset))
  }
}

/** Splits `length` bytes of AHS at `offset` into AHS (RFC 7143 11.2.2). */
function parseAhs(buf: Buffer, offset: number, length: number, header: () => Buffer): Ahs[] {
  const list: Ahs[] = []
  const end = offset + length
  let p = offset
  while (p < end) {
    if (end - p < 4) throw new InvalidFieldError('AHS shorter than its 4-byte header', header())
    const ahsLength = buf.readUInt16BE(p)
    const next = p + ((3 + ahsLength + 3) & ~3)
    if (next > end) throw new InvalidFieldError(`AHSLength ${ahsLength} runs past TotalAHSLength`, header())
    list.push({ type: buf[p + 2]!, data: buf.subarray(p + 3, p + 3 + ahsLength) })
    p = next
  }
  return list
}

/**
 * Decodes a PDU whose BHS and AHS are at `buf[offset]` (digests already checked) and whose data segment is `data`.
 * Shared by decodePdu and the framer. Throws PduError only.
 */
export function readPdu(
  buf: Buffer,
  offset: number,
  totalAhsLength: number,
  data: Buffer,
  strict: boolean,
  role: ReceiverRole | undefined,
): Pdu {
  const opcode = buf[offset]! & 0x3f
  const codec = CODECS[opcode]
  if (codec === undefined) throw new UnknownOpcodeError(opcode, copyBhs(buf, offset))
  if (role !== undefined && role === 'target' !== opcode < 0x20) {
    throw new UnexpectedOpcodeError(opcode, copyBhs(buf, offset), role)
  }
  if (strict) checkTemplate(codec.template, buf, offset)
  const pdu = codec.read(buf, offset, data)
  if (totalAhsLength > 0) {
    const header = (): Buffer => copyBhs(buf, offset)
    let list = parseAhs(buf, offset + BHS_LENGTH, totalAhsLength, header)
    if (codec.absorbAhs) list = codec.absorbAhs(pdu, list, header)
    if (list.length > 0) pdu.ahs = list
  }
  return pdu
}

/**
 * Decodes one PDU at `buf[offset]`, checking lengths, digests (when enabled in `options`) and opcode. The PDU's
 * data, CDB and ISID are views into `buf`. Throws PduError (PduTruncatedError when `buf` ends early).
 */
export function decodePdu(buf: Buffer, offset = 0, options: DecodeOptions = {}): DecodeResult<Pdu> {
  const available = buf.length - offset
  if (!(Number.isInteger(offset) && offset >= 0 && available >= BHS_LENGTH)) throw new PduTruncatedError(BHS_LENGTH, Math.max(0, available))
  const totalAhsLength = buf[offset + 4]! * 4
  const dataLength = (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!
  const max = options.maxDataSegmentLength
  if (max !== undefined && dataLength > max) throw new SegmentTooLongError(copyBhs(buf, offset), dataLength, max)
  const headerEnd = offset + BHS_LENGTH + totalAhsLength
  const dataStart = headerEnd + (options.headerDigest ? 4 : 0)
  const dataDigest = options.dataDigest === true && dataLength > 0
  const end = dataStart + (dataLength > 0 ? dataLength + paddingLength(dataLength) : 0) + (dataDigest ? 4 : 0)
  if (end > buf.length) throw new PduTruncatedError(end - offset, available)
  if (options.headerDigest) {
    const computed = crc32cRange(buf, offset, headerEnd)
    const received = readDigest(buf, headerEnd)
    if (computed !== received) throw new HeaderDigestError(computed, received)
  }
  if (dataDigest) {
    const digestAt = end - 4
    const computed = crc32c(buf.subarray(dataStart, digestAt))
    const received = readDigest(buf, digestAt)
    if (computed !== received) throw new DataDigestError(copyBhs(buf, offset), computed, received)
  }
  const data = dataLength > 0 ? buf.subarray(dataStart, dataStart + dataLength) : EMPTY
  const value = readPdu(buf, offset, totalAhsLength, data, options.strict === true, options.role)
  return { value, bytesRead: end - offset }
}

function codecOf(pdu: Pdu): PduCodec {
  const codec = (pdu as { opcode?: unknown }).opcode
  const found = typeof codec === 'number' ? CODECS[codec] : undefined
  if (found === undefined) throw new PduEncodeError(`unknown opcode ${String(codec)}`)
  return found
}

function ahsOf(codec: PduCodec, pdu: Pdu): readonly Ahs[] | undefined {
  const known = codec.knownAhs?.(pdu)
  const extra = pdu.ahs
  if (known === undefined) return extra !== undefined && extra.length > 0 ? extra : undefined
  return extra !== undefined && extra.length > 0 ? [...known, ...extra] : known
}

function ahsLengthOf(list: readonly Ahs[] | undefined): number {
  if (list === undefined) return 0
  let total = 0
  for (const ahs of list) {
    if (!(ahs.data instanceof Uint8Array) || ahs.data.length > 0xffff) throw new PduEncodeError('AHS data must be a Buffer of at most 65535 bytes')
    total += (3 + ahs.data.length + 3) & ~3
  }
  if (total > MAX_AHS_LENGTH) throw new PduEncodeError(`AHS of ${total} bytes exceeds ${MAX_AHS_LENGTH}`)
  return total
}

function dataOf(pdu: Pdu): Uint8Array {
  const data = (pdu as { data?: unknown }).data
  if (!(data instanceof Uint8Array)) throw new PduEncodeError('data must be a Buffer (a zero-length one when empty)')
  if (data.length > MAX_DATA_SEGMENT_LENGTH) throw new PduEncodeError(`data segment of ${data.length} bytes exceeds 2^24-1`)
  return data
}

/** Bytes of BHS + AHS + header digest for `pdu`. */
export function headerLength(pdu: Pdu, digests?: DigestOptions): number {
  const codec = codecOf(pdu)
  return BHS_LENGTH + ahsLengthOf(ahsOf(codec, pdu)) + (digests?.headerDigest ? 4 : 0)
}

/** Bytes `pdu` takes on the wire: header, header digest, data, padding, data digest. */
export function encodingLength(pdu: Pdu, digests?: DigestOptions): number {
  const length = dataOf(pdu).length
  return (
    headerLength(pdu, digests) + (length > 0 ? length + paddingLength(length) + (digests?.dataDigest ? 4 : 0) : 0)
  )
}

/**
 * Writes BHS, AHS and (when `digests.headerDigest`) the header digest of `pdu` into `buf` at `offset`, and returns
 * the bytes written (48 or 52 without AHS). Every byte of the header is written, so a preallocated buffer can be
 * reused for each PDU. The data segment is not written. Throws PduEncodeError.
 */
export function encodeHeader(pdu: Pdu, buf: Buffer, offset = 0, digests?: DigestOptions): number {
  const codec = codecOf(pdu)
  const data = dataOf(pdu)
  const list = ahsOf(codec, pdu)
  const ahsLength = ahsLengthOf(list)
  const headerEnd = offset + BHS_LENGTH + ahsLength
  const end = headerEnd + (digests?.headerDigest ? 4 : 0)
  if (!(Number.isInteger(offset) && offset >= 0) || end > buf.length) throw new PduEncodeError(`header needs ${end - offset} bytes at offset ${offset}`)
  buf.fill(0, offset, offset + BHS_LENGTH)
  codec.write(pdu, buf, offset)
  buf[offset + 4] = ahsLength >>> 2
  put24(buf, offset + 5, data.length, 'DataSegmentLength')
  if (list !== undefined) {
    let p = offset + BHS_LENGTH
    for (const ahs of list) {
      const length = ahs.data.length
      buf.writeUInt16BE(length, p)
      put8(buf, p + 2, ahs.type, 'AHSType')
      buf.set(ahs.data, p + 3)
      const next = p + ((3 + length + 3) & ~3)
      buf.fill(0, p + 3 + length, next)
      p = next
    }
  }
  if (digests?.headerDigest) writeDigest(crc32cRange(buf, offset, headerEnd), buf, headerEnd)
  return end - offset
}

/** CRC32C data digest of a data segment plus its padding (RFC 7143 13.1: padding is covered). */
export function dataDigestOf(data: Uint8Array): number {
  const crc = crc32c(data)
  const pad = paddingLength(data.length)
  return pad === 0 ? crc : crc32c(PADDING[pad]!, crc)
}

/** Encodes `pdu` into `buf` at `offset` (house codec contract) and returns the bytes written. */
export function encodePduInto(pdu: Pdu, buf: Buffer, offset = 0, digests?: DigestOptions): number {
  const total = encodingLength(pdu, digests)
  if (!(Number.isInteger(offset) && offset >= 0) || offset + total > buf.length) throw new PduEncodeError(`PDU needs ${total} bytes at offset ${offset}`)
  let p = offset + encodeHeader(pdu, buf, offset, digests)
  const data = pdu.data
  if (data.length > 0) {
    buf.set(data, p)
    p += data.length
    const pad = paddingLength(data.length)
    buf.fill(0, p, p + pad)
    p += pad
    if (digests?.dataDigest) {
      writeDigest(dataDigestOf(data), buf, p)
      p += 4
    }
  }
  return p - offset
}

/** Encodes `pdu` into one new Buffer (tests, small PDUs; use serializePdu for payloads). */
export function encodePdu(pdu: Pdu, digests?: DigestOptions): Buffer {
  const buf = Buffer.allocUnsafe(encodingLength(pdu, digests))
  encodePduInto(pdu, buf, 0, digests)
  return buf
}

/**
 * The PDU as iovecs for `socket.cork()` + writes or `writev`: `[header, data, padding, dataDigest]`, the header
 * including AHS and header digest, later entries present only when non-empty. `data` is the PDU's own Buffer,
 * never copied; padding entries are shared read-only zero buffers.
 */
export function serializePdu(pdu: Pdu, digests?: DigestOptions): Buffer[] {
  const header = Buffer.allocUnsafe(headerLength(pdu, digests))
  encodeHeader(pdu, header, 0, digests)
  const data = pdu.data
  if (data.length === 0) return [header]
  const pad = paddingLength(data.length)
  const out = pad === 0 ? [header, data] : [header, data, PADDING[pad]!]
  if (digests?.dataDigest) {
    const digest = Buffer.allocUnsafe(4)
    writeDigest(dataDigestOf(data), digest, 0)
    out.push(digest)
  }
  return out
}

/** The fields every BHS shares (RFC 7143 11.1, 11.2.1). */
export interface BhsInfo {
  opcode: number
  immediate: boolean
  final: boolean
  /** In bytes (the wire field counts 4-byte words). */
  totalAhsLength: number
  dataSegmentLength: number
  /** Bytes 16-19: the ITT (0xffffffff on Reject and Async Message). */
  itt: number
}

/** Reads the opcode-independent BHS fields at `offset` (bounds-checked). */
export function decodeBhs(buf: Buffer, offset = 0): DecodeResult<BhsInfo> {
  const available = buf.length - offset
  if (!(Number.isInteger(offset) && offset >= 0 && available >= BHS_LENGTH)) throw new PduTruncatedError(BHS_LENGTH, Math.max(0, available))
  const b0 = buf[offset]!
  return {
    value: {
      opcode: b0 & 0x3f,
      immediate: (b0 & 0x40) !== 0,
      final: (buf[offset + 1]! & 0x80) !== 0,
      totalAhsLength: buf[offset + 4]! * 4,
      dataSegmentLength: (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!,
      itt: buf.readUInt32BE(offset + 16),
    },
    bytesRead: BHS_LENGTH,
  }
}

/** Total wire length of the PDU whose BHS is at `offset`, given the digests in use. */
export function pduLength(buf: Buffer, offset = 0, digests?: DigestOptions): number {
  const { value } = decodeBhs(buf, offset)
  const length = value.dataSegmentLength
  return (
    BHS_LENGTH +
    value.totalAhsLength +
    (digests?.headerDigest ? 4 : 0) +
    (length > 0 ? length + paddingLength(length) + (digests?.dataDigest ? 4 : 0) : 0)
  )
}
