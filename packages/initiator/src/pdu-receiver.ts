// The initiator's receive path: TCP chunks in, target PDUs out, with Data-In payloads placed straight into the
// caller's buffer (libiscsi lib/socket.c does the same with its iovecs). States follow the PDU layout of RFC 7143
// 11.1: HEADER (BHS + AHS + header digest) -> DATA (+ padding) -> DATA_DIGEST.
//
// The caller may reuse a chunk as soon as `push` returns (the connection reads into one buffer over and over), so
// nothing keeps a view of a chunk past the call:
//   - a header lying in one chunk is read in place; one spanning chunks is gathered in a private buffer;
//   - a Data-In payload goes into the buffer `place()` returns (a live read task): one copy, chunk -> caller buffer;
//     and while DIRECT_READ_MIN bytes or more of it are still to come, `directReadTarget()` offers the rest of its
//     place as the buffer for the next socket read, so the kernel copies it there and nothing else does (libiscsi
//     reads payloads straight into the task's iovecs the same way);
//   - any other data segment is copied into a buffer of exactly DataSegmentLength bytes.
// DataSegmentLength is checked against our MaxRecvDataSegmentLength before a byte of data is kept.
import {
  BHS_LENGTH,
  DIGEST_LENGTH,
  HeaderDigestError,
  DataDigestError,
  Opcode,
  SegmentTooLongError,
  crc32c,
  decodePdu,
  paddingLength,
  readDigest,
  type DataInPdu,
  type DecodeOptions,
  type PduError,
  type TargetPdu,
} from '@iscsi-ts/pdu'
import { dataInBufferOffset, dataInDataSN, dataInItt, emptyDataIn, readDataInBhs } from './io-pdus.js'

/**
 * Where the payload of a Data-In PDU goes (RFC 7143 11.7): the buffer whose bytes `[bufferOffset, bufferOffset +
 * length)` receive it, or undefined to receive it into a fresh buffer (unknown task, out of order...). Called with
 * the PDU's Initiator Task Tag, DataSN and Buffer Offset before its data arrives.
 */
export type Placement = (itt: number, dataSN: number, bufferOffset: number, length: number) => Buffer | undefined

export interface PduReceiverOptions {
  /** MaxRecvDataSegmentLength we declared: a longer DataSegmentLength is a protocol error (RFC 7143 13.12). */
  maxDataSegmentLength: number
  headerDigest?: boolean
  dataDigest?: boolean
  place?: Placement
  /**
   * Each PDU, decoded. `placed` > 0: a Data-In whose `placed` payload bytes went straight into the placement buffer
   * at its Buffer Offset; `pdu.data` is then empty and `pdu` is one object the receiver refills for every placed
   * Data-In (do not keep it past the call). Otherwise `pdu` and its `data` are fresh and the callee may keep them.
   */
  onPdu: (pdu: TargetPdu, placed: number) => void
  /** A fatal error: nothing after it on the stream can be trusted; the receiver stops. */
  onError: (error: PduError | Error) => void
}

const State = { Header: 0, Data: 1, DataDigest: 2, Dead: 3 } as const
type State = (typeof State)[keyof typeof State]

const EMPTY = Buffer.alloc(0)
/**
 * A payload remainder at least this long is read by the socket straight into its place: below it, one more read
 * system call costs more than the copy it saves.
 */
export const DIRECT_READ_MIN = 32 * 1024
/** BHS + the largest AHS (TotalAHSLength is one byte of words, RFC 7143 11.2.1.2) + header digest. */
const MAX_HEADER_LENGTH = BHS_LENGTH + 255 * 4 + DIGEST_LENGTH
const DECODE_OPTIONS: DecodeOptions = { role: 'initiator' }

export class PduReceiver {
  readonly #options: PduReceiverOptions
  #place: Placement | undefined
  #onPdu: (pdu: TargetPdu, placed: number) => void
  #headerDigest: boolean
  #dataDigest: boolean
  #maxDataSegmentLength: number
  #state: State = State.Header

