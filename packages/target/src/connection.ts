// One TCP connection (RFC 7143 4.1, 4.4): framing in, the corked write path out, the login phase, then full feature
// phase dispatch: SCSI commands and Data-Out to the session, NOP-Out/NOP-In, Text, task management, Logout, Reject.
// StatSN belongs to the connection (RFC 7143 4.2.2.2). NOP-In pings find dead peers; a peer that does not read is
// met by not reading from it either (the socket pauses while the send queue is above its high-water mark).
import type { Socket } from 'node:net'
import {
  AsyncEvent,
  LogoutReason,
  LogoutResponseCode,
  Opcode,
  PduFramer,
  RESERVED_TAG,
  RejectReason,
} from '@iscsi-ts/pdu'
import type {
  LogoutRequestPdu,
  LogoutResponsePdu,
  NopOutPdu,
  Pdu,
  PduError,
  TargetPdu,
  TaskManagementRequestPdu,
  TextRequestPdu,
  TextResponsePdu,
} from '@iscsi-ts/pdu'
import { TargetTextNegotiation } from '@iscsi-ts/negotiation'
import type { ConnectionParameters, NegotiatedParameters, TargetListing } from '@iscsi-ts/negotiation'
import { channels, publishConnection, publishError, publishLogin, publishLogout } from './channels.js'
import type { ResolvedLimits } from './config.js'
import { DiscoveryTextGuard } from './discovery-text.js'
import { DataOutError, TargetErrorCode } from './errors.js'
import { LoginProcess } from './login.js'
import type { LoginHost } from './login.js'
import { operationalPreferences } from './login-policy.js'
import { PduWriter } from './pdu-writer.js'
import { asyncMessagePdu, headerOf, nopInPdu, rejectPdu, tmfResponsePdu } from './responses.js'
import type { Session, SessionConnection } from './session.js'
import { TransportAsc } from './sense.js'
import { TagTable } from './tag-table.js'
import { performTaskManagement } from './task-management.js'
import type { TaskManagementHost } from './task-management.js'

const EMPTY = Buffer.alloc(0)
/** How long a half-closed connection may linger after a Logout Response or failed login before it is destroyed. */
const LINGER_MS = 2000
/** ITTs of ended tasks remembered per connection, so late Data-Out for them is dropped quietly. */
const ENDED_ITTS = 256

export interface ConnectionHost extends LoginHost, TaskManagementHost<Connection> {
  listTargets(connection: Connection, session: Session<Connection>, initiatorName: string): TargetListing[]
  connectionClosed(connection: Connection): void
}

export type ConnectionPhase = 'login' | 'full-feature' | 'closing' | 'closed'

let nextConnectionId = 1

