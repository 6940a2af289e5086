// The initiator's receive path: TCP chunks in, target PDUs out, with Data-In payloads placed straight into the
// caller's buffer (libiscsi lib/socket.c does the same with its iovecs). States follow the PDU layout of RFC 7143
// 11.1: HEADER (BHS + AHS) -> HEADER_DIGEST -> DATA (+ padding) -> DATA_DIGEST. The header is a view into the
// chunk when it lies in one chunk, a 48-to-1072-byte copy when it spans chunks. A data segment goes:
//   - into the buffer `place()` returns (a Data-In for a live task): one copy, socket chunk -> caller buffer;
//   - else, when it lies in one chunk, as a view of that chunk;
//   - else into a buffer of exactly DataSegmentLength bytes.
// DataSegmentLength is checked against our MaxRecvDataSegmentLength before a byte of data is buffered.
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
  type PduError,
  type TargetPdu,
} from '@iscsi-ts/pdu'

export interface PduReceiverOptions {
  /** MaxRecvDataSegmentLength we declared: a longer DataSegmentLength is a protocol error (RFC 7143 13.12). */
  maxDataSegmentLength: number
  headerDigest?: boolean
  dataDigest?: boolean
  /**
   * Called with the header of each Data-In PDU before its data arrives: return the `length`-byte buffer the data
   * must land in, or undefined to receive it into a fresh buffer (unknown task, out of order...).
   */
  place?: (header: Buffer, length: number) => Buffer | undefined
  onPdu: (pdu: TargetPdu) => void
  /** A fatal error: nothing after it on the stream can be trusted; the receiver stops. */
  onError: (error: PduError | Error) => void
}

const State = { Header: 0, Data: 1, DataDigest: 2, Dead: 3 } as const
type State = (typeof State)[keyof typeof State]

const EMPTY = Buffer.alloc(0)

export class PduReceiver {
  readonly #options: PduReceiverOptions
  #headerDigest: boolean
  #dataDigest: boolean
  #maxDataSegmentLength: number
  #state: State = State.Header

  // Header assembly when it spans chunks.
  #headerParts: Buffer[] = []
  #headerHave = 0
  /** Total header bytes (BHS + AHS + digest) once the BHS is known, else BHS_LENGTH. */
  #headerNeed = BHS_LENGTH

  // The PDU being received.
  #header: Buffer = EMPTY
  #totalAhsLength = 0
  #dataLength = 0
  /** Data + padding bytes still to come. */
  #dataRemaining = 0
  /** Where the data goes: a placement target or a private buffer; undefined while it can still be a view. */
  #dataTarget: Buffer | undefined
  #dataView: Buffer | undefined
  #dataHave = 0
  #crc = 0
  #digestParts: Buffer[] = []
  #digestHave = 0

