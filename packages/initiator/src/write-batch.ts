// The outgoing PDUs of one event-loop turn, laid out for a single socket write. Headers (BHS + AHS + header digest,
// RFC 7143 11.1), padding, data digests and data segments up to INLINE_DATA_LIMIT bytes are encoded back to back
// into a write slab; larger data segments stay the caller's Buffers and are queued as views between slab regions
// (ws lib/sender.js: iovecs, never Buffer.concat of a payload). A turn of commands without payload is then one
// contiguous Buffer: one write(2) instead of a writev of one iovec per PDU, and no allocation per PDU.
//
// Slab bytes handed out by `take()` are not written again while the socket may still hold them. When a slab has no
// room for the next PDU a fresh one is started, and the old one is freed by the GC once its writes are done; but
// when the caller knows every byte taken has left (the socket wrote them synchronously, as it does while the kernel's
// send buffer has room), `recycle()` starts the slab over, so a busy connection keeps writing one warm slab instead
// of allocating 64 KiB for every ~1300 commands.
import { Opcode, crc32c, encodeHeader, paddingLength, dataDigestOf, writeDigest, type DigestOptions, type InitiatorPdu } from '@iscsi-ts/pdu'
import { isPlainScsiCommand, writeScsiCommandBhs } from './io-pdus.js'

/** Bytes per write slab: about 1300 SCSI Command headers. */
export const SLAB_SIZE = 64 * 1024
/** Longest header: BHS 48 + AHS 1020 + header digest 4 (RFC 7143 11.2.1.2). */
const MAX_HEADER_LENGTH = 48 + 1020 + 4
/** Data segments up to this size are copied into the slab: cheaper than one more iovec and its bookkeeping. */
export const INLINE_DATA_LIMIT = 2048

export class WriteBatch {
  #slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE)
  /** End of the bytes written into the slab. */
  #used = 0
  /** Start of the slab bytes not yet queued as a chunk. */
  #start = 0
  /** Chunks of this batch before the open slab region, when a payload view separates them; else empty. */
  #chunks: Buffer[] = []
  #digests: DigestOptions = { headerDigest: false, dataDigest: false }
  /** The LUN field last written by the SCSI Command fast path, and its 8 bytes (one BigInt decode per LUN). */
  #lun = -1n
  readonly #lunBytes = Buffer.alloc(8)

  /** Digests for the PDUs added from now on (RFC 7143 13.1: they start after the final Login Response). */
  setDigests(headerDigest: boolean, dataDigest: boolean): void {
    this.#digests = { headerDigest, dataDigest }
  }

  /** True when nothing is queued. */
  get empty(): boolean {
    return this.#used === this.#start && this.#chunks.length === 0
  }

  /** Encodes `pdu` into the batch. Throws PduEncodeError (from the pdu codec) for a PDU that cannot be encoded. */
  add(pdu: InitiatorPdu): void {
    const data = pdu.data
    const length = data.length
    const inline = length <= INLINE_DATA_LIMIT
    const room = MAX_HEADER_LENGTH + (inline ? length : 0) + 8
    if (SLAB_SIZE - this.#used < room) this.#newSlab()
    const slab = this.#slab
    let at = this.#used
    if (pdu.opcode === Opcode.ScsiCommand && isPlainScsiCommand(pdu)) {
      // The PDU of every I/O: written field by field (io-pdus.ts), the LUN bytes from a one-entry cache.
      if (pdu.lun !== this.#lun) {
        this.#lunBytes.writeBigUInt64BE(pdu.lun)
        this.#lun = pdu.lun
      }
      writeScsiCommandBhs(slab, at, pdu, this.#lunBytes)
      at += 48
      if (this.#digests.headerDigest) {
        writeDigest(crc32c(slab.subarray(at - 48, at)), slab, at)
        at += 4
      }
    } else {
      // encodeHeader validates every field before the caller's bytes matter; nothing is committed if it throws.
      at += encodeHeader(pdu, slab, at, this.#digests)
    }
    if (length > 0) {
      if (inline) {
        slab.set(data, at)
        at += length
      } else {
        this.#cut(at)
        this.#chunks.push(data)
      }
      const pad = paddingLength(length)
      for (let i = 0; i < pad; i++) slab[at + i] = 0
      at += pad
      if (this.#digests.dataDigest) {
        // RFC 7143 13.1: the data digest covers the data and its padding.
        writeDigest(dataDigestOf(data), slab, at)
        at += 4
      }
    }
    this.#used = at
  }

  /**
   * The queued bytes, in order: one Buffer (the common case: headers and small segments only), an array of chunks
   * for a writev, or undefined when nothing is queued. The batch is empty afterwards.
   */
  take(): Buffer | Buffer[] | undefined {
    if (this.#chunks.length === 0) {
      if (this.#used === this.#start) return undefined
      const region = this.#slab.subarray(this.#start, this.#used)
      this.#start = this.#used
      return region
    }
    this.#cut(this.#used)
    const chunks = this.#chunks
    this.#chunks = []
    return chunks
  }

  /**
   * Starts the slab over. Only for a caller that knows nothing taken from it is referenced any more (every byte
   * handed to the socket was written) and that nothing is queued since the last `take()`.
   */
  recycle(): void {
    if (this.#chunks.length !== 0 || this.#used !== this.#start) return
    this.#used = 0
    this.#start = 0
  }

  /** Queues the open slab region up to `end` as a chunk. */
  #cut(end: number): void {
    if (end > this.#start) this.#chunks.push(this.#slab.subarray(this.#start, end))
    this.#start = end
    this.#used = end
  }

  #newSlab(): void {
    this.#cut(this.#used)
    this.#slab = Buffer.allocUnsafe(SLAB_SIZE)
    this.#used = 0
    this.#start = 0
  }
}