  /** A header gathered across chunks. */
  readonly #headerBuffer = Buffer.allocUnsafe(MAX_HEADER_LENGTH)
  #headerHave = 0
  /** Header bytes (BHS + AHS + digest) once the BHS is known, else BHS_LENGTH. */
  #headerNeed = BHS_LENGTH
  /** The BHS handed to the decoder, DataSegmentLength zeroed (the data is given separately). */
  readonly #bhs = Buffer.allocUnsafe(BHS_LENGTH)

  // The PDU being received.
  /** Decoded header of the PDU whose data is being received. */
  #pdu: TargetPdu | undefined
  #dataLength = 0
  /** Data + padding bytes still to come. */
  #dataRemaining = 0
  /** Where the data goes (a placement target or a private buffer) and at which offset it starts there. */
  #dataTarget: Buffer = EMPTY
  #dataTargetOffset = 0
  #placed = false
  #dataHave = 0
  #crc = 0
  readonly #digest = Buffer.allocUnsafe(DIGEST_LENGTH)
  #digestHave = 0
  /** The BHS of the PDU whose data is being received, kept for a data digest error's report (with data digests). */
  readonly #pendingBhs = Buffer.alloc(BHS_LENGTH)
  /** The object every placed Data-In is reported in. */
  readonly #dataIn: DataInPdu = emptyDataIn()
  /** The view handed out by directReadTarget() for the next read, if any. */
  #direct: Buffer | undefined
  /** The last Data-In payload was large enough to be read in place: more like it are likely to follow. */
  #largePayloads = false

  constructor(options: PduReceiverOptions) {
    this.#options = options
    this.#place = options.place
    this.#onPdu = options.onPdu
    this.#headerDigest = options.headerDigest === true
    this.#dataDigest = options.dataDigest === true
    this.#maxDataSegmentLength = options.maxDataSegmentLength
  }

  /** Digests switch on with the first PDU after the final Login Response (RFC 7143 13.1). */
  setDigests(headerDigest: boolean, dataDigest: boolean): void {
    this.#headerDigest = headerDigest
    this.#dataDigest = dataDigest
  }

  setMaxDataSegmentLength(length: number): void {
    this.#maxDataSegmentLength = length
  }

  /** Replaces the placement callback (the session installs its own after login). */
  setPlacement(place: Placement | undefined): void {
    this.#place = place
  }

  /** Replaces the PDU callback: the connection hands each phase's handler in directly, with no hop in between. */
  setOnPdu(onPdu: (pdu: TargetPdu, placed: number) => void): void {
    this.#onPdu = onPdu
  }

  get dead(): boolean {
    return this.#state === State.Dead
  }

  /** Stops receiving: anything pushed later is ignored (the connection is being torn down). */
  stop(): void {
    this.#state = State.Dead
  }

