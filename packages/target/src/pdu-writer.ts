// The connection's write path: each PDU's header (BHS, AHS, header digest) is encoded into a slice of a preallocated
// slab, the data segment goes out as the caller's Buffer (a view, never copied), padding is a shared zero buffer.
// Writes made in one tick are corked and leave as one writev on the next (ws `lib/sender.js` does the same).
// `congested` tells the connection to stop reading while the socket holds more than the high-water mark, so a peer
// that does not read cannot make the target buffer without bound.
import type { Socket } from 'node:net'
import { dataDigestOf, encodeHeader, headerLength, paddingLength, writeDigest } from '@iscsi-ts/pdu'
import type { DigestOptions, TargetPdu } from '@iscsi-ts/pdu'
import { channels } from './channels.js'

const SLAB_SIZE = 64 * 1024
const ZEROS = Buffer.alloc(4)

export class PduWriter {
  readonly #socket: Socket
  readonly #remote: string
  readonly highWaterMark: number
  #digests: DigestOptions = {}
  #slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE)
  #slabOffset = 0
  #corked = false
  #bytes = 0
  #pdus = 0

  constructor(socket: Socket, options: { readonly remote: string; readonly highWaterMark: number }) {
    this.#socket = socket
    this.#remote = options.remote
    this.highWaterMark = options.highWaterMark
  }

  /** Digests apply from the first PDU after the login completes (RFC 7143 13.1). */
  setDigests(digests: DigestOptions): void {
    this.#digests = { headerDigest: digests.headerDigest === true, dataDigest: digests.dataDigest === true }
  }

  get digests(): DigestOptions {
    return this.#digests
  }

  /** Bytes handed to the socket and not yet flushed to the kernel. */
  get pending(): number {
    return this.#socket.writableLength
  }

  get congested(): boolean {
    return this.#socket.writableLength > this.highWaterMark
  }

  get bytesWritten(): number {
    return this.#bytes
  }

  get pdusWritten(): number {
    return this.#pdus
  }

  /** Queue one PDU; it leaves with the other PDUs written in this tick. */
  send(pdu: TargetPdu): void {
    const socket = this.#socket
    if (socket.destroyed || !socket.writable) return
    if (!this.#corked) {
      this.#corked = true
      socket.cork()
      process.nextTick(() => {
        this.#corked = false
        socket.uncork()
      })
    }
    const digests = this.#digests
    const header = this.#carve(headerLength(pdu, digests))
    encodeHeader(pdu, header, 0, digests)
    socket.write(header)
    let bytes = header.length
    const data = pdu.data
    if (data.length > 0) {
      socket.write(data)
      const pad = paddingLength(data.length)
      if (pad > 0) socket.write(ZEROS.subarray(0, pad))
      bytes += data.length + pad
      if (digests.dataDigest === true) {
        const digest = this.#carve(4)
        writeDigest(dataDigestOf(data), digest, 0)
        socket.write(digest)
        bytes += 4
      }
    }
    this.#bytes += bytes
    this.#pdus++
    if (channels.pduSend.hasSubscribers) {
      channels.pduSend.publish({ opcode: pdu.opcode, itt: 'itt' in pdu ? pdu.itt : 0xffffffff, remote: this.#remote })
    }
  }

  #carve(length: number): Buffer {
    if (this.#slabOffset + length > this.#slab.length) {
      // Slices of the old slab stay referenced by the socket until written; a new slab takes over.
      this.#slab = Buffer.allocUnsafe(SLAB_SIZE)
      this.#slabOffset = 0
    }
    const slice = this.#slab.subarray(this.#slabOffset, this.#slabOffset + length)
    // Keep slices 8-byte aligned.
    this.#slabOffset += (length + 7) & ~7
    return slice
  }
}
