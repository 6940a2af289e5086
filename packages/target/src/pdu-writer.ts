// The connection's write path. PDUs sent while the event loop handles one batch of I/O (a socket read, the backstore
// completions of one poll) leave together: they are queued here and flushed as one cork/uncork, so the kernel sees
// one writev per batch instead of one per PDU (ws `lib/sender.js` corks the same way). A batch leaves at the end of
// the callback that made it when it holds a few PDUs (the answers to one socket read), else from a setImmediate
// after the loop's I/O phase, with whatever other completions of that phase added.
//
// Headers (BHS, AHS, header digest) are encoded with `encodeHeader` straight into a slab, a reused buffer; small
// data segments are copied in right behind their header, so a batch of 4 KiB Data-In becomes a few contiguous
// slab regions rather than two iovecs per PDU. Larger data segments go out as the caller's Buffer (a view, never
// copied) between slab regions. A slab goes back to a small shared pool once the socket has written every region
// carved from it. Slabs come in two sizes: a batch starts in a 16 KiB one and moves to 128 KiB ones only when it
// outgrows that, so a connection that sends one response at a time (thousands of sessions at queue depth 1) holds
// 16 KiB rather than 128 KiB between batches, while a busy connection still fills large slabs.
//
// `pending` counts queued and socket-buffered bytes; `congested` and `onDrain` let the connection stop reading (and
// hold reads back) while a peer does not take what we send, so it cannot make the target buffer without bound.
import type { Socket } from 'node:net'
import { BHS_LENGTH, MAX_AHS_LENGTH, dataDigestOf, encodeHeader, paddingLength, writeDigest } from '@iscsi-ts/pdu'
import type { DigestOptions, TargetPdu } from '@iscsi-ts/pdu'
import { channels } from './channels.js'

/** Slab sizes: a batch of a few small PDUs fits the small one; larger batches use large ones. */
const SMALL_SLAB = 16 * 1024
const LARGE_SLAB = 128 * 1024
/** Data segments up to this size are copied into the slab; larger ones are written by reference. */
const COPY_LIMIT = 16 * 1024
/** The most a header can take: BHS, the largest AHS, header digest. */
const MAX_HEADER = BHS_LENGTH + MAX_AHS_LENGTH + 4
/** Queued bytes that force a flush without waiting for the end of the batch (bounds what one batch holds). */
const FLUSH_BYTES = 256 * 1024
/**
 * PDUs queued within one callback that make the batch leave at the end of that callback rather than after the
 * event loop's I/O phase. Single completions (a large read finishing in the thread pool) still wait for their
 * neighbours; the responses to one socket read's worth of commands go at once.
 */
const TICK_PDUS = 4
/** Free slabs of each size kept for reuse across connections (the rest are left to the GC): 3 MiB at most. */
const POOL_SLABS = 64
const SMALL_POOL_SLABS = POOL_SLABS
const LARGE_POOL_SLABS = POOL_SLABS / 4

const smallPool: Buffer[] = []
const largePool: Buffer[] = []

/** One slab and the regions of it the socket still holds (plus one while it is the writer's current slab). */
class Slab {
  readonly buffer: Buffer
  readonly #written: () => void
  #refs = 1
  /** Passed as the write callback of each region (no closure per write); also tells the writer bytes left. */
  readonly release = (): void => {
    if (--this.#refs === 0) {
      const small = this.buffer.length === SMALL_SLAB
      const pool = small ? smallPool : largePool
      if (pool.length < (small ? SMALL_POOL_SLABS : LARGE_POOL_SLABS)) pool.push(this.buffer)
    }
    this.#written()
  }

  constructor(written: () => void, size: number) {
    this.buffer = (size === SMALL_SLAB ? smallPool.pop() : largePool.pop()) ?? Buffer.allocUnsafeSlow(size)
    this.#written = written
  }

  retain(): void {
    this.#refs++
  }
}