  constructor(options: PduReceiverOptions) {
    this.#options = options
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

  get dead(): boolean {
    return this.#state === State.Dead
  }

  /** Stops receiving: anything pushed later is ignored (the connection is being torn down). */
  stop(): void {
    this.#state = State.Dead
  }

  /** Feeds one TCP chunk, split anywhere. */
  push(chunk: Buffer): void {
    let at = 0
    try {
      while (at < chunk.length && this.#state !== State.Dead) {
        if (this.#state === State.Header) at = this.#readHeader(chunk, at)
        else if (this.#state === State.Data) at = this.#readData(chunk, at)
        else at = this.#readDataDigest(chunk, at)
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

  #readHeader(chunk: Buffer, at: number): number {
    // Fast path: the whole header (at least the BHS, then the rest) in this chunk and nothing buffered.
    if (this.#headerHave === 0 && chunk.length - at >= BHS_LENGTH) {
      const need = this.#fullHeaderLength(chunk, at)
      if (chunk.length - at >= need) {
        this.#headerReady(chunk.subarray(at, at + need))
        return at + need
      }
    }
    const take = Math.min(this.#headerNeed - this.#headerHave, chunk.length - at)
    this.#headerParts.push(chunk.subarray(at, at + take))
    this.#headerHave += take
    at += take
    if (this.#headerHave === this.#headerNeed) {
      const joined = Buffer.concat(this.#headerParts, this.#headerHave)
      if (this.#headerNeed === BHS_LENGTH) {
        // Now the BHS is known: learn the full header length and keep going.
        const need = this.#fullHeaderLength(joined, 0)
        if (need > BHS_LENGTH) {
          this.#headerParts = [joined]
          this.#headerNeed = need
          return at
        }
      }
      this.#headerParts = []
      this.#headerHave = 0
      this.#headerNeed = BHS_LENGTH
      this.#headerReady(joined)
    }
    return at
  }

  /** BHS + AHS + header digest length of the BHS at `offset`. */
  #fullHeaderLength(buf: Buffer, offset: number): number {
    return BHS_LENGTH + buf[offset + 4]! * 4 + (this.#headerDigest ? DIGEST_LENGTH : 0)
  }

  #headerReady(header: Buffer): void {
    const totalAhsLength = header[4]! * 4
    const dataLength = (header[5]! << 16) | (header[6]! << 8) | header[7]!
    if (this.#headerDigest) {
      const end = BHS_LENGTH + totalAhsLength
      const computed = crc32c(header.subarray(0, end))
      const received = readDigest(header, end)
      if (computed !== received) throw new HeaderDigestError(computed, received)
    }
    if (dataLength > this.#maxDataSegmentLength) {
      throw new SegmentTooLongError(Buffer.from(header.subarray(0, BHS_LENGTH)), dataLength, this.#maxDataSegmentLength)
    }
    this.#header = header
    this.#totalAhsLength = totalAhsLength
    this.#dataLength = dataLength
    if (dataLength === 0) {
      this.#emit(EMPTY)
      return
    }
    this.#dataRemaining = dataLength + paddingLength(dataLength)
    this.#dataHave = 0
    this.#crc = 0
    this.#dataView = undefined
    this.#dataTarget = undefined
    if ((header[0]! & 0x3f) === Opcode.DataIn && this.#options.place !== undefined) {
      const target = this.#options.place(header, dataLength)
      if (target !== undefined && target.length === dataLength) this.#dataTarget = target
    }
    this.#state = State.Data
  }

  #readData(chunk: Buffer, at: number): number {
    const available = chunk.length - at
    // A data segment wholly inside this chunk and no placement target: a view, no copy.
    if (this.#dataTarget === undefined && this.#dataHave === 0 && available >= this.#dataRemaining) {
      const view = chunk.subarray(at, at + this.#dataLength)
      if (this.#dataDigest) this.#crc = crc32c(chunk.subarray(at, at + this.#dataRemaining))
      this.#dataView = view
      at += this.#dataRemaining
      this.#dataRemaining = 0
      this.#dataDone()
      return at
    }
    this.#dataTarget ??= Buffer.allocUnsafe(this.#dataLength)
    const take = Math.min(this.#dataRemaining, available)
    const piece = chunk.subarray(at, at + take)
    // Data bytes go to the target; padding bytes only into the digest.
    const dataBytes = Math.max(0, Math.min(take, this.#dataLength - this.#dataHave))
    if (dataBytes > 0) this.#dataTarget.set(piece.subarray(0, dataBytes), this.#dataHave)
    if (this.#dataDigest) this.#crc = crc32c(piece, this.#crc)
    this.#dataHave += take
    this.#dataRemaining -= take
    at += take
    if (this.#dataRemaining === 0) {
      this.#dataView = this.#dataTarget
      this.#dataDone()
    }
    return at
  }

  #dataDone(): void {
    if (this.#dataDigest) {
      this.#state = State.DataDigest
      this.#digestParts = []
      this.#digestHave = 0
      return
    }
    this.#emit(this.#dataView ?? EMPTY)
  }

  #readDataDigest(chunk: Buffer, at: number): number {
    const take = Math.min(DIGEST_LENGTH - this.#digestHave, chunk.length - at)
    this.#digestParts.push(chunk.subarray(at, at + take))
    this.#digestHave += take
    at += take
    if (this.#digestHave === DIGEST_LENGTH) {
      const digest = this.#digestParts.length === 1 ? this.#digestParts[0]! : Buffer.concat(this.#digestParts, DIGEST_LENGTH)
      const received = readDigest(digest, 0)
      if (received !== this.#crc) throw new DataDigestError(Buffer.from(this.#header.subarray(0, BHS_LENGTH)), this.#crc, received)
      this.#emit(this.#dataView ?? EMPTY)
    }
    return at
  }

  #emit(data: Buffer): void {
    const header = this.#header
    this.#header = EMPTY
    this.#dataView = undefined
    this.#dataTarget = undefined
    this.#state = State.Header
    this.#options.onPdu(decodeWithData(header, this.#totalAhsLength, data))
  }
}

/**
 * Decodes a target PDU from its header (digest already checked) and a data segment received elsewhere: the BHS and
 * AHS are copied (at most 1068 bytes) with DataSegmentLength zeroed, decoded, and given `data`. The copy keeps the
 * pdu package's decoder the only place that knows field layouts.
 */
function decodeWithData(header: Buffer, totalAhsLength: number, data: Buffer): TargetPdu {
  const copy = Buffer.from(header.subarray(0, BHS_LENGTH + totalAhsLength))
  copy[5] = 0
  copy[6] = 0
  copy[7] = 0
  const pdu = decodePdu(copy, 0, { role: 'initiator' }).value as TargetPdu
  pdu.data = data
  return pdu
}
