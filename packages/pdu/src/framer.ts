// Streaming PDU framer: TCP chunks in, whole decoded PDUs out (RFC 7143 11.1 PDU layout, 7.8 digest errors).
//
// States follow the wire: BHS -> AHS -> HEADER_DIGEST -> DATA -> DATA_DIGEST, plus DISCARD (skipping the rest of a
// PDU that was reported and not delivered) and CLOSED (after a fatal error). A PDU that lies whole inside one chunk
// is decoded in place; data segments are `subarray` views of the chunk whenever they lie within one chunk, and only
// a field that spans chunks is copied. DataSegmentLength is checked against MaxRecvDataSegmentLength as soon as the
// BHS is complete, before anything else is buffered, so memory per connection stays below
// BHS + AHS + header digest + MaxRecvDataSegmentLength + padding + data digest.
import diagnosticsChannel from 'node:diagnostics_channel'
import { EMPTY, paddingLength, readPdu } from './codec.js'
import { crc32cSpan, readDigest } from './crc32c.js'
import { DataDigestError, HeaderDigestError, PduError, SegmentTooLongError } from './errors.js'
import { BHS_LENGTH } from './opcode.js'
import type { Pdu, ReceiverRole } from './types.js'

/** Default MaxRecvDataSegmentLength before negotiation (RFC 7143 13.12). */
export const DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192

export const FramerState = {
  BHS: 'BHS',
  AHS: 'AHS',
  HEADER_DIGEST: 'HEADER_DIGEST',
  DATA: 'DATA',
  DATA_DIGEST: 'DATA_DIGEST',
  /** Skipping the AHS/data/digests of a PDU already reported through onError. */
  DISCARD: 'DISCARD',
  /** A fatal error happened; input is refused. */
  CLOSED: 'CLOSED',
} as const
export type FramerState = (typeof FramerState)[keyof typeof FramerState]

// Numeric states for the hot loop.
const S_BHS = 0
const S_AHS = 1
const S_HEADER_DIGEST = 2
const S_DATA = 3
const S_DATA_DIGEST = 4
const S_DISCARD = 5
const S_CLOSED = 6
const STATE_NAMES: readonly FramerState[] = [
  FramerState.BHS,
  FramerState.AHS,
  FramerState.HEADER_DIGEST,
  FramerState.DATA,
  FramerState.DATA_DIGEST,
  FramerState.DISCARD,
  FramerState.CLOSED,
]

/** Published for every delivered PDU, when someone subscribes: `{ pdu }`. */
export const pduReceiveChannel = diagnosticsChannel.channel('iscsi:pdu:receive')
/** Published for every reported PduError, when someone subscribes: `{ error }`. */
export const pduErrorChannel = diagnosticsChannel.channel('iscsi:pdu:error')

export interface FramerOptions {
  /** Called with each whole PDU, in stream order. Must not throw (if it does, the framer closes and rethrows). */
  onPdu: (pdu: Pdu) => void
  /**
   * Called with each PduError. When `error.fatal` the framer has closed; otherwise the bad PDU was skipped and
   * framing goes on (act on `error.reaction`, e.g. send the Reject).
   */
  onError: (error: PduError) => void
  /** MaxRecvDataSegmentLength this side declared; 8192 until negotiated (RFC 7143 13.12). */
  maxRecvDataSegmentLength?: number
  headerDigest?: boolean
  dataDigest?: boolean
  /**
   * Where to put a PDU's data segment, asked once per PDU with data after its header is decoded (`pdu.data` is still
   * empty): return a Buffer of exactly `length` bytes to receive it (e.g. the slice of a read buffer at a Data-In's
   * BufferOffset, as libiscsi does), or undefined to let the framer use a view of the chunk or a fresh buffer. If
   * the PDU fails its data digest the buffer holds the bad bytes and the PDU is not delivered.
   */
  placeData?: (pdu: Pdu, length: number) => Buffer | undefined
  /** Refuse opcodes this side never receives. */
  role?: ReceiverRole
  /** Check reserved and fixed BHS bits (see DecodeOptions.strict). */
  strict?: boolean
}

export class PduFramer {
  private readonly onPdu: (pdu: Pdu) => void
  private readonly onError: (error: PduError) => void
  private readonly placeData: ((pdu: Pdu, length: number) => Buffer | undefined) | undefined
  private readonly role: ReceiverRole | undefined
  private readonly strict: boolean
  private maxData: number
  private headerDigest: boolean
  private dataDigest: boolean