function formatAddress(address: string | undefined, port: number | undefined): string {
  const host = address ?? '?'
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`
}

export class Connection implements SessionConnection {
  readonly id = nextConnectionId++
  readonly socket: Socket
  readonly remote: string
  readonly local: string
  readonly remoteAddress: string
  readonly localAddress: string
  readonly localPort: number
  readonly portalGroupTag: number
  cid = 0
  session: Session<Connection> | undefined
  maxSendDataSegmentLength = 8192
  readonly #host: ConnectionHost
  readonly #limits: ResolvedLimits
  readonly #framer: PduFramer
  readonly #writer: PduWriter
  #phase: ConnectionPhase = 'login'
  #statSN = 0
  #login: LoginProcess | undefined
  #parameters: ConnectionParameters | undefined
  #text: { itt: number; negotiation: TargetTextNegotiation; guard: DiscoveryTextGuard | undefined } | undefined
  readonly #ended = new TagTable<true>(ENDED_ITTS)
  /** The same ITTs in the order they ended (a ring): the oldest is forgotten first. */
  readonly #endedOrder = new Array<number>(ENDED_ITTS).fill(0)
  #endedNext = 0
  #loginTimer: NodeJS.Timeout | undefined
  #nopTimer: NodeJS.Timeout | undefined
  #pingTimer: NodeJS.Timeout | undefined
  #lingerTimer: NodeJS.Timeout | undefined
  #ping: { ttt: number; sentAt: number } | undefined
  #pingTtt = 0
  #lastActivity = Date.now()
  #paused = false
  /** Data-In bytes of reads executing on this connection (admission control against the send queue). */
  #readLoad = 0
  readonly #admissions: Array<{ readonly bytes: number; readonly run: (arg: never) => void; readonly arg: unknown }> = []
  #drainHooked = false
  #closeReason = 'connection closed'
  /** Closing because of a Logout or reinstatement: not a connection failure (no session recovery). */
  #clean = false

  constructor(socket: Socket, portalGroupTag: number, host: ConnectionHost) {
    this.socket = socket
    this.portalGroupTag = portalGroupTag
    this.#host = host
    this.#limits = host.limits
    this.remoteAddress = socket.remoteAddress ?? ''
    this.localAddress = socket.localAddress ?? ''
    this.localPort = socket.localPort ?? 0
    this.remote = formatAddress(socket.remoteAddress, socket.remotePort)
    this.local = formatAddress(socket.localAddress, socket.localPort)
    this.#writer = new PduWriter(socket, { remote: this.remote, highWaterMark: host.limits.sendHighWaterMark })
    this.#framer = new PduFramer({
      role: 'target',
      onPdu: (pdu) => this.#onPdu(pdu),
      onError: (error) => this.#onFramingError(error),
    })
    this.#login = new LoginProcess(this, host)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => {
      this.#closeReason = `socket error: ${error.message}`
      publishError({ kind: 'connection', message: error.message, remote: this.remote, code: TargetErrorCode.Connection })
    })
    socket.on('end', () => {
      // The peer half-closed: nothing more will come; finish what is queued and close.
      if (this.#phase !== 'closed') this.close(this.#phase === 'closing' ? this.#closeReason : 'peer closed the connection', true)
    })
    socket.on('close', () => this.#onClose())
    this.#loginTimer = setTimeout(() => this.#loginTimeout(), host.limits.loginTimeoutMs)
    this.#loginTimer.unref()
    publishConnection({ event: 'open', remote: this.remote, local: this.local })
  }

  get phase(): ConnectionPhase {
    return this.#phase
  }

  /** Closing or closed: nothing more is sent for tasks of this connection. */
  get closed(): boolean {
    return this.#phase === 'closing' || this.#phase === 'closed'
  }

  get statSN(): number {
    return this.#statSN
  }

  get writer(): PduWriter {
    return this.#writer
  }

  get parameters(): ConnectionParameters | undefined {
    return this.#parameters
  }

  /** True while reading is paused because the peer does not take what we send. */
  get paused(): boolean {
    return this.#paused
  }

  startStatSN(statSN: number): void {
    this.#statSN = statSN >>> 0
  }

  takeStatSN(): number {
    const statSN = this.#statSN
    this.#statSN = (this.#statSN + 1) >>> 0
    return statSN
  }

  send(pdu: TargetPdu, onWritten?: () => void): void {
    if (this.#phase === 'closed') return
    this.#writer.send(pdu, onWritten)
  }

  reject(reason: number, pdu: Pdu): void {
    this.#sendReject(reason, headerOf(pdu))
  }

  /** Every Reject is also an error event (kind 'reject'), so operators see protocol errors (RFC 7143 11.17). */
  #sendReject(reason: number, header: Buffer): void {
    publishError({
      kind: 'reject',
      message: `rejected opcode 0x${(header[0]! & 0x3f).toString(16).padStart(2, '0')} with reason 0x${reason.toString(16).padStart(2, '0')}`,
      remote: this.remote,
      code: TargetErrorCode.Protocol,
    })
    const session = this.session
    const statSN = this.takeStatSN()
    const seq = session === undefined ? { statSN, expCmdSN: 0, maxCmdSN: 0 } : session.sequence(statSN)
    this.send(rejectPdu(reason, header, seq))
  }

  rememberEnded(itt: number): void {
    const ended = this.#ended
    if (ended.has(itt)) return
    if (ended.size >= ENDED_ITTS) ended.delete(this.#endedOrder[this.#endedNext]!)
    ended.set(itt, true)
    this.#endedOrder[this.#endedNext] = itt
    this.#endedNext = (this.#endedNext + 1) % ENDED_ITTS
  }

  wasEnded(itt: number): boolean {
    return this.#ended.has(itt)
  }

  /** Login succeeded (called by the login with the response already queued). */
  enterFullFeature(session: Session<Connection>, cid: number, parameters: NegotiatedParameters): void {
    this.session = session
    this.cid = cid
    this.#parameters = parameters.connection
    this.maxSendDataSegmentLength = parameters.connection.maxSendDataSegmentLength
    this.#phase = 'full-feature'
    this.#login = undefined
    if (this.#loginTimer !== undefined) clearTimeout(this.#loginTimer)
    this.#loginTimer = undefined
    // Digests and our MaxRecvDataSegmentLength apply from the first PDU after the final Login Response.
    const digests = { headerDigest: parameters.connection.headerDigest === 'CRC32C', dataDigest: parameters.connection.dataDigest === 'CRC32C' }
    this.#writer.setDigests(digests)
    this.#framer.setDigests(digests)
    this.#framer.setMaxRecvDataSegmentLength(parameters.connection.maxRecvDataSegmentLength)
    this.#startNop()
  }

  /**
   * Close the connection. `graceful`: flush what is queued and half-close (after a Logout Response or a failed
   * login), destroying it if the peer lingers; otherwise destroy it now.
   */
  close(reason: string, graceful = false): void {
    if (this.#phase === 'closed') return
    if (this.#phase !== 'closing') this.#closeReason = reason
    this.#stopTimers()
    if (graceful) {
      this.#phase = 'closing'
      if (!this.socket.writableEnded) {
        this.#writer.flush()
        this.socket.end()
      }
      if (this.#lingerTimer === undefined) {
        this.#lingerTimer = setTimeout(() => this.socket.destroy(), LINGER_MS)
        this.#lingerTimer.unref()
      }
      return
    }
    this.#phase = 'closing'
    this.socket.destroy()
  }

  /** Close without it counting as a connection failure (Logout, reinstatement). */
  closeClean(reason: string, graceful = false): void {
    this.#clean = true
    this.close(reason, graceful)
  }

  /** Ask the initiator to log out within `seconds` (Async Message event 1, RFC 7143 11.9.1). */
  requestLogout(seconds: number): void {
    const session = this.session
    if (session === undefined || this.#phase !== 'full-feature') return
    this.send(asyncMessagePdu({ asyncEvent: AsyncEvent.LogoutRequest, parameter3: seconds, seq: session.sequence(this.takeStatSN()) }))
  }

  admit<A>(bytes: number, run: (arg: A) => void, arg: A): void {
    if (this.#admissions.length === 0 && !this.closed && this.#fits(bytes)) {
      // Nothing waiting and room in the send queue: run now, without queueing.
      this.#readLoad += bytes
      run(arg)
      return
    }
    this.#admissions.push({ bytes, run: run as (arg: never) => void, arg })
    this.#pump()
  }

  #fits(bytes: number): boolean {
    const pending = this.#writer.pending
    return this.#readLoad === 0 ? pending <= this.#writer.highWaterMark : this.#readLoad + pending + bytes <= this.#writer.highWaterMark
  }

  withdraw(arg: unknown): boolean {
    const index = this.#admissions.findIndex((entry) => entry.arg === arg)
    if (index < 0) return false
    this.#admissions.splice(index, 1)
    // The head may have changed: the next waiting read may fit now.
    if (index === 0) this.#pump()
    return true
  }

  released(bytes: number): void {
    this.#readLoad = Math.max(0, this.#readLoad - bytes)
    this.#pump()
  }

  /**
   * Start reads while their Data-In fits under the high-water mark together with what is queued and executing; one
   * read always runs when nothing else is in flight and the socket is not congested, so a read larger than the mark
   * still completes.
   */
  #pump(): void {
    while (this.#admissions.length > 0) {
      if (this.closed) {
        // Run them anyway: each one sees the closed connection and ends without a response.
        for (const next of this.#admissions.splice(0)) next.run(next.arg as never)
        return
      }
      const next = this.#admissions[0]!
      if (!this.#fits(next.bytes)) {
        if (this.#writer.pending > 0 && !this.#drainHooked) {
          this.#drainHooked = true
          this.#writer.onDrain(() => {
            this.#drainHooked = false
            this.#pump()
          })
        }
        return
      }
      this.#admissions.shift()
      this.#readLoad += next.bytes
      next.run(next.arg as never)
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Input

  #onData(chunk: Buffer): void {
    if (this.#phase === 'closed') return
    this.#lastActivity = Date.now()
    try {
      this.#framer.push(chunk)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      publishError({ kind: 'internal', message, remote: this.remote, code: TargetErrorCode.Connection })
      this.close(`internal error: ${message}`)
      return
    }
    if (!this.#paused && this.#writer.congested && !this.closed) {
      // Backpressure: stop reading until the peer has taken what is queued.
      this.#paused = true
      this.socket.pause()
      this.#writer.onDrain(() => {
        this.#paused = false
        if (!this.closed) this.socket.resume()
      })
    }
  }

  #onFramingError(error: PduError): void {
    publishError({ kind: 'pdu', message: error.message, remote: this.remote, code: error.code })
    if (this.#phase !== 'full-feature') {
      this.close(`framing error during login: ${error.message}`)
      return
    }
    const reaction = error.reaction
    if (reaction.kind === 'reject') {
      this.#sendReject(reaction.reason, reaction.header)
      if (!error.fatal) this.#afterRejectedHeader(reaction.reason, reaction.header)
    }
    // A Reject still corked in the writer must reach the peer before the connection goes (RFC 7143 13.12): flush it
    // and half-close; the linger timer still destroys the socket if the peer does not read.
    if (error.fatal || reaction.kind === 'drop') this.close(`framing error: ${error.message}`, reaction.kind === 'reject')
  }

  /**
   * A PDU was rejected from its header alone (digest error, bad AHS, unknown opcode). A Data-Out with a data
   * digest error cannot be recovered at ErrorRecoveryLevel 0: its task ends with CHECK CONDITION (RFC 7143
   * 11.4.7.2, protocol service CRC error). A command's CmdSN is still used up so the window does not stall.
   */
  #afterRejectedHeader(reason: number, header: Buffer): void {
    const session = this.session
    if (session === undefined || header.length < 48) return
    const opcode = header[0]! & 0x3f
    const immediate = (header[0]! & 0x40) !== 0
    const itt = header.readUInt32BE(16)
    if (opcode === Opcode.DataOut) {
      const task = session.tasks.get(itt)
      if (task !== undefined && task.connection === this && task.state === 'receiving' && task.error === undefined) {
        const [asc, ascq] = reason === RejectReason.DataDigestError ? TransportAsc.PROTOCOL_SERVICE_CRC_ERROR : TransportAsc.DATA_PHASE_ERROR
        session.failTask(task, new DataOutError(asc, ascq, 'Data-Out rejected'))
      }
      return
    }
    const carriesCmdSN =
      opcode === Opcode.NopOut ||
      opcode === Opcode.ScsiCommand ||
      opcode === Opcode.TaskManagementRequest ||
      opcode === Opcode.TextRequest ||
      opcode === Opcode.LogoutRequest
    if (carriesCmdSN && !immediate) session.consumeCmdSN(header.readUInt32BE(24))
    if (opcode === Opcode.ScsiCommand) this.rememberEnded(itt)
  }

  #onPdu(pdu: Pdu): void {
    if (channels.pduReceive.hasSubscribers) {
      channels.pduReceive.publish({ opcode: pdu.opcode, itt: 'itt' in pdu ? pdu.itt : RESERVED_TAG, remote: this.remote })
    }
    switch (this.#phase) {
      case 'login':
        if (pdu.opcode !== Opcode.LoginRequest) {
          this.#beforeLogin(pdu.opcode)
          return
        }
        this.#login?.receive(pdu)
        return
      case 'full-feature':
        this.#fullFeature(pdu)
        return
      default:
        return
    }
  }

  /**
   * RFC 7143 6.3: only Login Requests until the login is over. Before the first one the connection is terminated at
   * once; after it the login gets a Login reject "invalid during login" (0x020b), then the connection closes.
   */
  #beforeLogin(opcode: number): void {
    const started = this.#login?.started === true
    publishError({
      kind: 'login',
      message: `opcode 0x${opcode.toString(16)} ${started ? 'during the login' : 'before any Login Request'}`,
      remote: this.remote,
      code: TargetErrorCode.NotLoggedIn,
    })
    if (started) this.#login?.refuseNonLogin(opcode)
    if (this.#phase === 'login') this.close('PDU other than Login Request before login completed')
  }

  #fullFeature(pdu: Pdu): void {
    const session = this.session
    if (session === undefined || session.closed) return
    const discovery = session.type === 'Discovery'
    switch (pdu.opcode) {
      case Opcode.NopOut:
        this.#nopOut(session, pdu)
        return
      case Opcode.ScsiCommand:
        if (discovery) return this.#refuseInDiscovery(session, pdu)
        session.receiveCommand(this, pdu)
        return
      case Opcode.DataOut:
        if (discovery) {
          this.reject(RejectReason.ProtocolError, pdu)
          return
        }
        session.receiveDataOut(this, pdu)
        return
      case Opcode.TaskManagementRequest:
        if (discovery) return this.#refuseInDiscovery(session, pdu)
        session.order(pdu.immediate, pdu.cmdSN, (slot) => {
          this.#taskManagement(session, pdu, slot).catch((error: unknown) => {
            const message = error instanceof Error ? error.message : String(error)
            publishError({ kind: 'internal', message, remote: this.remote, code: TargetErrorCode.Connection })
            this.close(`internal error: ${message}`)
          })
        })
        return
      case Opcode.TextRequest:
        session.order(pdu.immediate, pdu.cmdSN, (slot) => this.#textRequest(session, pdu, slot))
        return
      case Opcode.LogoutRequest:
        session.order(pdu.immediate, pdu.cmdSN, (slot) => this.#logout(session, pdu, slot))
        return
      case Opcode.SnackRequest:
        // SNACK needs ErrorRecoveryLevel > 0 (RFC 7143 11.16); this target runs at 0.
        this.reject(RejectReason.ProtocolError, pdu)
        return
      case Opcode.LoginRequest:
        // A Login Request in full feature phase is a protocol error (RFC 7143 6.3).
        this.reject(RejectReason.ProtocolError, pdu)
        return
      default:
        this.reject(RejectReason.CommandNotSupported, pdu)
    }
  }

  /**
   * A discovery session accepts only Text (SendTargets) and Logout (RFC 7143 4.3); the rest is rejected as a
   * protocol error. The CmdSN is used up so later requests are not stuck behind it.
   */
  #refuseInDiscovery(session: Session<Connection>, pdu: Pdu & { immediate: boolean; cmdSN: number }): void {
    if (!pdu.immediate) session.consumeCmdSN(pdu.cmdSN)
    this.reject(RejectReason.ProtocolError, pdu)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // NOP (RFC 7143 11.18, 11.19)

  #nopOut(session: Session<Connection>, pdu: NopOutPdu): void {
    if (pdu.itt === RESERVED_TAG) {
      // An answer to our ping (its TTT), or an initiator ping that wants no answer.
      if (this.#ping !== undefined && pdu.ttt === this.#ping.ttt) this.#pingAnswered()
      return
    }
    session.order(pdu.immediate, pdu.cmdSN, (slot) => {
      if (slot) session.releaseSlot()
      // Echo the ping data, cut to what the initiator accepts.
      const data = pdu.data.length > this.maxSendDataSegmentLength ? pdu.data.subarray(0, this.maxSendDataSegmentLength) : pdu.data
      this.send(nopInPdu({ itt: pdu.itt, ttt: RESERVED_TAG, lun: pdu.lun, data, seq: session.sequence(this.takeStatSN()) }))
    })
  }

  #startNop(): void {
    const interval = this.#limits.nopInIntervalMs
    if (interval <= 0) return
    this.#nopTimer = setInterval(() => this.#nopTick(), interval)
    this.#nopTimer.unref()
  }

  #nopTick(): void {
    const session = this.session
    if (session === undefined || this.#phase !== 'full-feature' || this.#ping !== undefined) return
    if (Date.now() - this.#lastActivity < this.#limits.nopInIntervalMs) return
    this.#pingTtt = (this.#pingTtt + 1) >>> 0
    if (this.#pingTtt === RESERVED_TAG) this.#pingTtt = 1
    this.#ping = { ttt: this.#pingTtt, sentAt: Date.now() }
    // A ping: ITT reserved, our TTT, StatSN not advanced (RFC 7143 11.19.2).
    this.send(nopInPdu({ itt: RESERVED_TAG, ttt: this.#pingTtt, lun: 0n, data: EMPTY, seq: session.sequence(this.#statSN) }))
    this.#pingTimer = setTimeout(() => {
      publishError({ kind: 'nop-timeout', message: 'NOP-In ping not answered', remote: this.remote, code: TargetErrorCode.NopTimeout })
      this.close('NOP-In ping not answered')
    }, this.#limits.nopInTimeoutMs)
    this.#pingTimer.unref()
  }

  #pingAnswered(): void {
    this.#ping = undefined
    if (this.#pingTimer !== undefined) clearTimeout(this.#pingTimer)
    this.#pingTimer = undefined
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Text (RFC 7143 11.10, 11.11)

  #textRequest(session: Session<Connection>, pdu: TextRequestPdu, slot: boolean): void {
    if (slot) session.releaseSlot()
    const parameters = this.#parameters
    if (parameters === undefined) return
    if (this.#text === undefined || this.#text.itt !== pdu.itt) {
      // A new exchange (a new ITT) starts from scratch.
      this.#text = {
        itt: pdu.itt,
        guard: session.type === 'Discovery' ? new DiscoveryTextGuard() : undefined,
        negotiation: new TargetTextNegotiation({
          session: session.parameters,
          connection: parameters,
          listTargets: (initiatorName: string) => this.#host.listTargets(this, session, initiatorName),
          limits: operationalPreferences(this.#limits),
        }),
      }
    }
    const exchange = this.#text
    if (exchange.guard !== undefined && !exchange.guard.accept(pdu)) {
      // RFC 7143 4.3: a discovery session takes SendTargets only; any other key gets the request rejected.
      this.#text = undefined
      this.reject(RejectReason.ProtocolError, pdu)
      return
    }
    let step
    try {
      step = exchange.negotiation.receive({ final: pdu.final, continue: pdu.continue, targetTransferTag: pdu.ttt, data: pdu.data })
    } catch {
      this.#text = undefined
      this.reject(RejectReason.ProtocolError, pdu)
      return
    }
    if (step.kind === 'reject') {
      this.#text = undefined
      this.reject(step.reason, pdu)
      return
    }
    if (step.connection !== undefined) {
      this.#parameters = step.connection
      this.maxSendDataSegmentLength = step.connection.maxSendDataSegmentLength
    }
    if (step.done) this.#text = undefined
    const response: TextResponsePdu = {
      opcode: 0x24,
      final: step.response.final,
      continue: step.response.continue,
      lun: pdu.lun,
      itt: pdu.itt,
      ttt: step.response.targetTransferTag,
      ...session.sequence(this.takeStatSN()),
      data: step.response.data,
    }
    this.send(response)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Task management (RFC 7143 11.5, 11.6)

  async #taskManagement(session: Session<Connection>, pdu: TaskManagementRequestPdu, slot: boolean): Promise<void> {
    let outcome
    try {
      outcome = await performTaskManagement(session, pdu, this.#host)
    } catch (error) {
      publishError({ kind: 'task-management', message: error instanceof Error ? error.message : String(error), remote: this.remote, code: TargetErrorCode.Protocol })
      outcome = { response: 0xff }
    }
    if (slot) session.releaseSlot()
    if (!this.closed) this.send(tmfResponsePdu(pdu.itt, outcome.response, session.sequence(this.takeStatSN())))
    outcome.after?.()
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Logout (RFC 7143 11.14, 11.15)

  #logout(session: Session<Connection>, pdu: LogoutRequestPdu, slot: boolean): void {
    const reason = pdu.reasonCode
    const respond = (response: number): void => {
      const message: LogoutResponsePdu = {
        opcode: 0x26,
        response,
        itt: pdu.itt,
        ...session.sequence(this.takeStatSN()),
        time2Wait: 0,
        time2Retain: 0,
        data: EMPTY,
      }
      this.send(message)
    }
    const publish = (text: string): void =>
      publishLogout({
        initiatorName: session.initiatorName,
        targetName: session.targetName ?? '',
        isid: session.isidHex,
        tsih: session.tsih,
        reason: text,
      })
    if (session.type === 'Discovery' && reason !== LogoutReason.CloseSession) {
      // RFC 7143 4.3: a discovery session accepts a Logout with the reason "close the session" only; every other
      // request is rejected.
      if (slot) session.releaseSlot()
      this.reject(RejectReason.ProtocolError, pdu)
      return
    }
    if (reason === LogoutReason.CloseSession) {
      for (const task of [...session.tasks.values()]) session.terminateTask(task)
      if (slot) session.releaseSlot()
      respond(LogoutResponseCode.Success)
      publish('close session')
      this.#clean = true
      session.close('logout', this)
      this.close('logout', true)
      return
    }
    if (reason === LogoutReason.CloseConnection) {
      const target = session.connections.get(pdu.cid)
      if (target === undefined) {
        if (slot) session.releaseSlot()
        respond(LogoutResponseCode.CidNotFound)
        return
      }
      for (const task of session.tasksWhere({ connection: target })) session.terminateTask(task)
      if (slot) session.releaseSlot()
      publish(`close connection ${pdu.cid}`)
      if (target === this) {
        respond(LogoutResponseCode.Success)
        this.#clean = true
        session.removeConnection(this, { failed: false, reason: 'logout' })
        this.close('logout', true)
      } else {
        target.closeClean(`logout from connection ${this.cid}`)
        session.removeConnection(target, { failed: false, reason: 'logout' })
        respond(LogoutResponseCode.Success)
      }
      return
    }
    if (slot) session.releaseSlot()
    if (reason === LogoutReason.RemoveConnectionForRecovery) {
      // Connection recovery needs ErrorRecoveryLevel 2 (RFC 7143 11.15.1).
      respond(LogoutResponseCode.RecoveryNotSupported)
      return
    }
    this.reject(RejectReason.InvalidPduField, pdu)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Timers and teardown

  #loginTimeout(): void {
    if (this.#phase !== 'login') return
    const context = this.#login?.context
    publishError({ kind: 'login-timeout', message: 'login did not complete in time', remote: this.remote, code: TargetErrorCode.LoginTimeout })
    if (context !== undefined && context.initiatorName !== '') {
      publishLogin({
        event: 'failure',
        initiatorName: context.initiatorName,
        targetName: context.targetName,
        isid: context.isid,
        tsih: context.tsih,
        type: context.targetName === '' ? 'Discovery' : 'Normal',
        remote: this.remote,
        reason: 'login timeout',
      })
    }
    this.close('login timeout')
  }

  #stopTimers(): void {
    for (const timer of [this.#loginTimer, this.#nopTimer, this.#pingTimer]) {
      if (timer !== undefined) clearTimeout(timer)
    }
    this.#loginTimer = undefined
    this.#nopTimer = undefined
    this.#pingTimer = undefined
  }

  #onClose(): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    this.#pump()
    this.#stopTimers()
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer)
    this.#lingerTimer = undefined
    const session = this.session
    if (session !== undefined) {
      session.removeConnection(this, { failed: !this.#clean, reason: this.#closeReason })
    }
    this.#host.connectionClosed(this)
    publishConnection({
      event: 'close',
      remote: this.remote,
      local: this.local,
      ...(session !== undefined ? { cid: this.cid } : {}),
      reason: this.#closeReason,
    })
  }
}
