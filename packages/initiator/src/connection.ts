// One TCP connection of a session: the socket, the receive path (PduReceiver) and the write path. PDUs go out as
// iovecs (`serializePdu`: header, data view, padding, digest) inside one cork()/uncork() per event-loop turn, so all
// the PDUs a turn produces (a burst of commands, the Data-Out answering an R2T) leave in one writev without copying
// any payload (ws lib/sender.js does the same).
import { connect as netConnect, type Socket } from 'node:net'
import { serializePdu, type InitiatorPdu, type TargetPdu } from '@iscsi-ts/pdu'
import { ConnectionError, TimeoutError } from './errors.js'
import { PduReceiver } from './pdu-receiver.js'

export interface ConnectOptions {
  host: string
  port: number
  timeoutMs: number
  /** What we declare as MaxRecvDataSegmentLength; the receiver refuses longer segments. */
  maxRecvDataSegmentLength: number
  /** Aborts the TCP connect (session closing while reconnecting). */
  signal?: AbortSignal
}

export type PduHandler = (pdu: TargetPdu) => void
export type CloseHandler = (error: Error | undefined) => void

export class IscsiConnection {
  readonly host: string
  readonly port: number
  readonly #socket: Socket
  readonly #receiver: PduReceiver
  #headerDigest = false
  #dataDigest = false
  #corked = false
  #closed = false
  #ending = false
  #closeError: Error | undefined
  #onPdu: PduHandler = () => undefined
  #onClose: CloseHandler = () => undefined
  #place: ((header: Buffer, length: number) => Buffer | undefined) | undefined

  /** Connection ID within the session (RFC 7143 11.12.7). */
  cid = 0
  /** StatSN we expect next on this connection (RFC 7143 4.2.2.2); set from the final Login Response. */
  expStatSN = 0
  /** The target's MaxRecvDataSegmentLength: our largest outgoing data segment (8192 until declared). */
  maxSendDataSegmentLength = 8192

  private constructor(socket: Socket, host: string, port: number, maxRecvDataSegmentLength: number) {
    this.host = host
    this.port = port
    this.#socket = socket
    this.#receiver = new PduReceiver({
      maxDataSegmentLength: maxRecvDataSegmentLength,
      place: (header, length) => this.#place?.(header, length),
      onPdu: (pdu) => this.#onPdu(pdu),
      onError: (error) => this.destroy(new ConnectionError(`receive failed: ${error.message}`, { cause: error })),
    })
    socket.on('data', (chunk: Buffer) => this.#receiver.push(chunk))
    socket.on('error', (error) => this.destroy(new ConnectionError(`connection to ${this.address} failed: ${error.message}`, { cause: error })))
    socket.on('close', () => this.destroy(this.#ending ? undefined : new ConnectionError(`connection to ${this.address} closed by the target`)))
    socket.on('end', () => socket.end())
  }

  /** Opens a TCP connection (Nagle off: PDUs are batched by cork, not by the kernel). */
  static connect(options: ConnectOptions): Promise<IscsiConnection> {
    return new Promise((resolve, reject) => {
      const { host, port, timeoutMs, signal } = options
      if (signal?.aborted) {
        reject(new ConnectionError(`connect to ${host}:${port} cancelled`))
        return
      }
      const socket = netConnect({ host, port, noDelay: true })
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
          resolve(new IscsiConnection(socket, host, port, options.maxRecvDataSegmentLength))
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
    this.#onPdu = onPdu
    this.#onClose = onClose
    if (this.#closed) queueMicrotask(() => onClose(this.#closeError))
  }

  /** Direct placement of Data-In payloads (see PduReceiver). */
  setPlacement(place: ((header: Buffer, length: number) => Buffer | undefined) | undefined): void {
    this.#place = place
  }

  /** Switches digests on or off in both directions (after the final Login Response, RFC 7143 13.1). */
  setDigests(headerDigest: boolean, dataDigest: boolean): void {
    this.#headerDigest = headerDigest
    this.#dataDigest = dataDigest
    this.#receiver.setDigests(headerDigest, dataDigest)
  }

  setMaxRecvDataSegmentLength(length: number): void {
    this.#receiver.setMaxDataSegmentLength(length)
  }

  /**
   * Queues a PDU. PDUs sent in one event-loop turn share one cork and leave in one writev. Returns false when the
   * connection is closed (the PDU is dropped; the close handler has run or will run).
   */
  send(pdu: InitiatorPdu): boolean {
    if (this.#closed) return false
    const parts = serializePdu(pdu, { headerDigest: this.#headerDigest, dataDigest: this.#dataDigest })
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      process.nextTick(() => {
        this.#corked = false
        this.#socket.uncork()
      })
    }
    for (const part of parts) this.#socket.write(part)
    return true
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
