// The protocol engine of a session (RFC 7143): connections and login, the CmdSN window and local queue, SCSI
// commands with immediate/unsolicited/solicited Data-Out and direct Data-In placement, task management, NOP-Out
// pings and answers, asynchronous messages, logout, and session recovery at ErrorRecoveryLevel 0 (RFC 7143 7.1.5:
// a failed connection fails the session; the initiator reinstates it with the same ISID and TSIH 0 and may reissue
// the terminated tasks). The typed SCSI helpers live in `session.ts`, on top of `execute`.
import { EventEmitter } from 'node:events'
import {
  AsyncEvent,
  LogoutReason,
  LogoutResponseCode,
  Opcode,
  RESERVED_TAG,
  RejectReason,
  TaskManagementFunction,
  TaskManagementResponseCode,
  encodeLun,
  type AsyncMessagePdu,
  type DataInPdu,
  type DataOutPdu,
  type NopInPdu,
  type R2TPdu,
  type RejectPdu,
  type ScsiCommandPdu,
  type ScsiResponsePdu,
  type TargetPdu,
  type TextResponsePdu,
} from '@iscsi-ts/pdu'
import { InitiatorTextNegotiation, type ConnectionParameters, type InitiatorLoginOptions, type NegotiatedParameters } from '@iscsi-ts/negotiation'
import { asyncEventInfo, type AsyncEventInfo } from './async-event.js'
import { CmdSnWindow } from './cmdsn-window.js'
import { DeadlineTimer } from './deadline-timer.js'
import { commandName, isRepeatable, senseKeyOf, taskAttributeCodes, type CommandResult, type ExecuteOptions } from './command.js'
import { IscsiConnection } from './connection.js'
import { DataInAssembler } from './data-in.js'
import { planR2T, planUnsolicited, type DataOutLimits } from './data-out.js'
import { channels } from './diagnostics.js'
import {
  AbortError,
  ConnectionError,
  InitiatorError,
  InitiatorErrorCode,
  LoginError,
  ProtocolError,
  RejectError,
  ScsiCommandError,
  TaskManagementError,
  TimeoutError,
} from './errors.js'
import { chapFallbackApplies } from './chap-fallback.js'
import { performLogin } from './login.js'
import { serialAdd, serialGt, serialLe } from './serial.js'
import { decodeSense, type DecodedSense } from './sense.js'
import {
  DEFAULTS,
  defaultInitiatorName,
  randomIsid,
  validateSessionOptions,
  type SessionOptions,
  type SessionParameters,
} from './session-options.js'
import { TaskTable } from './task-table.js'

export type SessionState = 'logging-in' | 'logged-in' | 'recovering' | 'logging-out' | 'closed'

interface Slot {
  connection: IscsiConnection
  cid: number
  /** False once the target asked to log this connection out (Async event 1): no new commands. */
  active: boolean
  /** SCSI tasks currently allegiant to this connection. */
  tasks: number
  keepaliveTimer: NodeJS.Timeout | undefined
}

interface ScsiTask {
  kind: 'scsi'
  itt: number
  lun: number
  lunField: bigint
  cdb: Buffer
  attribute: number
  dataOut: Buffer | undefined
  dataInLength: number
  into: Buffer | undefined
  assembler: DataInAssembler | undefined
  state: 'queued' | 'sent' | 'aborting' | 'settled'
  cmdSN: number
  slot: Slot | undefined
  retryable: boolean
  retryUnitAttention: boolean
  sends: number
  unitAttentions: number
  timeoutMs: number
  /** DeadlineTimer.now() after which the command times out. */
  deadline: number
  signal: AbortSignal | undefined
  /** DeadlineTimer.now() when the command was created (for the command channel's durationNs). */
  start: number
  /** What the caller gets: the whole CommandResult (execute), or the data / nothing with non-GOOD as an error. */
  settle: Settle
  resolve: (value: CommandResult | Buffer | undefined) => void
  reject: (error: Error) => void
}

/**
 * How a SCSI task settles. `result`: with its CommandResult, whatever the status (execute). `data` / `nothing`:
 * the read helpers' way, with the data-in or undefined on GOOD or CONDITION MET, and with ScsiCommandError
 * otherwise; no CommandResult is built for a good I/O and the caller needs no mapping step of its own.
 */
export type Settle = 'result' | 'data' | 'nothing'

/** How many SCSI tasks wait on one AbortSignal, and the one listener the session added to it. */
interface SignalWatch {
  tasks: number
  listener: () => void
}

interface Request {
  kind: 'tmf' | 'nop' | 'logout' | 'text'
  itt: number
  slot: Slot
  resolve: (pdu: TargetPdu) => void
  reject: (error: Error) => void
}

type Entry = ScsiTask | Request

const MAX_TIMER = 0x7fffffff

/** LUN fields by LUN number: encodeLun makes a BigInt, which costs more than the rest of a command's header. */
const lunFields: bigint[] = []

function lunFieldOf(lun: number): bigint {
  const cached = lunFields[lun]
  if (cached !== undefined) return cached
  // encodeLun throws LunError for anything but an integer 0..16383, so only those get cached.
  const field = encodeLun(lun)
  lunFields[lun] = field
  return field
}