  private st: number = S_BHS
  /** Assembly buffer for a header that spans chunks (fresh per PDU: decoded views point into it). */
  private header: Buffer = EMPTY
  private headerFill = 0
  /** Bytes of BHS + AHS + header digest of the current PDU. */
  private headerTotal = 0
  private ahsLength = 0
  private dataLength = 0
  /** Header digest / data digest in force for the current PDU. */
  private pduHeaderDigest = false
  private pduDataDigest = false
  /** The current PDU, decoded from its header, waiting for its data. */
  private pending: Pdu | undefined
  /** Data segment plus padding being assembled across chunks (fresh per PDU). */
  private data: Buffer = EMPTY
  private dataFill = 0
  private dataCrc = 0
  private readonly digest: Buffer = Buffer.alloc(4)
  private digestFill = 0
  private discard = 0
  /** Where the current PDU's BHS is (a chunk or the header buffer), for the Reject of a data digest error. */
  private bhs: Buffer = EMPTY
  private bhsOffset = 0

  constructor(options: FramerOptions) {
    this.onPdu = options.onPdu
    this.onError = options.onError
    this.placeData = options.placeData
    this.role = options.role
    this.strict = options.strict === true
    this.maxData = checkMax(options.maxRecvDataSegmentLength ?? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH)
    this.headerDigest = options.headerDigest === true
    this.dataDigest = options.dataDigest === true
  }

  /** The current state name. */
  get state(): FramerState {
    return STATE_NAMES[this.st]!
  }

  /** True after a fatal error: push() refuses input. */
  get closed(): boolean {
    return this.st === S_CLOSED
  }

  /** Bytes held for an incomplete PDU (tests check the memory bound with it). */
  get bufferedBytes(): number {
    return this.headerFill + (this.data === EMPTY ? 0 : this.data.length)
  }

  /** Switches digests from the next PDU on (they start after login, RFC 7143 13.1). Safe to call from onPdu. */
  setDigests(digests: { headerDigest?: boolean; dataDigest?: boolean }): void {
    if (digests.headerDigest !== undefined) this.headerDigest = digests.headerDigest
    if (digests.dataDigest !== undefined) this.dataDigest = digests.dataDigest
  }

  /** Sets MaxRecvDataSegmentLength from the next PDU on. */
  setMaxRecvDataSegmentLength(length: number): void {
    this.maxData = checkMax(length)
  }

  /** Feeds one chunk; returns false (and ignores it) when the framer is closed. */
  push(chunk: Buffer): boolean {
    if (this.st === S_CLOSED) return false
    const len = chunk.length
    let pos = 0
    while (pos < len) {
      switch (this.st) {
        case S_BHS: {
          if (this.headerFill === 0 && len - pos >= BHS_LENGTH) {
            pos = this.fromChunk(chunk, pos)
          } else {
            pos = this.collectHeader(chunk, pos, BHS_LENGTH)
            if (this.headerFill === BHS_LENGTH) this.bhsComplete(this.header, 0)
          }
          break
        }
        case S_AHS:
        case S_HEADER_DIGEST: {
          pos = this.collectHeader(chunk, pos, this.headerTotal)
          if (this.headerFill === this.headerTotal) {
            this.headerFill = 0
            this.headerComplete(this.header, 0)
          } else if (this.headerFill >= BHS_LENGTH + this.ahsLength) {
            this.st = S_HEADER_DIGEST
          }
          break
        }
        case S_DATA:
          pos = this.collectData(chunk, pos)
          break
        case S_DATA_DIGEST: {
          const n = Math.min(4 - this.digestFill, len - pos)
          chunk.copy(this.digest, this.digestFill, pos, pos + n)
          this.digestFill += n
          pos += n
          if (this.digestFill === 4) {
            this.digestFill = 0
            this.finishData(readDigest(this.digest, 0))
          }
          break
        }
        case S_DISCARD: {
          const n = Math.min(this.discard, len - pos)
          this.discard -= n
          pos += n
          if (this.discard === 0) this.st = S_BHS
          break
        }
        default:
          return true
      }
    }
    return true
  }

