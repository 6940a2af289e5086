// One TCP connection of a session: the socket, the receive path (PduReceiver) and the write path.
//
// Receive: the socket reads into one reused buffer (`onread`), so a read allocates nothing; the receiver copies out
// whatever it keeps past the call, and Data-In payloads go from that buffer straight into the caller's buffer. The
// rest of a large payload is read by the kernel straight into the caller's buffer (`onread.buffer` picks the place
// of each read), as libiscsi lib/socket.c reads payloads into the task's iovecs.
// Send: every PDU of an event-loop turn goes into one WriteBatch (headers encoded into a reused slab, payloads as
// views) and leaves in one write, or one writev under cork() when payload views ride along (ws lib/sender.js).
// The flush runs as a microtask rather than on setImmediate: measured against tgtd, it leaves as soon as the read
// that caused it is handled, with fewer wake-ups of either side per I/O.
import { connect as netConnect, type Socket } from 'node:net'
import { BHS_LENGTH, DIGEST_LENGTH, type InitiatorPdu, type TargetPdu } from '@iscsi-ts/pdu'
import { ConnectionError, TimeoutError } from './errors.js'
import { PduReceiver, type Placement } from './pdu-receiver.js'
import { WriteBatch } from './write-batch.js'

/** A settled promise: `.then` on it queues a microtask at the cost of one promise reaction. */
const RESOLVED = Promise.resolve()

/** Bytes of the reused receive buffer: one read takes up to this much, e.g. fifteen 4 KiB Data-In PDUs. */
export const READ_BUFFER_SIZE = 64 * 1024

export interface ConnectOptions {
  host: string
  port: number
  timeoutMs: number
  /** What we declare as MaxRecvDataSegmentLength; the receiver refuses longer segments. */
  maxRecvDataSegmentLength: number
  /** Aborts the TCP connect (session closing while reconnecting). */
  signal?: AbortSignal
}

/** `placed`: payload bytes of a Data-In that went straight into the placement buffer (see PduReceiver). */
export type PduHandler = (pdu: TargetPdu, placed: number) => void
export type CloseHandler = (error: Error | undefined) => void

/** Where the socket's reads go until the connection object exists (nothing arrives before we send). */
interface ReadSink {
  push: (chunk: Buffer, end: number) => void
  /** The buffer for the next read: a Data-In payload's own place, or undefined for the reused read buffer. */
  next: () => Buffer | undefined
  /** The start of the read buffer, for reads of just a header (48 bytes, 52 with a header digest). */
  header: Buffer
  headerWithDigest: Buffer
}

export class IscsiConnection {
  readonly host: string
  readonly port: number
  readonly #socket: Socket
  readonly #receiver: PduReceiver
  readonly #batch = new WriteBatch()
  #headerDigest = false
  #dataDigest = false
  #flushScheduled = false
  #closed = false
  #ending = false
  #closeError: Error | undefined
  #onClose: CloseHandler = () => undefined

  /** Connection ID within the session (RFC 7143 11.12.7). */
  cid = 0
  /** StatSN we expect next on this connection (RFC 7143 4.2.2.2); set from the final Login Response. */
  expStatSN = 0
  /** The target's MaxRecvDataSegmentLength: our largest outgoing data segment (8192 until declared). */
  maxSendDataSegmentLength = 8192
  /** Counts reads (keepalive: a count that moved since the last look means the target spoke; no clock per read). */
  reads = 0