function hex(n: number, digits = 2): string {
  return `0x${n.toString(16).padStart(digits, '0')}`
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

export interface SessionEvents {
  /** An Asynchronous Message from the target (RFC 7143 11.9). */
  async: [info: AsyncEventInfo]
  /** The connection was lost; recovery starts (when enabled). */
  disconnect: [error: Error]
  /** The session was reinstated after a connection loss. */
  reconnect: [info: { attempts: number; retried: number; failed: number }]
  /** A command got UNIT ATTENTION (and is retried unless retryUnitAttention is false). */
  'unit-attention': [info: { lun: number; sense: DecodedSense | undefined }]
  /** The session ended: after logout (error undefined), close(), or a failure it could not recover from. */
  close: [error: Error | undefined]
}

export class SessionCore extends EventEmitter<SessionEvents> {
  protected readonly options: SessionOptions
  readonly #initiatorName: string
  readonly #isid: Buffer
  #portal: { host: string; port: number }
  #state: SessionState = 'logging-in'
  #tsih = 0
  #negotiated: NegotiatedParameters | undefined
  #parameters: SessionParameters | undefined
  readonly #window = new CmdSnWindow<ScsiTask>({ cmdSN: 1, expCmdSN: 1, maxCmdSN: 1 })
  readonly #tasks = new TaskTable<Entry>(1)
  #slots: Slot[] = []
  #nextCid = 0
  #roundRobin = 0
  #limits: DataOutLimits = {
    immediateData: false,
    initialR2T: true,
    firstBurstLength: 65536,
    maxBurstLength: 262144,
    maxSendDataSegmentLength: 8192,
  }
  readonly #closing = new AbortController()
  /** Set when a target failed CHAP with a stronger algorithm it offered itself: later logins offer MD5 only. */
  #chapMd5Only = false
  /** Time2Wait the target asked for (Async Message 2/3, Parameter2): the next reconnect waits at least this. */
  #reconnectDelayMs = 0
  #closedPromise: Promise<Error | undefined>
  #resolveClosed!: (error: Error | undefined) => void
  #logoutPromise: Promise<void> | undefined
  /** Command timeouts: one timer for the session (see DeadlineTimer). */
  readonly #deadlines = new DeadlineTimer((now) => this.#sweepDeadlines(now))
  /** SCSI tasks not settled yet. */
  #liveTasks = 0
  readonly #signalWatches = new Map<AbortSignal, SignalWatch>()
  /** The signal last watched and its watch (the entry of #signalWatches the next command most likely needs). */
  #lastSignal: AbortSignal | undefined
  #lastWatch: SignalWatch | undefined
  #pumpQueued = false
  /** The SCSI Command PDU object, refilled for every command (the connection encodes it at once and keeps none). */
  readonly #commandPdu: ScsiCommandPdu = {
    opcode: Opcode.ScsiCommand,
    immediate: false,
    final: true,
    read: false,
    write: false,
    attribute: 0,
    lun: 0n,
    itt: 0,
    expectedDataTransferLength: 0,
    cmdSN: 0,
    expStatSN: 0,
    cdb: Buffer.alloc(16),
    data: Buffer.alloc(0),
  }

  protected constructor(options: SessionOptions) {
    super()
    validateSessionOptions(options)
    this.options = options
    this.#initiatorName = options.initiatorName ?? defaultInitiatorName()
    this.#isid = options.isid !== undefined ? Buffer.from(options.isid) : randomIsid()
    this.#portal = { host: options.host, port: options.port ?? DEFAULTS.port }
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
  }

  /** Logs in (following redirects) and, where the target allows MC/S, opens the extra connections. */
  protected async start(): Promise<void> {
    try {
      await this.#establish()
      this.#state = 'logged-in'
    } catch (error) {
      this.#state = 'closed'
      for (const slot of this.#slots) slot.connection.destroy()
      this.#slots = []
      throw error
    }
  }

  get parameters(): Readonly<SessionParameters> {
    if (this.#parameters === undefined) throw new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session is not logged in')
    return this.#parameters
  }

  get initiatorName(): string {
    return this.#initiatorName
  }

  get targetName(): string {
    return this.options.targetName
  }

  /** 'logged-in', 'recovering' (reconnecting), 'logging-out' or 'closed'. */
  get state(): SessionState {
    return this.#state
  }

  /** Commands sent and not yet answered, plus those waiting for room in the CmdSN window. */
  get outstanding(): { sent: number; queued: number } {
    let sent = 0
    for (const entry of this.#tasks.values()) if (entry.kind === 'scsi' && entry.state !== 'queued') sent++
    return { sent, queued: this.#window.queued }
  }

  /** Resolves when the session is closed, with the error that closed it (undefined after logout/close). */
  closed(): Promise<Error | undefined> {
    return this.#closedPromise
  }

  // -------------------------------------------------------------------------------------------------------------
  // Login and connections

  #loginOptions(tsih: number): InitiatorLoginOptions {
    const o = this.options
    const digest = (wanted: boolean | undefined): Array<'None' | 'CRC32C'> =>
      wanted === true ? ['CRC32C'] : wanted === false ? ['None'] : ['None', 'CRC32C']
    const chap = o.chap
      ? {
          user: o.chap.user,
          secret: o.chap.secret,
          ...(o.mutualChap ? { mutual: { user: o.mutualChap.user, secret: o.mutualChap.secret } } : {}),
          ...(this.#chapMd5Only
            ? { algorithms: [chapAlgorithmNumbers.MD5] }
            : o.chapAlgorithms
              ? { algorithms: o.chapAlgorithms.map((name) => chapAlgorithmNumbers[name]) }
              : {}),
        }
      : undefined
    return {
      initiatorName: this.#initiatorName,
      ...(o.initiatorAlias !== undefined ? { initiatorAlias: o.initiatorAlias } : {}),
      sessionType: 'Normal',
      targetName: o.targetName,
      isid: this.#isid,
      tsih,
      ...(chap ? { auth: { methods: ['CHAP'] as const, chap } } : {}),
      operational: {
        maxRecvDataSegmentLength: o.maxRecvDataSegmentLength ?? DEFAULTS.maxRecvDataSegmentLength,
        maxBurstLength: o.maxBurstLength ?? DEFAULTS.maxBurstLength,
        firstBurstLength: Math.min(o.firstBurstLength ?? DEFAULTS.firstBurstLength, o.maxBurstLength ?? DEFAULTS.maxBurstLength),
        maxConnections: o.maxConnections ?? 1,
        immediateData: o.immediateData ?? true,
        initialR2T: o.initialR2T ?? false,
        // Several R2Ts in flight per command let a target pull a large write faster (RFC 7143 13.17, minimum wins).
        maxOutstandingR2T: DEFAULTS.maxOutstandingR2T,
        dataPDUInOrder: true,
        dataSequenceInOrder: true,
        errorRecoveryLevel: 0,
        headerDigest: digest(o.headerDigest),
        dataDigest: digest(o.dataDigest),
      },
    }
  }

  /** One connection through login, following redirects. */
  async #loginConnection(tsih: number, cid: number): Promise<{ slot: Slot; outcome: Extract<Awaited<ReturnType<typeof performLogin>>, { kind: 'done' }> }> {
    const maxRedirects = this.options.maxRedirects ?? DEFAULTS.maxRedirects
    const timeoutMs = this.options.loginTimeoutMs ?? DEFAULTS.loginTimeoutMs
    let portal = this.#portal
    for (let hop = 0; ; hop++) {
      // One budget for the TCP connect and the whole login of this hop.
      const deadline = Date.now() + timeoutMs
      const connection = await IscsiConnection.connect({
        host: portal.host,
        port: portal.port,
        timeoutMs,
        maxRecvDataSegmentLength: this.options.maxRecvDataSegmentLength ?? DEFAULTS.maxRecvDataSegmentLength,
        signal: this.#closing.signal,
      })
      connection.cid = cid
      const itt = this.#tasks.allocate()
      const base = { address: connection.address, targetName: this.options.targetName, initiatorName: this.#initiatorName, sessionType: 'Normal', isid: this.#isid.toString('hex'), cid }
      let outcome
      try {
        outcome = await performLogin(connection, {
          negotiation: this.#loginOptions(tsih),
          isid: this.#isid,
          tsih,
          cid,
          cmdSN: this.#window.cmdSN,
          itt,
          timeoutMs,
          deadline,
        })
      } catch (error) {
        connection.destroy()
        if (chapFallbackApplies(error, this.options.chap !== undefined, this.#chapMd5Only, this.options.chapAlgorithms)) {
          // Some targets (tgt up to 1.0.85) pick CHAP_A=7 and then check a SHA1-sized response, failing the login
          // with "initiator error". Try once more offering MD5 only, the algorithm every target supports.
          this.#chapMd5Only = true
          hop--
          continue
        }
        if (channels.login.hasSubscribers) {
          const status = error instanceof LoginError ? { statusClass: error.statusClass, statusDetail: error.statusDetail } : {}
          channels.login.publish({ event: 'failure', ...base, ...status, reason: (error as Error).message })
        }
        throw error
      }
      if (outcome.kind === 'redirect') {
        connection.destroy()
        const to = { host: outcome.address.host, port: outcome.address.port }
        if (channels.login.hasSubscribers) channels.login.publish({ event: 'redirect', ...base, redirectTo: `${to.host}:${to.port}`, permanent: outcome.permanent })
        if (hop >= maxRedirects) {
          throw new LoginError(1, outcome.permanent ? 2 : 1, `login redirected more than ${maxRedirects} times (last to ${outcome.targetAddress})`)
        }
        portal = to
        // A permanent move changes where this session lives (RFC 7143 11.13.5, status 0x0102).
        if (outcome.permanent) this.#portal = to
        continue
      }
      if (channels.login.hasSubscribers) channels.login.publish({ event: 'success', ...base, tsih: outcome.tsih })
      if (channels.connection.hasSubscribers) {
        channels.connection.publish({ event: 'open', address: connection.address, localAddress: connection.localAddress, cid, targetName: this.options.targetName })
      }
      const slot: Slot = { connection, cid, active: true, tasks: 0, keepaliveTimer: undefined }
      return { slot, outcome }
    }
  }

  /** Leading login (new session or reinstatement: same ISID, TSIH 0), then the extra MC/S connections. */
  async #establish(): Promise<void> {
    const { slot, outcome } = await this.#loginConnection(0, this.#nextCid++ & 0xffff)
    this.#tsih = outcome.tsih
    this.#negotiated = outcome.parameters
    const session = outcome.parameters.session
    const connection = outcome.parameters.connection
    this.#limits = {
      immediateData: session.immediateData,
      initialR2T: session.initialR2T,
      firstBurstLength: session.firstBurstLength,
      maxBurstLength: session.maxBurstLength,
      maxSendDataSegmentLength: connection.maxSendDataSegmentLength,
    }
    // Login Requests carry CmdSN without advancing it (RFC 7143 11.12.8): the first command uses the same number.
    this.#window.reset({ cmdSN: this.#window.cmdSN, expCmdSN: outcome.expCmdSN, maxCmdSN: outcome.maxCmdSN })
    this.#slots = [slot]
    this.#attach(slot)
    const wanted = Math.min(this.options.maxConnections ?? 1, session.maxConnections)
    for (let i = 1; i < wanted; i++) {
      try {
        const extra = await this.#loginConnection(this.#tsih, this.#nextCid++ & 0xffff)
        this.#window.update(extra.outcome.expCmdSN, extra.outcome.maxCmdSN)
        this.#slots.push(extra.slot)
        this.#attach(extra.slot)
      } catch (error) {
        // The session works with fewer connections; report and go on.
        this.#publishError('mcs', error)
        break
      }
    }
    this.#updateParameters()
    // The leading connection may have died while the extra ones logged in: its close was not acted on yet.
    if (!this.#slots.some((s) => !s.connection.closed)) throw new ConnectionError('the connection closed right after login')
  }

  #updateParameters(): void {
    const negotiated = this.#negotiated
    if (negotiated === undefined) return
    const c: ConnectionParameters = negotiated.connection
    this.#parameters = Object.freeze({
      ...negotiated.session,
      isid: this.#isid.toString('hex'),
      tsih: this.#tsih,
      headerDigest: c.headerDigest,
      dataDigest: c.dataDigest,
      maxRecvDataSegmentLength: c.maxRecvDataSegmentLength,
      maxXmitDataSegmentLength: c.maxSendDataSegmentLength,
      portal: Object.freeze({ ...this.#portal }),
      connections: this.#slots.length,
    })
  }

  #attach(slot: Slot): void {
    slot.connection.setHandlers(
      (pdu, placed) => this.#onPdu(slot, pdu, placed),
      (error) => this.#onConnectionClosed(slot, error),
    )
    slot.connection.setPlacement((itt, dataSN, bufferOffset, length) => this.#placement(itt, dataSN, bufferOffset, length))
    this.#scheduleKeepalive(slot)
  }

  #scheduleKeepalive(slot: Slot): void {
    const keepalive = this.options.keepalive
    if (keepalive === undefined) return
    clearTimeout(slot.keepaliveTimer)
    const reads = slot.connection.reads
    slot.keepaliveTimer = setTimeout(() => {
      if (slot.connection.closed || !this.#slots.includes(slot)) return
      // Something arrived during the interval: the connection is alive, look again one interval later.
      if (slot.connection.reads !== reads) {
        this.#scheduleKeepalive(slot)
        return
      }
      this.#nop(slot, keepalive.timeoutMs).then(
        () => this.#scheduleKeepalive(slot),
        (error: unknown) => {
          if (!slot.connection.closed) slot.connection.destroy(new ConnectionError(`keepalive ping failed: ${(error as Error).message}`, { cause: error }))
        },
      )
    }, keepalive.intervalMs)
    slot.keepaliveTimer.unref()
  }

  // -------------------------------------------------------------------------------------------------------------
  // SCSI commands

  /**
   * Sends one SCSI command and resolves with its status, sense, data and residual, whatever the status (the typed
   * helpers throw ScsiCommandError on non-GOOD). Rejects with TimeoutError, AbortError, ConnectionError or
   * InitiatorError; never leaves the promise pending past its timeout.
   */
  execute(lun: number, cdb: Buffer, options: ExecuteOptions = {}): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      this.submit(lun, cdb, options, options.dataOut, options.dataInLength, 'result', resolve as (value: unknown) => void, reject)
    })
  }

  /**
   * `execute` with callbacks instead of a promise of its own, so a helper settles one promise per command, not a
   * chain. `dataOut` and `dataInLength` are passed apart from `options` (whose own are ignored), so a helper can
   * hand its caller's options object through untouched. `settle` says what `resolve` gets (see Settle). Exactly
   * one of `resolve` and `reject` is called, once, never synchronously with a result (possibly synchronously with
   * an argument error).
   */
  protected submit(
    lun: number,
    cdb: Buffer,
    options: ExecuteOptions,
    dataOut: Buffer | undefined,
    dataInLength: number | undefined,
    settle: Settle,
    resolve: (value: unknown) => void,
    reject: (error: Error) => void,
  ): void {
    let task: ScsiTask | undefined
    try {
      task = this.#createTask(lun, cdb, options, dataOut, dataInLength, settle, resolve, reject)
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (task === undefined) return
    this.#window.enqueue(task)
    this.#pump()
  }

  #createTask(
    lun: number,
    cdb: Buffer,
    options: ExecuteOptions,
    dataOut: Buffer | undefined,
    requestedDataInLength: number | undefined,
    settle: Settle,
    resolve: (value: unknown) => void,
    reject: (error: Error) => void,
  ): ScsiTask | undefined {
    if (this.#state === 'closed' || this.#state === 'logging-out' || this.#state === 'logging-in') {
      throw new InitiatorError(InitiatorErrorCode.SessionClosed, `the session is ${this.#state === 'logging-in' ? 'not logged in' : this.#state}`)
    }
    if (!Buffer.isBuffer(cdb) || cdb.length < 6 || cdb.length > 260) {
      throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'the CDB must be a Buffer of 6 to 260 bytes')
    }
    const lunField = lunFieldOf(lun)
    const into = options.into
    if (dataOut !== undefined && !Buffer.isBuffer(dataOut)) throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'dataOut must be a Buffer')
    if (into !== undefined && !Buffer.isBuffer(into)) throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'into must be a Buffer')
    const dataInLength = requestedDataInLength ?? into?.length ?? 0
    if (!Number.isInteger(dataInLength) || dataInLength < 0 || dataInLength > 0xffffffff) {
      throw new InitiatorError(InitiatorErrorCode.InvalidArgument, `dataInLength must be an integer in 0..2^32-1`)
    }
    if (into !== undefined && into.length < dataInLength) {
      throw new InitiatorError(InitiatorErrorCode.InvalidArgument, `into holds ${into.length} bytes, dataInLength is ${dataInLength}`)
    }
    if (dataOut !== undefined && dataOut.length > 0xffffffff) throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'dataOut exceeds 2^32-1 bytes')
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULTS.timeoutMs
    if (!(timeoutMs > 0)) throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'timeoutMs must be positive')
    const signal = options.signal
    if (signal?.aborted) {
      reject(new AbortError('the command was aborted before it was sent', { cause: signal.reason }))
      return undefined
    }
    const now = DeadlineTimer.now()
    const task: ScsiTask = {
      kind: 'scsi',
      itt: this.#tasks.allocate(),
      lun,
      lunField,
      // Shorter CDBs are zero-padded to 16 bytes by the header encoder (RFC 7143 11.3.5).
      cdb,
      attribute: taskAttributeCodes[options.attribute ?? 'simple'],
      dataOut: dataOut !== undefined && dataOut.length > 0 ? dataOut : undefined,
      dataInLength,
      into,
      assembler: undefined,
      state: 'queued',
      cmdSN: 0,
      slot: undefined,
      retryable: options.retry ?? isRepeatable(cdb),
      retryUnitAttention: options.retryUnitAttention ?? true,
      sends: 0,
      unitAttentions: 0,
      timeoutMs,
      deadline: now + Math.min(timeoutMs, MAX_TIMER),
      signal,
      start: now,
      settle,
      resolve,
      reject,
    }
    this.#tasks.set(task.itt, task)
    this.#liveTasks++
    this.#deadlines.schedule(task.deadline)
    if (signal) this.#watchSignal(signal)
    return task
  }

  /**
   * One listener per AbortSignal, however many commands share it (a CLI passes its Ctrl-C signal to every I/O),
   * and only a count per command: when it fires, the task table says which commands carry it.
   */
  #watchSignal(signal: AbortSignal): void {
    // The signal of the previous command is almost always this one's: no Map lookup then.
    const watch = signal === this.#lastSignal ? this.#lastWatch : this.#signalWatches.get(signal)
    if (watch !== undefined) {
      watch.tasks++
      this.#lastSignal = signal
      this.#lastWatch = watch
      return
    }
    const listener = (): void => {
      this.#forgetSignal(signal)
      for (const entry of [...this.#tasks.values()]) if (entry.kind === 'scsi' && entry.signal === signal) this.#onTaskAbort(entry)
    }
    const created: SignalWatch = { tasks: 1, listener }
    this.#signalWatches.set(signal, created)
    this.#lastSignal = signal
    this.#lastWatch = created
    signal.addEventListener('abort', listener, { once: true })
  }

  #unwatchSignal(signal: AbortSignal): void {
    const watch = signal === this.#lastSignal ? this.#lastWatch : this.#signalWatches.get(signal)
    if (watch === undefined || --watch.tasks > 0) return
    this.#forgetSignal(signal)
    signal.removeEventListener('abort', watch.listener)
  }

  #forgetSignal(signal: AbortSignal): void {
    this.#signalWatches.delete(signal)
    if (signal === this.#lastSignal) {
      this.#lastSignal = undefined
      this.#lastWatch = undefined
    }
  }

  /** Times out every command whose deadline passed; returns the earliest deadline left. */
  #sweepDeadlines(now: number): number {
    let next = Number.POSITIVE_INFINITY
    let expired: ScsiTask[] | undefined
    for (const entry of this.#tasks.values()) {
      if (entry.kind !== 'scsi' || entry.state === 'settled') continue
      if (entry.deadline <= now) (expired ??= []).push(entry)
      else if (entry.deadline < next) next = entry.deadline
    }
    if (expired !== undefined) for (const task of expired) this.#onTaskTimeout(task, task.timeoutMs)
    return next
  }

  /** Sends what the CmdSN window allows. */
  #pump(): void {
    if (this.#state !== 'logged-in' && this.#state !== 'logging-out') return
    if (this.#window.queued === 0) return
    let usable = false
    for (const slot of this.#slots) {
      if (slot.active && !slot.connection.closed) {
        usable = true
        break
      }
    }
    if (!usable) return
    for (let task = this.#window.next(); task !== undefined; task = this.#window.next()) this.#send(task, this.#window.take())
  }

  /** #pump once the PDU being handled is done (a response that opened the window). */
  #queuePump(): void {
    if (this.#pumpQueued) return
    this.#pumpQueued = true
    queueMicrotask(this.#pumpLater)
  }

  readonly #pumpLater = (): void => {
    this.#pumpQueued = false
    this.#pump()
  }

  #pickSlot(): Slot | undefined {
    if (this.#slots.length === 1) {
      const only = this.#slots[0]!
      return only.active && !only.connection.closed ? only : undefined
    }
    const live = this.#slots.filter((slot) => slot.active && !slot.connection.closed)
    if (live.length === 0) return undefined
    const slot = live[this.#roundRobin % live.length]
    this.#roundRobin = (this.#roundRobin + 1) >>> 0
    return slot
  }

  #send(task: ScsiTask, cmdSN: number): void {
    const slot = this.#pickSlot()
    if (slot === undefined) {
      // #pump checked for a live slot; reaching here means every connection closed in between. The close handler
      // runs recovery, which keeps queued tasks; put this one back without its number.
      task.state = 'queued'
      this.#window.requeueFront([task])
      return
    }
    task.state = 'sent'
    task.cmdSN = cmdSN
    task.slot = slot
    task.sends++
    slot.tasks++
    task.assembler = task.dataInLength > 0 ? new DataInAssembler(task.into ?? Buffer.allocUnsafe(task.dataInLength), task.dataInLength) : undefined
    const connection = slot.connection
    const dataOut = task.dataOut
    const plan = dataOut !== undefined ? planUnsolicited(dataOut.length, { ...this.#limits, maxSendDataSegmentLength: connection.maxSendDataSegmentLength }) : undefined
    // One PDU object refilled per command: the connection encodes it before send() returns.
    const pdu = this.#commandPdu
    pdu.final = plan === undefined || plan.final
    pdu.read = task.dataInLength > 0
    pdu.write = dataOut !== undefined
    pdu.attribute = task.attribute
    pdu.lun = task.lunField
    pdu.itt = task.itt
    pdu.expectedDataTransferLength = dataOut !== undefined ? dataOut.length : task.dataInLength
    pdu.cmdSN = cmdSN
    pdu.expStatSN = connection.expStatSN
    pdu.cdb = task.cdb
    pdu.data = dataOut !== undefined && plan !== undefined && plan.immediateLength > 0 ? dataOut.subarray(0, plan.immediateLength) : EMPTY
    // A bidirectional command announces its read length in an AHS (RFC 7143 11.2.2.4).
    pdu.expectedBidirectionalReadLength = dataOut !== undefined && task.dataInLength > 0 ? task.dataInLength : undefined
    try {
      this.#write(slot, pdu)
    } finally {
      pdu.data = EMPTY
    }
    if (dataOut !== undefined && plan !== undefined) {
      let dataSN = 0
      for (const segment of plan.dataOut) {
        this.#write(slot, this.#dataOut(task, connection, RESERVED_TAG, dataSN++, segment.offset, segment.length, segment.final))
      }
    }
  }

  #dataOut(task: ScsiTask, connection: IscsiConnection, ttt: number, dataSN: number, offset: number, length: number, final: boolean): DataOutPdu {
    return {
      opcode: Opcode.DataOut,
      final,
      lun: task.lunField,
      itt: task.itt,
      ttt,
      expStatSN: connection.expStatSN,
      dataSN,
      bufferOffset: offset,
      data: task.dataOut!.subarray(offset, offset + length),
    }
  }

  #write(slot: Slot, pdu: Parameters<IscsiConnection['send']>[0]): void {
    if (channels.pduSend.hasSubscribers) channels.pduSend.publish({ opcode: pdu.opcode, itt: 'itt' in pdu ? pdu.itt : RESERVED_TAG, address: slot.connection.address })
    slot.connection.send(pdu)
  }

  #placement(itt: number, dataSN: number, bufferOffset: number, length: number): Buffer | undefined {
    const entry = this.#tasks.get(itt)
    if (entry === undefined || entry.kind !== 'scsi' || entry.assembler === undefined) return undefined
    if (entry.state !== 'sent' && entry.state !== 'aborting') return undefined
    return entry.assembler.placement(dataSN, bufferOffset, length)
  }

  /** Settles a task once: clears its timer and abort listener, frees its tag and connection allegiance. */
  #finish(task: ScsiTask): boolean {
    if (task.state === 'settled') return false
    if (task.state === 'queued') this.#window.remove(task)
    task.state = 'settled'
    if (--this.#liveTasks === 0) this.#deadlines.keepAlive(false)
    if (task.signal !== undefined) this.#unwatchSignal(task.signal)
    this.#tasks.delete(task.itt)
    if (task.slot) {
      task.slot.tasks--
      task.slot = undefined
    }
    return true
  }

  /** Settles a task with `value` (its CommandResult, data or undefined, per task.settle). */
  #resolveTask(task: ScsiTask, value: CommandResult | Buffer | undefined, status: number, bytesIn: number): void {
    if (!this.#finish(task)) return
    this.#publishCommand(task, status, undefined, bytesIn)
    task.resolve(value)
    this.#maybeDrained()
  }

  #rejectTask(task: ScsiTask, error: Error): void {
    if (!this.#finish(task)) return
    this.#publishCommand(task, undefined, error, task.assembler?.received ?? 0)
    task.reject(error)
    this.#maybeDrained()
  }

  #publishCommand(task: ScsiTask, status: number | undefined, error: Error | undefined, bytesIn: number): void {
    if (!channels.command.hasSubscribers) return
    channels.command.publish({
      targetName: this.options.targetName,
      lun: task.lun,
      opcode: task.cdb[0],
      itt: task.itt,
      cmdSN: task.cmdSN,
      bytesIn,
      bytesOut: task.dataOut?.length ?? 0,
      durationNs: BigInt(Math.round((DeadlineTimer.now() - task.start) * 1e6)),
      status,
      ...(error ? { error: { code: (error as InitiatorError).code, message: error.message } } : {}),
    })
  }

  #onTaskTimeout(task: ScsiTask, timeoutMs: number): void {
    if (task.state === 'settled') return
    const wasSent = task.state === 'sent' || task.state === 'aborting'
    const slot = task.slot
    const cmdSN = task.cmdSN
    this.#rejectTask(task, new TimeoutError('command', timeoutMs, `opcode ${hex(task.cdb[0]!)} on LUN ${task.lun}`))
    // The target still holds the task: abort it so it does not write into a buffer we gave back (ABORT TASK).
    // If even that goes unanswered the connection is presumed dead.
    if (wasSent && slot && !slot.connection.closed) {
      this.#taskManagement(slot, TaskManagementFunction.AbortTask, task.lunField, task.itt, cmdSN).catch((error: unknown) => {
        this.#publishError('abort-after-timeout', error)
        if (error instanceof TimeoutError && !slot.connection.closed) {
          slot.connection.destroy(new ConnectionError('the target did not answer ABORT TASK after a command timeout', { cause: error }))
        }
      })
    }
  }

  #onTaskAbort(task: ScsiTask): void {
    const reason: unknown = task.signal?.reason
    if (task.state === 'queued') {
      this.#rejectTask(task, new AbortError('the command was aborted before it was sent', { cause: reason }))
      return
    }
    if (task.state !== 'sent' || task.slot === undefined) return
    task.state = 'aborting'
    const slot = task.slot
    // RFC 7143 11.5.1: ABORT TASK names the task by ITT and RefCmdSN; the target answers "function complete" or,
    // when the task already ended, "task does not exist". Either way the task is over afterwards.
    this.#taskManagement(slot, TaskManagementFunction.AbortTask, task.lunField, task.itt, task.cmdSN).then(
      () => this.#rejectTask(task, new AbortError('the command was aborted (ABORT TASK)', { cause: reason })),
      (error: unknown) => {
        if (error instanceof TaskManagementError && error.response === TaskManagementResponseCode.TaskDoesNotExist) {
          this.#rejectTask(task, new AbortError('the command was aborted (ABORT TASK)', { cause: reason }))
          return
        }
        this.#rejectTask(task, new AbortError(`the command was aborted; ABORT TASK failed: ${(error as Error).message}`, { cause: error }))
        if (error instanceof TimeoutError && !slot.connection.closed) {
          slot.connection.destroy(new ConnectionError('the target did not answer ABORT TASK', { cause: error }))
        }
      },
    )
  }

  // -------------------------------------------------------------------------------------------------------------
  // Receive path

  #onPdu(slot: Slot, pdu: TargetPdu, placed: number): void {
    if (channels.pduReceive.hasSubscribers) channels.pduReceive.publish({ opcode: pdu.opcode, itt: 'itt' in pdu ? pdu.itt : RESERVED_TAG, address: slot.connection.address })
    // Every target PDU carries ExpCmdSN/MaxCmdSN (RFC 7143 4.2.2.1).
    if (pdu.opcode !== Opcode.LoginResponse && this.#window.update(pdu.expCmdSN, pdu.maxCmdSN) && this.#window.queued > 0) this.#queuePump()
    try {
      switch (pdu.opcode) {
        case Opcode.DataIn:
          this.#onDataIn(slot, pdu, placed)
          break
        case Opcode.ScsiResponse:
          this.#advanceStatSN(slot, pdu.statSN)
          this.#onScsiResponse(slot, pdu)
          break
        case Opcode.R2T:
          this.#onR2T(slot, pdu)
          break
        case Opcode.NopIn:
          this.#onNopIn(slot, pdu)
          break
        case Opcode.TaskManagementResponse:
        case Opcode.LogoutResponse:
        case Opcode.TextResponse:
          this.#advanceStatSN(slot, pdu.statSN)
          this.#onRequestResponse(pdu)
          break
        case Opcode.AsyncMessage:
          this.#advanceStatSN(slot, pdu.statSN)
          this.#onAsyncMessage(slot, pdu)
          break
        case Opcode.Reject:
          this.#advanceStatSN(slot, pdu.statSN)
          this.#onReject(slot, pdu)
          break
        case Opcode.LoginResponse:
          throw new ProtocolError('Login Response in full feature phase')
      }
    } catch (error) {
      // A PDU that makes no sense here: ERL 0 cannot repair the stream, fail the connection (RFC 7143 7.1.5).
      slot.connection.destroy(error instanceof Error ? error : new ProtocolError(String(error)))
    }
  }

  /** ExpStatSN follows each status the target sends on the connection (RFC 7143 4.2.2.2). */
  #advanceStatSN(slot: Slot, statSN: number): void {
    const next = serialAdd(statSN, 1)
    if (serialGt(next, slot.connection.expStatSN)) slot.connection.expStatSN = next
  }

  #scsiTask(itt: number): ScsiTask | undefined {
    const entry = this.#tasks.get(itt)
    return entry !== undefined && entry.kind === 'scsi' && (entry.state === 'sent' || entry.state === 'aborting') ? entry : undefined
  }

  #onDataIn(slot: Slot, pdu: DataInPdu, placed: number): void {
    const task = this.#scsiTask(pdu.itt)
    if (pdu.statusPresent) this.#advanceStatSN(slot, pdu.statSN)
    // A task we gave up on (timeout): its PDUs still come until the target processes our ABORT TASK.
    if (task === undefined) return
    if (task.slot !== slot) throw new ProtocolError(`Data-In for ITT ${pdu.itt} on connection ${slot.cid}, allegiant to ${task.slot?.cid}`)
    if (task.assembler === undefined) throw new ProtocolError(`Data-In for ITT ${pdu.itt}, a command without data-in`)
    if (placed > 0) {
      const problem = task.assembler.acceptPlaced(pdu.dataSN, pdu.bufferOffset, placed)
      if (problem !== undefined) throw new ProtocolError(`Data-In for ITT ${pdu.itt}: ${problem}`)
    } else if (pdu.data.length > 0) {
      const problem = task.assembler.accept({ dataSN: pdu.dataSN, bufferOffset: pdu.bufferOffset, data: pdu.data })
      if (problem !== undefined) throw new ProtocolError(`Data-In for ITT ${pdu.itt}: ${problem}`)
    } else if (pdu.dataSN !== task.assembler.expectedDataSN && !pdu.statusPresent) {
      throw new ProtocolError(`Data-In for ITT ${pdu.itt}: DataSN ${pdu.dataSN}, expected ${task.assembler.expectedDataSN}`)
    }
    if (pdu.statusPresent) {
      // Status collapsed into the last Data-In (RFC 7143 11.7.4, S bit): the command is over.
      this.#complete(task, pdu.status, undefined, pdu.overflow, pdu.underflow, pdu.residualCount)
    }
  }

  #onScsiResponse(_slot: Slot, pdu: ScsiResponsePdu): void {
    const task = this.#scsiTask(pdu.itt)
    if (task === undefined) return
    if (pdu.response !== 0) {
      this.#rejectTask(task, new InitiatorError(InitiatorErrorCode.ScsiResponse, `the target failed the command: iSCSI response ${hex(pdu.response)}`))
      return
    }
    // The data segment of a SCSI Response is SenseLength (2 bytes) + sense data (RFC 7143 11.4.7).
    let senseData: Buffer | undefined
    if (pdu.data.length >= 2) {
      const senseLength = pdu.data.readUInt16BE(0)
      if (senseLength > 0) senseData = pdu.data.subarray(2, 2 + Math.min(senseLength, pdu.data.length - 2))
    }
    this.#complete(task, pdu.status, senseData, pdu.overflow, pdu.underflow, pdu.residualCount)
  }

  #complete(task: ScsiTask, status: number, senseData: Buffer | undefined, overflow: boolean, underflow: boolean, residualCount: number): void {
    if (task.state === 'aborting') {
      // The command finished before the abort took effect.
      this.#rejectTask(task, new AbortError('the command was aborted after the target completed it', { cause: task.signal?.reason, taskCompleted: true }))
      return
    }
    if (status === 0x02 && senseKeyOf(senseData) === 0x06) {
      const sense = senseData ? decodeSense(senseData) : undefined
      this.emit('unit-attention', { lun: task.lun, sense })
      if (task.retryUnitAttention && task.unitAttentions < DEFAULTS.maxUnitAttentionRetries) {
        // UNIT ATTENTION: the command was not executed (SAM-5 5.14); send it again.
        task.unitAttentions++
        this.#requeue(task, false)
        this.#pump()
        return
      }
    }
    const good = status === 0x00 || status === 0x04
    if (good && task.settle !== 'result') {
      // The I/O path: GOOD (or CONDITION MET) settles with the data itself (SAM-5 5.3.1).
      const data = task.settle === 'data' ? (task.assembler?.result() ?? EMPTY) : undefined
      this.#resolveTask(task, data, status, task.assembler?.received ?? 0)
      return
    }
    const result: CommandResult = { status }
    if (senseData !== undefined && senseData.length > 0) {
      // Copy: the sense is a view of the PDU's data segment and small.
      const copy = Buffer.from(senseData)
      result.senseData = copy
      result.sense = decodeSense(copy)
    }
    if (task.assembler !== undefined) result.data = task.assembler.result()
    if (overflow || underflow) result.residual = { overflow, underflow, count: residualCount }
    if (task.settle === 'result') this.#resolveTask(task, result, status, result.data?.length ?? 0)
    else this.#rejectTask(task, new ScsiCommandError(commandName(task.cdb), task.lun, status, result.sense, result.senseData))
  }

  /** Puts a sent task back in the queue (UNIT ATTENTION retry, or reissue after reconnect). */
  #requeue(task: ScsiTask, front: boolean): void {
    if (task.slot) {
      task.slot.tasks--
      task.slot = undefined
    }
    task.state = 'queued'
    task.assembler = undefined
    if (front) this.#window.requeueFront([task])
    else this.#window.enqueue(task)
  }

  #onR2T(slot: Slot, pdu: R2TPdu): void {
    const task = this.#scsiTask(pdu.itt)
    if (task === undefined) return
    if (task.slot !== slot) throw new ProtocolError(`R2T for ITT ${pdu.itt} on connection ${slot.cid}, allegiant to ${task.slot?.cid}`)
    if (task.dataOut === undefined) throw new ProtocolError(`R2T for ITT ${pdu.itt}, a command without data-out`)
    if (task.state === 'aborting') return
    if (task.assembler !== undefined) {
      const problem = task.assembler.countR2T(pdu.r2tSN)
      if (problem !== undefined) throw new ProtocolError(`R2T for ITT ${pdu.itt}: ${problem}`)
    }
    const plan = planR2T(pdu, task.dataOut.length, { maxBurstLength: this.#limits.maxBurstLength, maxSendDataSegmentLength: slot.connection.maxSendDataSegmentLength })
    if (typeof plan === 'string') throw new ProtocolError(`R2T for ITT ${pdu.itt}: ${plan}`)
    // Each R2T starts its own Data-Out sequence: DataSN from 0, TTT echoed (RFC 7143 11.7.4).
    let dataSN = 0
    for (const segment of plan) {
      this.#write(slot, this.#dataOut(task, slot.connection, pdu.ttt, dataSN++, segment.offset, segment.length, segment.final))
    }
  }

  #onNopIn(slot: Slot, pdu: NopInPdu): void {
    if (pdu.itt !== RESERVED_TAG) {
      // The answer to our ping: a response, so StatSN advances (RFC 7143 11.19.5).
      this.#advanceStatSN(slot, pdu.statSN)
      this.#onRequestResponse(pdu)
      return
    }
    if (pdu.ttt === RESERVED_TAG) return
    // The target pings us: answer with its TTT and LUN, immediate, ITT reserved (RFC 7143 11.18.3, 11.19.1).
    this.#write(slot, {
      opcode: Opcode.NopOut,
      immediate: true,
      lun: pdu.lun,
      itt: RESERVED_TAG,
      ttt: pdu.ttt,
      cmdSN: this.#window.cmdSN,
      expStatSN: slot.connection.expStatSN,
      data: pdu.data,
    })
  }

  #onRequestResponse(pdu: TargetPdu & { itt: number }): void {
    const entry = this.#tasks.get(pdu.itt)
    if (entry === undefined || entry.kind === 'scsi') return
    this.#tasks.delete(pdu.itt)
    entry.resolve(pdu)
  }

  #onReject(slot: Slot, pdu: RejectPdu): void {
    const header = pdu.data
    this.#publishError('reject', new RejectError(pdu.reason, 'a PDU'))
    if (header.length < 48) return
    const opcode = header[0]! & 0x3f
    const itt = header.readUInt32BE(16)
    if (pdu.reason === RejectReason.DataDigestError) {
      // ERL 0 cannot resend a Data-Out the target discarded (RFC 7143 7.8): recover the session.
      throw new ConnectionError('the target rejected a Data-Out with a data digest error')
    }
    const entry = this.#tasks.get(itt)
    if (entry === undefined) return
    const error = new RejectError(pdu.reason, `${opcodeLabel(opcode)} (ITT ${itt})`)
    if (entry.kind === 'scsi') {
      if (opcode === Opcode.ScsiCommand) this.#rejectTask(entry, error)
      else if (entry.state === 'sent') {
        // A rejected Data-Out leaves the command unable to finish at ERL 0.
        slot.connection.destroy(new ConnectionError(`the target rejected Data-Out of ITT ${itt}: reason ${hex(pdu.reason)}`))
      }
      return
    }
    this.#tasks.delete(itt)
    entry.reject(error)
  }

  #onAsyncMessage(slot: Slot, pdu: AsyncMessagePdu): void {
    const info = asyncEventInfo(pdu)
    const lun = info.lun
    if (channels.session.hasSubscribers) channels.session.publish({ ...info, event: 'async', asyncEvent: info.event, targetName: this.options.targetName, cid: slot.cid })
    this.emit('async', info)
    switch (pdu.asyncEvent) {
      case AsyncEvent.LogoutRequest:
        this.#onLogoutRequested(slot, pdu.parameter3)
        break
      case AsyncEvent.ConnectionDrop:
      case AsyncEvent.SessionDrop:
        // The target is about to drop us: fail now and reconnect after Time2Wait (Parameter2 seconds).
        this.#reconnectDelayMs = Math.max(0, pdu.parameter2) * 1000
        slot.connection.destroy(new ConnectionError(`the target dropped the ${pdu.asyncEvent === AsyncEvent.SessionDrop ? 'session' : 'connection'} (Async Message ${pdu.asyncEvent})`))
        break
      case AsyncEvent.NegotiationRequest:
        this.#renegotiate(slot).catch((error: unknown) => {
          this.#publishError('renegotiate', error)
          if (!slot.connection.closed) slot.connection.destroy(new ConnectionError(`text negotiation requested by the target failed: ${(error as Error).message}`, { cause: error }))
        })
        break
      case AsyncEvent.TaskTermination: {
        // All active tasks of that LU were terminated (RFC 7143 11.9.1, event 5): nothing more comes for them.
        for (const entry of [...this.#tasks.values()]) {
          if (entry.kind !== 'scsi' || entry.lun !== lun || (entry.state !== 'sent' && entry.state !== 'aborting')) continue
          if (entry.state === 'sent' && entry.retryable && entry.sends <= DEFAULTS.maxCommandRetries) this.#requeue(entry, true)
          else this.#rejectTask(entry, new AbortError('the target terminated the command (Async Message, task termination)'))
        }
        this.#pump()
        break
      }
    }
  }


  /** RFC 7143 11.9.1 event 1: log out within Parameter3 seconds; the connection takes no new commands meanwhile. */
  #onLogoutRequested(slot: Slot, withinSeconds: number): void {
    slot.active = false
    const deadline = Date.now() + Math.max(1, withinSeconds) * 1000
    const others = this.#slots.filter((s) => s !== slot && s.active && !s.connection.closed)
    void (async () => {
      // Let the connection's commands finish, keeping a margin for the Logout itself.
      while (slot.tasks > 0 && Date.now() < deadline - 1000 && !slot.connection.closed) await delay(20)
      if (slot.connection.closed) return
      if (others.length > 0) {
        // Close just this connection; the session goes on over the others (RFC 7143 11.14.1 reason 1).
        try {
          await this.#logoutExchange(slot, LogoutReason.CloseConnection, Math.max(1000, deadline - Date.now()))
        } catch (error) {
          this.#publishError('logout-connection', error)
        }
        this.#removeSlot(slot)
        slot.connection.end()
        return
      }
      // The last connection: close the session, then treat it as a loss so the session is reinstated (if enabled).
      try {
        await this.#logoutExchange(slot, LogoutReason.CloseSession, Math.max(1000, deadline - Date.now()))
      } catch (error) {
        this.#publishError('logout-session', error)
      }
      slot.connection.destroy(new ConnectionError('the target requested a logout (Async Message 1)'))
    })()
  }

  #removeSlot(slot: Slot): void {
    clearTimeout(slot.keepaliveTimer)
    this.#slots = this.#slots.filter((s) => s !== slot)
    // Tasks still allegiant to it cannot finish at ERL 0 once it is gone.
    for (const entry of [...this.#tasks.values()]) {
      if (entry.kind === 'scsi' && entry.slot === slot) {
        if (entry.state === 'sent' && entry.retryable && entry.sends <= DEFAULTS.maxCommandRetries) this.#requeue(entry, true)
        else this.#rejectTask(entry, new ConnectionError('the connection carrying the command was logged out'))
      } else if (entry.kind !== 'scsi' && entry.slot === slot) {
        this.#tasks.delete(entry.itt)
        entry.reject(new ConnectionError('the connection was logged out'))
      }
    }
    this.#updateParameters()
    this.#pump()
  }

  /** RFC 7143 11.9.1 event 4: answer with a Text Request (empty unless the target proposes keys). */
  async #renegotiate(slot: Slot): Promise<void> {
    const connection = this.#negotiated?.connection
    if (connection === undefined) return
    const engine = new InitiatorTextNegotiation({ connection })
    let request = engine.start([])
    for (let round = 0; round < 16; round++) {
      const response = (await this.#request(slot, 'text', (itt) => ({
        opcode: Opcode.TextRequest,
        immediate: true,
        final: request.final,
        continue: request.continue,
        lun: 0n,
        itt,
        ttt: request.targetTransferTag,
        cmdSN: this.#window.cmdSN,
        expStatSN: slot.connection.expStatSN,
        data: request.data,
      }), this.options.taskManagementTimeoutMs ?? DEFAULTS.taskManagementTimeoutMs)) as TextResponsePdu
      const step = engine.receive({ final: response.final, continue: response.continue, targetTransferTag: response.ttt, data: response.data })
      if (step.kind === 'done') {
        if (step.connection) slot.connection.maxSendDataSegmentLength = step.connection.maxSendDataSegmentLength
        return
      }
      request = step.request
    }
    throw new ProtocolError('text negotiation did not finish in 16 exchanges')
  }

  // -------------------------------------------------------------------------------------------------------------
  // Requests: task management, NOP-Out, logout, text

  /** Sends an immediate request PDU built around a fresh ITT and waits for the response with that ITT. */
  #request(slot: Slot, kind: Request['kind'], build: (itt: number) => Parameters<IscsiConnection['send']>[0], timeoutMs: number): Promise<TargetPdu> {
    return new Promise<TargetPdu>((resolve, reject) => {
      if (slot.connection.closed) {
        reject(new ConnectionError('the connection is closed'))
        return
      }
      const itt = this.#tasks.allocate()
      const operation = kind === 'tmf' ? 'task-management' : kind === 'nop' ? 'ping' : kind
      const timer = setTimeout(() => {
        if (this.#tasks.get(itt) !== request) return
        this.#tasks.delete(itt)
        reject(new TimeoutError(operation, timeoutMs))
      }, Math.min(timeoutMs, MAX_TIMER))
      const request: Request = {
        kind,
        itt,
        slot,
        resolve: (pdu) => {
          clearTimeout(timer)
          resolve(pdu)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      this.#tasks.set(itt, request)
      this.#write(slot, build(itt))
    })
  }

  async #taskManagement(slot: Slot, fn: number, lunField: bigint, referencedTaskTag: number, refCmdSN: number): Promise<void> {
    const timeoutMs = this.options.taskManagementTimeoutMs ?? DEFAULTS.taskManagementTimeoutMs
    const name = tmfNames[fn] ?? `function ${fn}`
    const response = await this.#request(slot, 'tmf', (itt) => ({
      opcode: Opcode.TaskManagementRequest,
      immediate: true,
      function: fn,
      lun: lunField,
      itt,
      referencedTaskTag,
      cmdSN: this.#window.cmdSN,
      expStatSN: slot.connection.expStatSN,
      refCmdSN,
      expDataSN: 0,
      data: EMPTY,
    }), timeoutMs)
    if (response.opcode !== Opcode.TaskManagementResponse) throw new ProtocolError(`expected a Task Management Response, got ${opcodeLabel(response.opcode)}`)
    if (channels.taskManagement.hasSubscribers) {
      channels.taskManagement.publish({ function: name, referencedTaskTag, response: response.response, targetName: this.options.targetName })
    }
    if (response.response !== TaskManagementResponseCode.FunctionComplete && response.response !== TaskManagementResponseCode.FunctionSucceeded) {
      throw new TaskManagementError(name, response.response)
    }
  }

  #requireLoggedIn(): Slot {
    if (this.#state === 'closed') throw new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session is closed')
    if (this.#state === 'recovering') throw new ConnectionError('the session is reconnecting')
    const slot = this.#slots.find((s) => s.active && !s.connection.closed) ?? this.#slots.find((s) => !s.connection.closed)
    if (slot === undefined) throw new ConnectionError('no connection')
    return slot
  }

  #nop(slot: Slot, timeoutMs: number): Promise<TargetPdu> {
    return this.#request(slot, 'nop', (itt) => ({
      opcode: Opcode.NopOut,
      immediate: true,
      lun: 0n,
      itt,
      ttt: RESERVED_TAG,
      cmdSN: this.#window.cmdSN,
      expStatSN: slot.connection.expStatSN,
      data: EMPTY,
    }), timeoutMs)
  }

  /** NOP-Out ping (RFC 7143 11.18): resolves with the round trip in milliseconds. */
  async ping(timeoutMs: number = DEFAULTS.pingTimeoutMs): Promise<number> {
    const slot = this.#requireLoggedIn()
    const start = process.hrtime.bigint()
    await this.#nop(slot, timeoutMs)
    return Number(process.hrtime.bigint() - start) / 1e6
  }

  /**
   * LOGICAL UNIT RESET (RFC 7143 11.5.1): the target ends every task of the LU; their promises reject with
   * AbortError.
   */
  async lunReset(lun: number): Promise<void> {
    const slot = this.#requireLoggedIn()
    await this.#taskManagement(slot, TaskManagementFunction.LogicalUnitReset, encodeLun(lun), RESERVED_TAG, this.#window.cmdSN)
    this.#terminateLun(lun, 'the command was terminated by LOGICAL UNIT RESET')
  }

  /**
   * Aborts every command of a LUN (ABORT TASK SET), or of every LUN with commands when `lun` is omitted. Commands
   * still waiting for the CmdSN window are dropped locally. All of them reject with AbortError.
   */
  async abortAll(lun?: number): Promise<void> {
    const luns = new Set<number>()
    for (const entry of [...this.#tasks.values()]) {
      if (entry.kind !== 'scsi' || (lun !== undefined && entry.lun !== lun)) continue
      if (entry.state === 'queued') this.#rejectTask(entry, new AbortError('the command was aborted before it was sent'))
      else if (entry.state === 'sent' || entry.state === 'aborting') luns.add(entry.lun)
    }
    if (luns.size === 0) return
    const slot = this.#requireLoggedIn()
    for (const target of luns) {
      await this.#taskManagement(slot, TaskManagementFunction.AbortTaskSet, encodeLun(target), RESERVED_TAG, this.#window.cmdSN)
      this.#terminateLun(target, 'the command was aborted (ABORT TASK SET)')
    }
  }

  #terminateLun(lun: number, message: string): void {
    for (const entry of [...this.#tasks.values()]) {
      if (entry.kind === 'scsi' && entry.lun === lun && (entry.state === 'sent' || entry.state === 'aborting')) this.#rejectTask(entry, new AbortError(message))
    }
  }

  async #logoutExchange(slot: Slot, reason: number, timeoutMs: number): Promise<void> {
    const response = await this.#request(slot, 'logout', (itt) => ({
      opcode: Opcode.LogoutRequest,
      immediate: true,
      reasonCode: reason,
      itt,
      cid: reason === LogoutReason.CloseSession ? 0 : slot.cid,
      cmdSN: this.#window.cmdSN,
      expStatSN: slot.connection.expStatSN,
      data: EMPTY,
    }), timeoutMs)
    if (response.opcode !== Opcode.LogoutResponse) throw new ProtocolError(`expected a Logout Response, got ${opcodeLabel(response.opcode)}`)
    if (response.response !== LogoutResponseCode.Success) {
      throw new InitiatorError(InitiatorErrorCode.Logout, `logout failed: response ${response.response}`)
    }
  }

  /**
   * Orderly logout: new commands are refused, commands in flight finish (each within its own timeout), then the
   * session is closed with a Logout Request (RFC 7143 11.14, reason 0) and the connections end.
   */
  logout(): Promise<void> {
    this.#logoutPromise ??= this.#doLogout()
    return this.#logoutPromise
  }

  async #doLogout(): Promise<void> {
    if (this.#state === 'closed') return
    const wasRecovering = this.#state === 'recovering'
    this.#state = 'logging-out'
    if (wasRecovering) {
      this.#shutdown(undefined, new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session was logged out while reconnecting'))
      return
    }
    this.#pump()
    await this.#drained()
    const slot = this.#slots.find((s) => !s.connection.closed)
    if (slot === undefined) {
      this.#shutdown(undefined, new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session was logged out'))
      return
    }
    const timeoutMs = this.options.logoutTimeoutMs ?? DEFAULTS.logoutTimeoutMs
    let failure: Error | undefined
    try {
      await this.#logoutExchange(slot, LogoutReason.CloseSession, timeoutMs)
    } catch (error) {
      failure = error as Error
    }
    if (channels.logout.hasSubscribers) {
      channels.logout.publish({ targetName: this.options.targetName, isid: this.#isid.toString('hex'), tsih: this.#tsih, reason: failure ? failure.message : 'close session' })
    }
    for (const s of this.#slots) s.connection.end()
    this.#shutdown(undefined, new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session was logged out'))
    if (failure) throw failure
  }

  #drainWaiters: Array<() => void> = []

  #drained(): Promise<void> {
    if (this.#idle()) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  #idle(): boolean {
    for (const entry of this.#tasks.values()) if (entry.kind === 'scsi') return false
    return true
  }

  #maybeDrained(): void {
    if (this.#drainWaiters.length === 0 || !this.#idle()) return
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** Closes every connection without logging out; every pending command rejects. */
  close(): Promise<void> {
    if (this.#state !== 'closed') this.#shutdown(undefined, new InitiatorError(InitiatorErrorCode.SessionClosed, 'the session was closed'))
    return Promise.resolve()
  }

  /** Ends the session for good: every task and request rejects with `taskError`, 'close' is emitted with `error`. */
  #shutdown(error: Error | undefined, taskError: Error): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#closing.abort()
    this.#deadlines.cancel()
    for (const slot of this.#slots) {
      clearTimeout(slot.keepaliveTimer)
      slot.connection.setHandlers(() => undefined, () => undefined)
      slot.connection.destroy()
    }
    this.#slots = []
    for (const task of this.#window.clear()) this.#rejectTask(task, taskError)
    for (const entry of [...this.#tasks.values()]) {
      if (entry.kind === 'scsi') {
        this.#rejectTask(entry, taskError)
      } else {
        this.#tasks.delete(entry.itt)
        entry.reject(taskError)
      }
    }
    this.#maybeDrained()
    if (channels.session.hasSubscribers) channels.session.publish({ event: 'closed', targetName: this.options.targetName, reason: error?.message })
    this.#resolveClosed(error)
    this.emit('close', error)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection loss and session reinstatement

  #onConnectionClosed(slot: Slot, error: Error | undefined): void {
    clearTimeout(slot.keepaliveTimer)
    if (!this.#slots.includes(slot)) return
    if (this.#state === 'closed') return
    if (channels.connection.hasSubscribers) {
      channels.connection.publish({ event: 'close', address: slot.connection.address, cid: slot.cid, targetName: this.options.targetName, reason: error?.message })
    }
    if (this.#state === 'logging-out') {
      // Losing the connection while logging out ends the session.
      if (error !== undefined && this.#slots.every((s) => s === slot || s.connection.closed)) {
        this.#shutdown(undefined, new ConnectionError(`the connection was lost during logout: ${error.message}`, { cause: error }))
      }
      return
    }
    if (this.#state !== 'logged-in') return
    const reason = error ?? new ConnectionError('the connection closed')
    this.#state = 'recovering'
    this.#publishError('connection', reason)
    // ERL 0: a connection failure fails the session; every task of it is terminated (RFC 7143 7.1.5, 6.3.4). Tasks
    // safe to repeat are reissued in the reinstated session, in their original CmdSN order.
    const reissue: ScsiTask[] = []
    let failed = 0
    for (const s of this.#slots) {
      clearTimeout(s.keepaliveTimer)
      s.connection.setHandlers(() => undefined, () => undefined)
      s.connection.destroy()
    }
    this.#slots = []
    const reconnect = this.options.reconnect === undefined ? DEFAULTS.reconnect : this.options.reconnect
    for (const entry of [...this.#tasks.values()]) {
      if (entry.kind !== 'scsi') {
        this.#tasks.delete(entry.itt)
        entry.reject(new ConnectionError(`the connection was lost: ${reason.message}`, { cause: reason }))
        continue
      }
      if (entry.state === 'aborting') {
        this.#rejectTask(entry, new AbortError('the command was aborted (terminated by the connection loss)', { cause: reason }))
      } else if (entry.state === 'sent') {
        if (reconnect !== false && entry.retryable && entry.sends <= DEFAULTS.maxCommandRetries) {
          reissue.push(entry)
        } else {
          failed++
          this.#rejectTask(
            entry,
            new ConnectionError(
              `the connection was lost while the command was in flight (${entry.retryable ? 'retries exhausted' : 'not safe to repeat: it may or may not have executed'}): ${reason.message}`,
              { cause: reason },
            ),
          )
        }
      }
    }
    reissue.sort((a, b) => (serialLe(a.cmdSN, b.cmdSN) ? -1 : 1))
    for (const task of reissue) {
      task.slot = undefined
      task.state = 'queued'
      task.assembler = undefined
    }
    this.#window.requeueFront(reissue)
    this.emit('disconnect', reason)
    if (channels.session.hasSubscribers) channels.session.publish({ event: 'failed', targetName: this.options.targetName, reason: reason.message, reissue: reissue.length, failed })
    if (reconnect === false) {
      this.#shutdown(reason, new ConnectionError(`the connection was lost: ${reason.message}`, { cause: reason }))
      return
    }
    void this.#recover(reason, reconnect.attempts, reconnect.backoffMs, reissue.length, failed)
  }

  async #recover(reason: Error, attempts: number, backoffMs: number, retried: number, failed: number): Promise<void> {
    let lastError: Error = reason
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const delayMs = Math.max(this.#reconnectDelayMs, Math.min(30_000, backoffMs * 2 ** Math.min(attempt - 1, 4)))
      this.#reconnectDelayMs = 0
      if (channels.session.hasSubscribers) channels.session.publish({ event: 'reconnecting', targetName: this.options.targetName, attempt, delayMs })
      await sleep(delayMs, this.#closing.signal)
      if (this.#state !== 'recovering') return
      try {
        await this.#establish()
      } catch (error) {
        lastError = error as Error
        this.#publishError('reconnect', error)
        for (const slot of this.#slots) slot.connection.destroy()
        this.#slots = []
        continue
      }
      if (this.#state !== 'recovering') {
        // Closed while the login ran: drop what was just built.
        for (const slot of this.#slots) slot.connection.destroy()
        this.#slots = []
        return
      }
      this.#state = 'logged-in'
      if (channels.session.hasSubscribers) channels.session.publish({ event: 'reconnected', targetName: this.options.targetName, attempt, tsih: this.#tsih })
      this.emit('reconnect', { attempts: attempt, retried, failed })
      this.#pump()
      return
    }
    if (this.#state !== 'recovering') return
    const error = new ConnectionError(`could not reconnect after ${attempts} attempt(s): ${lastError.message}`, { cause: lastError })
    this.#shutdown(error, error)
  }

  #publishError(kind: string, error: unknown): void {
    if (!channels.error.hasSubscribers) return
    const e = error as Partial<InitiatorError>
    channels.error.publish({ kind, message: e.message ?? String(error), code: e.code, targetName: this.options.targetName })
  }
}

const EMPTY = Buffer.alloc(0)

const chapAlgorithmNumbers = { MD5: 5, SHA1: 6, 'SHA-256': 7, 'SHA3-256': 8 } as const

const tmfNames: Readonly<Record<number, string>> = {
  1: 'ABORT TASK',
  2: 'ABORT TASK SET',
  3: 'CLEAR ACA',
  4: 'CLEAR TASK SET',
  5: 'LOGICAL UNIT RESET',
  6: 'TARGET WARM RESET',
  7: 'TARGET COLD RESET',
}

const opcodeLabels: Readonly<Record<number, string>> = {
  0x00: 'NOP-Out',
  0x01: 'SCSI Command',
  0x02: 'Task Management Request',
  0x04: 'Text Request',
  0x05: 'Data-Out',
  0x06: 'Logout Request',
  0x10: 'SNACK',
}

function opcodeLabel(opcode: number): string {
  return opcodeLabels[opcode] ?? `opcode ${hex(opcode)}`
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