  /** At a PDU boundary with a whole BHS in `chunk`: decode in place if the whole PDU is there. */
  private fromChunk(chunk: Buffer, pos: number): number {
    const ahsLength = chunk[pos + 4]! * 4
    const dataLength = (chunk[pos + 5]! << 16) | (chunk[pos + 6]! << 8) | chunk[pos + 7]!
    const hd = this.headerDigest
    const headerEnd = pos + BHS_LENGTH + ahsLength
    const dataStart = headerEnd + (hd ? 4 : 0)
    const dd = this.dataDigest && dataLength > 0
    const dataEnd = dataStart + dataLength + paddingLength(dataLength)
    const end = dataEnd + (dd ? 4 : 0)
    if (end > chunk.length || dataLength > this.maxData || (dataLength > 0 && this.placeData !== undefined)) {
      // Split PDU, an oversized one (refused by bhsComplete), or data to place: go through the states.
      this.bhsComplete(chunk, pos)
      if (this.st !== S_AHS && this.st !== S_HEADER_DIGEST) return this.st === S_CLOSED ? chunk.length : pos + BHS_LENGTH
      if (pos + this.headerTotal <= chunk.length) {
        this.headerComplete(chunk, pos)
        return this.closed ? chunk.length : pos + this.headerTotal
      }
      // The header itself spans chunks: copy what this chunk holds of it.
      this.header = Buffer.allocUnsafe(this.headerTotal)
      const n = chunk.length - pos
      chunk.copy(this.header, 0, pos)
      this.headerFill = n
      if (n >= BHS_LENGTH + this.ahsLength) this.st = S_HEADER_DIGEST
      return chunk.length
    }
    if (hd) {
      const computed = crc32cSpan(chunk, pos, headerEnd, 0)
      const received = readDigest(chunk, headerEnd)
      if (computed !== received) {
        this.fail(new HeaderDigestError(computed, received))
        return chunk.length
      }
    }
    let pdu: Pdu
    try {
      pdu = readPdu(chunk, pos, ahsLength, dataLength > 0 ? chunk.subarray(dataStart, dataStart + dataLength) : EMPTY, this.strict, this.role)
    } catch (error) {
      this.report(error)
      return end
    }
    if (dd) {
      const computed = crc32cSpan(chunk, dataStart, dataEnd, 0)
      const received = readDigest(chunk, dataEnd)
      if (computed !== received) {
        this.report(new DataDigestError(Buffer.from(chunk.subarray(pos, pos + BHS_LENGTH)), computed, received))
        return end
      }
    }
    this.emit(pdu)
    return end
  }

  /** Copies header bytes until `headerFill` reaches `target`. */
  private collectHeader(chunk: Buffer, pos: number, target: number): number {
    if (this.header.length < target) {
      const bigger = Buffer.allocUnsafe(target)
      if (this.headerFill > 0) this.header.copy(bigger, 0, 0, this.headerFill)
      this.header = bigger
    }
    const n = Math.min(target - this.headerFill, chunk.length - pos)
    chunk.copy(this.header, this.headerFill, pos, pos + n)
    this.headerFill += n
    return pos + n
  }