export class PduWriter {
  readonly #socket: Socket
  readonly #remote: string
  readonly highWaterMark: number
  #digests: DigestOptions = {}
  #headerDigest = false
  #dataDigest = false
  #slab: Slab | undefined
  #offset = 0
  /** Start of the slab bytes written since the last region was queued. */
  #regionStart = 0
  readonly #chunks: Buffer[] = []
  /** The write callback of each chunk: its slab's release, or the drain check for a caller's data segment. */
  readonly #callbacks: Array<() => void> = []
  #queued = 0
  /** PDUs queued since the last flush. */
  #queuedPdus = 0
  #scheduled = false
  #tickScheduled = false
  readonly #flushNow = (): void => {
    this.#scheduled = false
    this.flush()
  }
  readonly #flushAfterTick = (): void => {
    this.#tickScheduled = false
    this.flush()
  }
  readonly #written = (): void => this.#checkDrain()
  readonly #drainWaiters: Array<() => void> = []
  #bytes = 0
  #pdus = 0

  constructor(socket: Socket, options: { readonly remote: string; readonly highWaterMark: number }) {
    this.#socket = socket
    this.#remote = options.remote
    this.highWaterMark = options.highWaterMark
  }

  /** Digests apply from the first PDU after the login completes (RFC 7143 13.1). */
  setDigests(digests: DigestOptions): void {
    this.#headerDigest = digests.headerDigest === true
    this.#dataDigest = digests.dataDigest === true
    this.#digests = { headerDigest: this.#headerDigest, dataDigest: this.#dataDigest }
  }

  get digests(): DigestOptions {
    return this.#digests
  }

  /** Bytes queued here or held by the socket, not yet handed to the kernel. */
  get pending(): number {
    return this.#socket.writableLength + this.#queued
  }

  get congested(): boolean {
    return this.pending > this.highWaterMark
  }

  get bytesWritten(): number {
    return this.#bytes
  }

  get pdusWritten(): number {
    return this.#pdus
  }

  /**
   * Queue one PDU; it leaves with the other PDUs of this batch. `onWritten` runs once the PDU's data segment is no
   * longer referenced here: at once when it was copied into the slab, else when the socket has written it (or has
   * been destroyed with it unwritten). It does not run when the PDU is dropped because the socket is closed already.
   */
  send(pdu: TargetPdu, onWritten?: () => void): void {
    const socket = this.#socket
    if (socket.destroyed || !socket.writable) return
    const data = pdu.data
    const length = data.length
    const pad = paddingLength(length)
    const copy = length > 0 && length <= COPY_LIMIT
    const trailer = length > 0 ? pad + (this.#dataDigest ? 4 : 0) : 0
    this.#reserve(MAX_HEADER + (copy ? length : 0) + trailer)
    const slab = this.#slab!.buffer
    let offset = this.#offset
    const headerBytes = encodeHeader(pdu, slab, offset, this.#digests)
    offset += headerBytes
    if (length > 0) {
      if (copy) {
        slab.set(data, offset)
        offset += length
      } else {
        this.#offset = offset
        this.#cutRegion()
        this.#chunks.push(data)
        this.#callbacks.push(onWritten === undefined ? this.#written : this.#writtenThen(onWritten))
      }
      for (let i = 0; i < pad; i++) slab[offset + i] = 0
      offset += pad
      if (this.#dataDigest) {
        writeDigest(dataDigestOf(data), slab, offset)
        offset += 4
      }
    }
    this.#offset = offset
    // Copied (or no data): the caller's buffer is free now.
    if (onWritten !== undefined && (copy || length === 0)) onWritten()
    const bytes = headerBytes + length + trailer
    this.#queued += bytes
    this.#queuedPdus++
    this.#bytes += bytes
    this.#pdus++
    if (channels.pduSend.hasSubscribers) {
      channels.pduSend.publish({ opcode: pdu.opcode, itt: 'itt' in pdu ? pdu.itt : 0xffffffff, remote: this.#remote })
    }
    if (this.#queued >= FLUSH_BYTES) {
      this.flush()
      return
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flushNow)
    }
    if (this.#queuedPdus === TICK_PDUS && !this.#tickScheduled) {
      // A burst from one callback (the commands of one socket read): send it when this callback's work is done,
      // so the initiator can start on it while the target goes on with the rest of the loop.
      this.#tickScheduled = true
      process.nextTick(this.#flushAfterTick)
    }
  }

  /** Hand everything queued to the socket now (before `end()`, or when a batch grows large). */
  flush(): void {
    this.#cutRegion()
    const chunks = this.#chunks
    const count = chunks.length
    if (count === 0) return
    const callbacks = this.#callbacks
    const socket = this.#socket
    this.#queued = 0
    this.#queuedPdus = 0
    if (socket.destroyed || !socket.writable) {
      for (const release of callbacks) release()
    } else {
      if (count > 1) socket.cork()
      for (let i = 0; i < count; i++) socket.write(chunks[i]!, callbacks[i])
      if (count > 1) socket.uncork()
    }
    chunks.length = 0
    callbacks.length = 0
  }

  /**
   * Run `callback` after the socket next hands bytes to the kernel with `pending` at or below the high-water mark
   * (on the next tick when nothing is pending). Unlike the socket's 'drain', this also covers bytes still queued
   * here and fires whatever the socket's own high-water mark.
   */
  onDrain(callback: () => void): void {
    if (this.pending === 0) {
      process.nextTick(callback)
      return
    }
    this.#drainWaiters.push(callback)
  }

  #writtenThen(onWritten: () => void): () => void {
    return () => {
      this.#checkDrain()
      onWritten()
    }
  }

  #checkDrain(): void {
    if (this.#drainWaiters.length === 0 || this.congested) return
    for (const waiter of this.#drainWaiters.splice(0)) waiter()
  }

  /** Queue the slab bytes written since the last region as one chunk. */
  #cutRegion(): void {
    const slab = this.#slab
    if (slab === undefined || this.#offset === this.#regionStart) return
    slab.retain()
    this.#chunks.push(slab.buffer.subarray(this.#regionStart, this.#offset))
    this.#callbacks.push(slab.release)
    this.#regionStart = this.#offset
  }

  /**
   * Make room for `bytes` in the current slab, moving to a fresh one when needed: a small slab while the batch so far
   * and this PDU fit half of one, else a large one.
   */
  #reserve(bytes: number): void {
    const slab = this.#slab
    if (slab !== undefined && this.#offset + bytes <= slab.buffer.length) return
    if (slab !== undefined) {
      this.#cutRegion()
      slab.release()
    }
    this.#slab = new Slab(this.#written, this.#queued + bytes <= SMALL_SLAB / 2 ? SMALL_SLAB : LARGE_SLAB)
    this.#offset = 0
    this.#regionStart = 0
  }
}