  private constructor(socket: Socket, sink: ReadSink, host: string, port: number, maxRecvDataSegmentLength: number) {
    this.host = host
    this.port = port
    this.#socket = socket
    this.#receiver = new PduReceiver({
      maxDataSegmentLength: maxRecvDataSegmentLength,
      onPdu: () => undefined,
      onError: (error) => this.destroy(new ConnectionError(`receive failed: ${error.message}`, { cause: error })),
    })
    sink.push = (chunk, end) => {
      this.reads++
      this.#receiver.push(chunk, end)
    }
    sink.next = () => {
      const receiver = this.#receiver
      const direct = receiver.directReadTarget()
      if (direct !== undefined) return direct
      // While large Data-In payloads flow, read each header alone: its payload then goes straight into place.
      const headerLength = receiver.headerReadLength
      return headerLength === 0 ? undefined : headerLength === BHS_LENGTH ? sink.header : sink.headerWithDigest
    }
    socket.on('error', (error) => this.destroy(new ConnectionError(`connection to ${this.address} failed: ${error.message}`, { cause: error })))
    socket.on('close', () => this.destroy(this.#ending ? undefined : new ConnectionError(`connection to ${this.address} closed by the target`)))
    socket.on('end', () => socket.end())
  }

  /** Opens a TCP connection (Nagle off: PDUs are batched by the WriteBatch, not by the kernel). */
  static connect(options: ConnectOptions): Promise<IscsiConnection> {
    return new Promise((resolve, reject) => {
      const { host, port, timeoutMs, signal } = options
      if (signal?.aborted) {
        reject(new ConnectionError(`connect to ${host}:${port} cancelled`))
        return
      }
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE)
      const sink: ReadSink = {
        push: () => undefined,
        next: () => undefined,
        header: readBuffer.subarray(0, BHS_LENGTH),
        headerWithDigest: readBuffer.subarray(0, BHS_LENGTH + DIGEST_LENGTH),
      }
      const socket = netConnect({
        host,
        port,
        noDelay: true,
        onread: {
          // Asked before every read: a large Data-In payload is read straight into the caller's buffer.
          buffer: () => sink.next() ?? readBuffer,
          callback: (length: number, buffer: Uint8Array): boolean => {
            sink.push(buffer as Buffer, length)
            return true
          },
        },
      })
      let done = false
      const finish = (error: Error | undefined): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        socket.off('connect', onConnect)
        socket.off('error', onError)
        if (error) {
          socket.destroy()
          reject(error)
        } else {
          resolve(new IscsiConnection(socket, sink, host, port, options.maxRecvDataSegmentLength))
        }
      }
      const onConnect = (): void => finish(undefined)
      const onError = (error: Error): void => finish(new ConnectionError(`connect to ${formatAddress(host, port)} failed: ${error.message}`, { cause: error }))
      const onAbort = (): void => finish(new ConnectionError(`connect to ${formatAddress(host, port)} cancelled`))
      const timer = setTimeout(() => finish(new TimeoutError('connect', timeoutMs, formatAddress(host, port))), timeoutMs)
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  get address(): string {
    return formatAddress(this.host, this.port)
  }

  get localAddress(): string {
    return formatAddress(this.#socket.localAddress ?? '?', this.#socket.localPort ?? 0)
  }

  get closed(): boolean {
    return this.#closed
  }

  get closeError(): Error | undefined {
    return this.#closeError
  }

  get headerDigest(): boolean {
    return this.#headerDigest
  }

  get dataDigest(): boolean {
    return this.#dataDigest
  }

  /** Bytes queued in the socket beyond its high-water mark: the caller should wait for `drained()`. */
  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain
  }

  setHandlers(onPdu: PduHandler, onClose: CloseHandler): void {
    this.#receiver.setOnPdu(onPdu)
    this.#onClose = onClose
    if (this.#closed) queueMicrotask(() => onClose(this.#closeError))
  }

  /** Direct placement of Data-In payloads (see PduReceiver). */
  setPlacement(place: Placement | undefined): void {
    this.#receiver.setPlacement(place)
  }

  /** Switches digests on or off in both directions (after the final Login Response, RFC 7143 13.1). */
  setDigests(headerDigest: boolean, dataDigest: boolean): void {
    this.#headerDigest = headerDigest
    this.#dataDigest = dataDigest
    this.#receiver.setDigests(headerDigest, dataDigest)
    this.#batch.setDigests(headerDigest, dataDigest)
  }

  setMaxRecvDataSegmentLength(length: number): void {
    this.#receiver.setMaxDataSegmentLength(length)
  }

  /**
   * Queues a PDU. Its header (and a small data segment) is encoded at once into the connection's write slab; a
   * larger data segment is queued as a view, never copied. Everything queued in one event-loop turn leaves in one
   * write (one iovec when there is no large payload, else one writev). Returns false when the connection is closed
   * (the PDU is dropped; the close handler has run or will run). The PDU object is not kept: callers may reuse it.
   * The batch is written from a microtask queued behind the first PDU: the promise reactions already queued by then
   * (the completions of one read, each letting the caller issue its next command) run first, so their commands ride
   * in the same write, and it leaves before the event loop goes back to waiting. A promise job rather than
   * process.nextTick: nextTick builds an object with computed symbol keys for every call, which V8 can only do
   * through the runtime, and it showed in the profile of every I/O.
   */
  send(pdu: InitiatorPdu): boolean {
    if (this.#closed) return false
    this.#batch.add(pdu)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      void RESOLVED.then(this.#flushNow)
    }
    return true
  }

  readonly #flushNow = (): void => {
    this.#flushScheduled = false
    try {
      this.#flush()
    } catch (error) {
      // socket.write reports its failures through 'error'; anything thrown here would otherwise be an unhandled
      // rejection of this promise job.
      this.destroy(new ConnectionError(`send failed: ${(error as Error).message}`, { cause: error }))
    }
  }

  /** Hands the PDUs queued so far to the socket: one write, or one writev under cork when payloads ride along. */
  #flush(): void {
    if (this.#closed) return
    const chunks = this.#batch.take()
    if (chunks === undefined) return
    const socket = this.#socket
    if (!Array.isArray(chunks)) {
      socket.write(chunks)
    } else {
      socket.cork()
      for (const chunk of chunks) socket.write(chunk)
      socket.uncork()
    }
    // Written synchronously (the usual case): the kernel has a copy of every byte, the slab can be reused.
    if (socket.writableLength === 0) this.#batch.recycle()
  }

  /** Resolves when the socket's write buffer drained below its high-water mark (or the connection closed). */
  drained(): Promise<void> {
    if (this.#closed || !this.#socket.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done)
        this.#socket.off('close', done)
        resolve()
      }
      this.#socket.once('drain', done)
      this.#socket.once('close', done)
    })
  }

  /** Half-closes after the queued writes (after a successful logout). */
  end(): void {
    if (this.#closed) return
    this.#flush()
    this.#ending = true
    this.#receiver.stop()
    this.#socket.end()
    // A target that does not close its side within a second gets the socket destroyed.
    setTimeout(() => this.destroy(undefined), 1000).unref()
  }

  /** Tears the connection down now; the close handler runs once with `error` (undefined for a local close). */
  destroy(error?: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#closeError = error
    this.#receiver.stop()
    this.#socket.destroy()
    this.#onClose(error)
  }
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