  /** The BHS is complete at `buf[offset]`: read lengths, enforce the data limit, pick the next state. */
  private bhsComplete(buf: Buffer, offset: number): void {
    const ahsLength = buf[offset + 4]! * 4
    const dataLength = (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!
    if (dataLength > this.maxData) {
      // RFC 7143 13.12: a PDU longer than MaxRecvDataSegmentLength is a protocol error. Refuse it before buffering.
      this.fail(new SegmentTooLongError(Buffer.from(buf.subarray(offset, offset + BHS_LENGTH)), dataLength, this.maxData))
      return
    }
    this.ahsLength = ahsLength
    this.dataLength = dataLength
    this.pduHeaderDigest = this.headerDigest
    this.pduDataDigest = this.dataDigest && dataLength > 0
    this.headerTotal = BHS_LENGTH + ahsLength + (this.pduHeaderDigest ? 4 : 0)
    if (this.headerTotal === BHS_LENGTH) {
      this.headerFill = 0
      this.headerComplete(buf, offset)
      return
    }
    this.st = ahsLength > 0 ? S_AHS : S_HEADER_DIGEST
  }

  /** BHS, AHS and header digest are complete at `buf[offset]`: verify, decode, then wait for data. */
  private headerComplete(buf: Buffer, offset: number): void {
    const headerEnd = offset + BHS_LENGTH + this.ahsLength
    if (this.pduHeaderDigest) {
      const computed = crc32cSpan(buf, offset, headerEnd, 0)
      const received = readDigest(buf, headerEnd)
      if (computed !== received) {
        this.fail(new HeaderDigestError(computed, received))
        return
      }
    }
    // The header buffer now belongs to the decoded PDU's views; the next split header gets a fresh one.
    this.header = EMPTY
    this.bhs = buf
    this.bhsOffset = offset
    const rest = this.dataLength > 0 ? this.dataLength + paddingLength(this.dataLength) + (this.pduDataDigest ? 4 : 0) : 0
    try {
      this.pending = readPdu(buf, offset, this.ahsLength, EMPTY, this.strict, this.role)
    } catch (error) {
      this.report(error)
      this.skip(rest)
      return
    }
    if (this.dataLength === 0) {
      const pdu = this.pending
      this.pending = undefined
      this.st = S_BHS
      this.emit(pdu)
      return
    }
    this.dataFill = 0
    this.dataCrc = 0
    this.st = S_DATA
  }

  /**
   * Data segment plus padding. Goes to the buffer `placeData` names if it names one; otherwise a view of the chunk
   * when the segment lies within it, else a copy into a fresh buffer. The data digest covers the padding too.
   */
  private collectData(chunk: Buffer, pos: number): number {
    const dataLength = this.dataLength
    const need = dataLength + paddingLength(dataLength)
    const available = chunk.length - pos
    if (this.dataFill === 0) {
      const placed = this.placeData === undefined ? undefined : this.place(dataLength)
      if (placed !== undefined) {
        this.data = placed
      } else if (available >= need) {
        if (this.pduDataDigest) this.dataCrc = crc32cSpan(chunk, pos, pos + need, 0)
        this.pending!.data = chunk.subarray(pos, pos + dataLength)
        this.afterData()
        return pos + need
      } else {
        this.data = Buffer.allocUnsafe(dataLength)
      }
    }
    const n = Math.min(need - this.dataFill, available)
    const copy = Math.min(n, dataLength - this.dataFill)
    if (copy > 0) chunk.copy(this.data, this.dataFill, pos, pos + copy)
    if (this.pduDataDigest) this.dataCrc = crc32cSpan(chunk, pos, pos + n, this.dataCrc)
    this.dataFill += n
    if (this.dataFill === need) {
      this.pending!.data = this.data
      this.data = EMPTY
      this.dataFill = 0
      this.afterData()
    }
    return pos + n
  }

  /** Asks placeData for a destination; a callback that throws or returns a wrong length closes the framer. */
  private place(length: number): Buffer | undefined {
    let placed: Buffer | undefined
    try {
      placed = this.placeData!(this.pending!, length)
    } catch (error) {
      this.st = S_CLOSED
      throw error
    }
    if (placed !== undefined && placed.length !== length) {
      this.st = S_CLOSED
      throw new RangeError(`placeData returned ${placed.length} bytes for a ${length}-byte data segment`)
    }
    return placed
  }

  private afterData(): void {
    if (this.pduDataDigest) {
      this.st = S_DATA_DIGEST
      this.digestFill = 0
      return
    }
    const pdu = this.pending!
    this.pending = undefined
    this.bhs = EMPTY
    this.st = S_BHS
    this.emit(pdu)
  }

  private finishData(received: number): void {
    const pdu = this.pending!
    this.pending = undefined
    this.st = S_BHS
    const bhs = this.bhs
    this.bhs = EMPTY
    if (received !== this.dataCrc) {
      // RFC 7143 7.8: Reject with Data Digest Error, discard the PDU, carry on.
      const header = Buffer.from(bhs.subarray(this.bhsOffset, this.bhsOffset + BHS_LENGTH))
      this.report(new DataDigestError(header, this.dataCrc, received))
      return
    }
    this.emit(pdu)
  }

  private skip(bytes: number): void {
    if (this.st === S_CLOSED) return
    this.discard = bytes
    this.st = bytes > 0 ? S_DISCARD : S_BHS
  }

  private emit(pdu: Pdu): void {
    try {
      this.onPdu(pdu)
    } catch (error) {
      this.st = S_CLOSED
      throw error
    }
    if (pduReceiveChannel.hasSubscribers) pduReceiveChannel.publish({ pdu })
  }

  /** A recoverable error (or a fatal one, which closes). */
  private report(error: unknown): void {
    if (!(error instanceof PduError)) throw error
    if (error.fatal) this.st = S_CLOSED
    if (pduErrorChannel.hasSubscribers) pduErrorChannel.publish({ error })
    try {
      this.onError(error)
    } catch (thrown) {
      this.st = S_CLOSED
      throw thrown
    }
  }

  private fail(error: PduError): void {
    this.st = S_CLOSED
    this.pending = undefined
    this.header = EMPTY
    this.headerFill = 0
    this.data = EMPTY
    this.report(error)
  }
}

function checkMax(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffff) {
    throw new RangeError(`MaxRecvDataSegmentLength must be an integer in 0-16777215, got ${String(length)}`)
  }
  return length
}