  /**
   * Where the next socket read should go: a view of the placement target for the rest of a large Data-In payload
   * (see DIRECT_READ_MIN), or undefined for the reader's own buffer. A read into the view must be pushed as that
   * very view (`push(view, bytesRead)`), before anything else.
   */
  directReadTarget(): Buffer | undefined {
    this.#direct = undefined
    if (this.#state !== State.Data || !this.#placed) return undefined
    const remaining = this.#dataLength - this.#dataHave
    if (remaining < DIRECT_READ_MIN) return undefined
    const start = this.#dataTargetOffset + this.#dataHave
    this.#direct = this.#dataTarget.subarray(start, start + remaining)
    return this.#direct
  }

  /**
   * How many bytes the next socket read should take, when that should be exactly one header: the last Data-In
   * payload was DIRECT_READ_MIN bytes or more (more like it are likely to follow) and a new PDU starts. Reading
   * just its header (BHS + header digest) leaves the whole payload after it for a read straight into its place,
   * instead of copying its first part out of the reader's buffer. 0 otherwise: read as much as there is.
   */
  get headerReadLength(): number {
    if (!this.#largePayloads || this.#state !== State.Header || this.#headerHave !== 0) return 0
    return this.#headerDigest ? BHS_LENGTH + DIGEST_LENGTH : BHS_LENGTH
  }

  /** Feeds the bytes `chunk[0, end)` of one TCP read, split anywhere. The chunk may be reused after the call. */
  push(chunk: Buffer, end: number = chunk.length): void {
    if (chunk === this.#direct) {
      this.#direct = undefined
      if (this.#state === State.Data) this.#directFilled(chunk, end)
      return
    }
    let at = 0
    try {
      while (at < end && this.#state !== State.Dead) {
        if (this.#state === State.Header) at = this.#readHeader(chunk, at, end)
        else if (this.#state === State.Data) at = this.#readData(chunk, at, end)
        else at = this.#readDataDigest(chunk, at, end)
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #fail(error: Error): void {
    if (this.#state === State.Dead) return
    this.#state = State.Dead
    this.#options.onError(error)
  }

  #readHeader(chunk: Buffer, at: number, end: number): number {
    // Fast path: the whole header in this chunk and nothing gathered: read it in place.
    if (this.#headerHave === 0 && end - at >= BHS_LENGTH) {
      const need = this.#fullHeaderLength(chunk, at)
      if (end - at >= need) {
        this.#headerReady(chunk, at)
        return at + need
      }
    }
    const take = Math.min(this.#headerNeed - this.#headerHave, end - at)
    chunk.copy(this.#headerBuffer, this.#headerHave, at, at + take)
    this.#headerHave += take
    at += take
    if (this.#headerHave === this.#headerNeed) {
      if (this.#headerNeed === BHS_LENGTH) {
        // Now the BHS is known: learn the full header length and keep gathering.
        const need = this.#fullHeaderLength(this.#headerBuffer, 0)
        if (need > BHS_LENGTH) {
          this.#headerNeed = need
          return at
        }
      }
      this.#headerHave = 0
      this.#headerNeed = BHS_LENGTH
      this.#headerReady(this.#headerBuffer, 0)
    }
    return at
  }

  /** BHS + AHS + header digest length of the BHS at `offset`. */
  #fullHeaderLength(buf: Buffer, offset: number): number {
    return BHS_LENGTH + buf[offset + 4]! * 4 + (this.#headerDigest ? DIGEST_LENGTH : 0)
  }

  /** The header at `buf[offset]` is complete: check it, decode it, and get ready for its data. */
  #headerReady(buf: Buffer, offset: number): void {
    const totalAhsLength = buf[offset + 4]! * 4
    const dataLength = (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!
    if (this.#headerDigest) {
      const headerEnd = offset + BHS_LENGTH + totalAhsLength
      const computed = crc32c(buf.subarray(offset, headerEnd))
      const received = readDigest(buf, headerEnd)
      if (computed !== received) throw new HeaderDigestError(computed, received)
    }
    if (dataLength > this.#maxDataSegmentLength) {
      throw new SegmentTooLongError(Buffer.from(buf.subarray(offset, offset + BHS_LENGTH)), dataLength, this.#maxDataSegmentLength)
    }
    this.#placed = false
    if (dataLength > 0 && totalAhsLength === 0 && (buf[offset]! & 0x3f) === Opcode.DataIn && this.#place !== undefined) {
      // The read path: ask where the payload goes before decoding anything (RFC 7143 11.7.4-11.7.6 fields).
      const bufferOffset = dataInBufferOffset(buf, offset)
      const target = this.#place(dataInItt(buf, offset), dataInDataSN(buf, offset), bufferOffset, dataLength)
      if (target !== undefined && bufferOffset + dataLength <= target.length) {
        this.#dataTarget = target
        this.#dataTargetOffset = bufferOffset
        this.#placed = true
      }
    }
    const pdu = this.#placed ? readDataInBhs(buf, offset, this.#dataIn) : this.#decode(buf, offset, totalAhsLength)
    if (dataLength === 0) {
      this.#onPdu(pdu, 0)
      return
    }
    if (this.#dataDigest) buf.copy(this.#pendingBhs, 0, offset, offset + BHS_LENGTH)
    this.#pdu = pdu
    this.#dataLength = dataLength
    this.#dataRemaining = dataLength + paddingLength(dataLength)
    this.#dataHave = 0
    this.#crc = 0
    if (!this.#placed) {
      this.#dataTarget = Buffer.allocUnsafe(dataLength)
      this.#dataTargetOffset = 0
    }
    this.#state = State.Data
  }

  /**
   * Decodes the header with the pdu package's codecs. The BHS is copied into a reused buffer with DataSegmentLength
   * zeroed (the data comes separately); headers with an AHS, and Login Responses (whose ISID stays a view of the
   * header), get a copy of their own.
   */
  #decode(buf: Buffer, offset: number, totalAhsLength: number): TargetPdu {
    const own = totalAhsLength > 0 || (buf[offset]! & 0x3f) === Opcode.LoginResponse
    const header = own ? Buffer.allocUnsafe(BHS_LENGTH + totalAhsLength) : this.#bhs
    buf.copy(header, 0, offset, offset + BHS_LENGTH + totalAhsLength)
    header[5] = 0
    header[6] = 0
    header[7] = 0
    return decodePdu(header, 0, DECODE_OPTIONS).value as TargetPdu
  }

  #readData(chunk: Buffer, at: number, end: number): number {
    const take = Math.min(this.#dataRemaining, end - at)
    // Data bytes go to the target; padding bytes only into the digest.
    const dataBytes = Math.min(take, this.#dataLength - this.#dataHave)
    // A typed-array set: Buffer#copy would validate its four arguments first, on every PDU.
    if (dataBytes > 0) this.#dataTarget.set(new Uint8Array(chunk.buffer, chunk.byteOffset + at, dataBytes), this.#dataTargetOffset + this.#dataHave)
    if (this.#dataDigest) this.#crc = crc32c(chunk.subarray(at, at + take), this.#crc)
    this.#dataHave += take
    this.#dataRemaining -= take
    if (this.#dataRemaining === 0) this.#dataDone()
    return at + take
  }

  /** Every data and padding byte is in: the digest comes next, or the PDU is complete. */
  #dataDone(): void {
    if (this.#dataDigest) {
      this.#state = State.DataDigest
      this.#digestHave = 0
    } else {
      this.#emit()
    }
  }

  /** `length` payload bytes were read straight into their place (the view directReadTarget() handed out). */
  #directFilled(view: Buffer, length: number): void {
    try {
      if (this.#dataDigest) this.#crc = crc32c(length === view.length ? view : view.subarray(0, length), this.#crc)
      this.#dataHave += length
      this.#dataRemaining -= length
      // Padding (and the digest) still come through the reader's own buffer; a segment without any ends here.
      if (this.#dataRemaining === 0) this.#dataDone()
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #readDataDigest(chunk: Buffer, at: number, end: number): number {
    const take = Math.min(DIGEST_LENGTH - this.#digestHave, end - at)
    chunk.copy(this.#digest, this.#digestHave, at, at + take)
    this.#digestHave += take
    at += take
    if (this.#digestHave === DIGEST_LENGTH) {
      const received = readDigest(this.#digest, 0)
      if (received !== this.#crc) throw new DataDigestError(Buffer.from(this.#pendingBhs), this.#crc, received)
      this.#emit()
    }
    return at
  }

  #emit(): void {
    const pdu = this.#pdu!
    if (pdu.opcode === Opcode.DataIn) this.#largePayloads = this.#placed && this.#dataLength >= DIRECT_READ_MIN
    // A placed payload is reported by its length: a view of the placement buffer would be one more allocation.
    pdu.data = this.#placed ? EMPTY : this.#dataTarget
    this.#pdu = undefined
    this.#dataTarget = EMPTY
    this.#state = State.Header
    this.#onPdu(pdu, this.#placed ? this.#dataLength : 0)
  }
}
