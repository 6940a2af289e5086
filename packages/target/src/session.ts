// An iSCSI session (RFC 7143 3.4, 4.4): its identity (ISID, TSIH, names), the CmdSN window shared by all its
// connections, its task table, and the path of a SCSI command from arrival to response: immediate data, unsolicited
// Data-Out and R2Ts, delivery in CmdSN order, execution by the device, Data-In and status on the connection the
// command came on (connection allegiance, RFC 7143 4.2.3.1).
import { RESERVED_TAG, RejectReason, ScsiResponseCode, decodeLun } from '@iscsi-ts/pdu'
import type { DataInPdu, DataOutPdu, Pdu, ScsiCommandPdu, ScsiResponsePdu, TargetPdu } from '@iscsi-ts/pdu'
import type { SessionParameters } from '@iscsi-ts/negotiation'
import type { Nexus, ScsiResult } from '@iscsi-ts/scsi'
import { channels, publishError } from './channels.js'
import { CmdSnWindow } from './cmdsn-window.js'
import type { ResolvedLimits } from './config.js'
import { dataInSegments } from './data-in.js'
import { WriteTransfer } from './data-out.js'
import type { BurstParameters } from './data-out.js'
import { DataOutError, TargetError, TargetErrorCode } from './errors.js'
import { LunView } from './lun-view.js'
import { buildNexus, isidHex } from './nexus.js'
import { NO_RESIDUAL, commandResiduals } from './residual.js'
import { dataInPdu, r2tPdu, senseSegment } from './responses.js'
import type { Sequence } from './responses.js'
import { SenseKeyCode, TransportAsc, fixedSense } from './sense.js'
import { TagTable } from './tag-table.js'
import { Task } from './task.js'
import type { TargetNode } from './target-node.js'

const EMPTY = Buffer.alloc(0)
const STATUS_CHECK_CONDITION = 0x02
const STATUS_TASK_SET_FULL = 0x28

/** What a session needs from the connection a PDU came on. */
export interface SessionConnection {
  readonly cid: number
  readonly closed: boolean
  readonly remote: string
  /** The initiator's MaxRecvDataSegmentLength: the most a Data-In may carry (RFC 7143 13.12). */
  readonly maxSendDataSegmentLength: number
  /**
   * Send a PDU (nothing happens once the connection is closed). `onWritten`, when given, runs once the PDU's data
   * segment is no longer referenced (copied, or written by the socket); not at all if the PDU is dropped.
   */
  send(pdu: TargetPdu, onWritten?: () => void): void
  /** StatSN for a status-carrying PDU, advancing it (RFC 7143 4.2.2.2). */
  takeStatSN(): number
  /** StatSN to show in PDUs that don't advance it (R2T, NOP-In pings). */
  readonly statSN: number
  /** Reject a PDU (RFC 7143 11.17): advances StatSN. */
  reject(reason: number, pdu: Pdu): void
  /** Forget the ITT of a task that ended, so late Data-Out for it is dropped quietly. */
  rememberEnded(itt: number): void
  wasEnded(itt: number): boolean
  /** Close: `graceful` flushes and half-closes (after a Logout Response), otherwise the socket is destroyed. */
  close(reason: string, graceful?: boolean): void
  /**
   * Run `run(arg)` once this connection can take `bytes` more of Data-In without its send queue growing past its
   * high-water mark (a peer that does not read holds its reads back, not the target's memory). At once when it can.
   */
  admit<A>(bytes: number, run: (arg: A) => void, arg: A): void
  /** Take back a read still waiting in `admit` (it never runs); false when it is not waiting there. */
  withdraw(arg: unknown): boolean
  /** Data-In admitted with `admit` has been queued (or will never be): let the next read in. */
  released(bytes: number): void
}

/** What a session needs from the target. */
export interface SessionHost {
  readonly limits: ResolvedLimits
  reserveWriteBytes(bytes: number): boolean
  releaseWriteBytes(bytes: number): void
  sessionClosed(session: Session, reason: string): void
}

export interface SessionInit {
  readonly tsih: number
  readonly isid: Buffer
  readonly initiatorName: string
  readonly targetName: string | undefined
  readonly type: 'Normal' | 'Discovery'
  readonly node: TargetNode | undefined
  readonly portalGroupTag: number
  readonly parameters: SessionParameters
  readonly initialCmdSN: number
  readonly lunMap: ReadonlyMap<number, number> | undefined
  readonly host: SessionHost
}

type Run = (slot: boolean) => void
/** What waits in the CmdSN window: a SCSI command's task, or the handler of another PDU that carries CmdSN. */
type Ordered<C extends SessionConnection> = Run | Task<C>

export class Session<C extends SessionConnection = SessionConnection> {
  readonly tsih: number
  readonly isid: Buffer
  readonly isidHex: string
  readonly initiatorName: string
  readonly targetName: string | undefined
  readonly type: 'Normal' | 'Discovery'
  readonly node: TargetNode | undefined
  readonly portalGroupTag: number
  readonly parameters: SessionParameters
  readonly connections = new Map<number, C>()
  /** Live tasks by ITT. */
  readonly tasks: TagTable<Task<C>>
  readonly nexus: Nexus | undefined
  readonly window: CmdSnWindow<Ordered<C>>
  view: LunView
  /** The negotiated burst limits every write of the session uses (RFC 7143 13.10-13.17), made once. */
  readonly #burst: BurstParameters
  readonly #host: SessionHost
  #ttt = 0
  #immediateTasks = 0
  #closed = false
  /** The last LUN field decoded (initiators send the same one over and over): no BigInt work per command. */
  #lunField: bigint | undefined
  #lunNumber = -1
  /** Bound once: what the CmdSN window delivers in order holds a slot. */
  readonly #deliverInSlot = (next: Ordered<SessionConnection>): void => this.#deliver(next as Ordered<C>, true)
  /** Bound once: TTTs for the R2Ts of a write. */
  readonly #allocateTtt = (): number => this.allocateTtt()
  /** Bound once: the read admitted on its connection starts executing. */
  readonly #startAdmitted = (task: Task<SessionConnection>): void => {
    task.admitted = task.expectedReadLength
    void this.#execute(task as Task<C>)
  }

  constructor(init: SessionInit) {
    this.tsih = init.tsih
    this.isid = Buffer.from(init.isid)
    this.isidHex = isidHex(this.isid)
    this.initiatorName = init.initiatorName
    this.targetName = init.targetName
    this.type = init.type
    this.node = init.node
    this.portalGroupTag = init.portalGroupTag
    this.parameters = init.parameters
    this.#host = init.host
    this.window = new CmdSnWindow<Ordered<C>>(init.initialCmdSN, init.host.limits.queueDepth)
    this.tasks = new TagTable<Task<C>>(init.host.limits.queueDepth)
    const p = init.parameters
    this.#burst = {
      initialR2T: p.initialR2T,
      immediateData: p.immediateData,
      firstBurstLength: p.firstBurstLength,
      maxBurstLength: p.maxBurstLength,
      maxOutstandingR2T: p.maxOutstandingR2T,
    }
    this.view = new LunView(init.lunMap)
    this.nexus =
      init.type === 'Normal' && init.targetName !== undefined
        ? buildNexus(init.initiatorName, this.isid, init.targetName, init.portalGroupTag)
        : undefined
  }

  get closed(): boolean {
    return this.#closed
  }

  /** ExpCmdSN/MaxCmdSN for a PDU sent on `connection`, with the StatSN given. */
  sequence(statSN: number): Sequence {
    return { statSN, expCmdSN: this.window.expCmdSN, maxCmdSN: this.window.maxCmdSN }
  }

  /** A Target Transfer Tag unique within the session (never the reserved 0xffffffff). */
  allocateTtt(): number {
    this.#ttt = (this.#ttt + 1) >>> 0
    if (this.#ttt === 0xffffffff) this.#ttt = 1
    return this.#ttt
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Command ordering (RFC 7143 4.2.2.1)

  /**
   * Puts a PDU that carries CmdSN in order. Immediate PDUs run at once without a slot; others run in CmdSN order and
   * hold a slot until `releaseSlot`. Returns false when the PDU is outside the window or a duplicate: it must be
   * ignored silently.
   */
  order(immediate: boolean, cmdSN: number, run: Ordered<C>): boolean {
    if (this.#closed) return false
    if (immediate) {
      this.#deliver(run, false)
      return true
    }
    return this.window.offer(cmdSN, run, this.#deliverInSlot)
  }

  #deliver(next: Ordered<C>, slot: boolean): void {
    if (typeof next === 'function') {
      next(slot)
      return
    }
    // A SCSI command reached its turn in CmdSN order.
    next.holdsSlot = slot
    next.delivered = true
    if (next.terminated) {
      if (slot) this.releaseSlot()
      next.holdsSlot = false
      return
    }
    this.#advance(next)
  }

  releaseSlot(): void {
    this.window.release()
  }

  /** RFC 7143 11.5.1 b): a CmdSN named by ABORT TASK that has not arrived is considered received. */
  consumeCmdSN(cmdSN: number): boolean {
    return this.window.consumeInto(cmdSN, this.#deliverInSlot)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // SCSI commands

  /** A SCSI Command PDU arrived on `connection` (RFC 7143 11.3). */
  receiveCommand(connection: C, pdu: ScsiCommandPdu): void {
    if (pdu.itt === 0xffffffff) {
      this.#rejectCommand(connection, RejectReason.InvalidPduField, pdu)
      return
    }
    if (!pdu.immediate && !this.window.accepts(pdu.cmdSN)) {
      // Outside the window or a duplicate: ignored silently (RFC 7143 4.2.2.1); its Data-Out is dropped too.
      connection.rememberEnded(pdu.itt)
      return
    }
    if (this.tasks.has(pdu.itt)) {
      // RFC 7143 11.17.1: a task with this ITT is still active.
      this.#rejectCommand(connection, RejectReason.TaskInProgress, pdu)
      return
    }
    if (pdu.immediate && this.#immediateTasks >= this.#host.limits.queueDepth) {
      connection.reject(RejectReason.ImmediateCommandReject, pdu)
      return
    }
    if (!pdu.write && pdu.data.length > 0) {
      // Immediate data on a command without the W bit (RFC 7143 11.3.1).
      this.#rejectCommand(connection, RejectReason.ProtocolError, pdu)
      return
    }
    const task = new Task<C>(pdu, this.#decodeLun(pdu.lun), connection)
    if (channels.command.hasSubscribers) task.startedAt = performance.now()
    this.tasks.set(task.itt, task)
    if (task.immediate) this.#immediateTasks++
    if (task.write) this.#prepareWrite(task, pdu)
    if (!this.order(pdu.immediate, pdu.cmdSN, task)) this.#finish(task)
  }

  /** The LUN number of a LUN field, -1 when its address method is not supported. */
  #decodeLun(field: bigint): number {
    if (field === this.#lunField) return this.#lunNumber
    let lun: number
    try {
      lun = decodeLun(field)
    } catch {
      lun = -1
    }
    this.#lunField = field
    this.#lunNumber = lun
    return lun
  }

  /**
   * Reject a command. A rejected command still used its CmdSN: the window moves past it first, so the Reject's
   * ExpCmdSN (its "usual value", RFC 7143 11.17.3) already counts it.
   */
  #rejectCommand(connection: C, reason: number, pdu: ScsiCommandPdu): void {
    if (!pdu.immediate) this.consumeCmdSN(pdu.cmdSN)
    connection.reject(reason, pdu)
  }

  #prepareWrite(task: Task<C>, pdu: ScsiCommandPdu): void {
    const wanted = this.#dataOutLength(task)
    task.wantedOut = wanted
    const needed = Math.min(wanted, task.expectedDataTransferLength)
    const limits = this.#host.limits
    if (needed > limits.maxDataTransferLength) {
      task.error = new TargetError(TargetErrorCode.Resource, `write of ${needed} bytes exceeds maxDataTransferLength`, {
        kind: 'check-condition',
        senseKey: SenseKeyCode.ILLEGAL_REQUEST,
        asc: 0x24,
        ascq: 0x00,
      })
      return
    }
    if (!this.#host.reserveWriteBytes(needed)) {
      task.presetStatus = STATUS_TASK_SET_FULL
      return
    }
    task.reservedBytes = needed
    try {
      task.transfer = new WriteTransfer({
        expectedDataTransferLength: task.expectedDataTransferLength,
        needed,
        immediate: pdu.data,
        final: pdu.final,
        burst: this.#burst,
      })
    } catch (error) {
      if (!(error instanceof DataOutError)) throw error
      task.error = error
      return
    }
    this.#sendR2Ts(task)
  }

  /** Bytes of data-out the CDB transfers, as the device server counts them. */
  #dataOutLength(task: Task<C>): number {
    const node = this.node
    if (node === undefined) return 0
    const route = this.view.route(task.lun, task.cdb, 0)
    if (route.kind === 'local') return 0
    try {
      const n = node.device.dataOutLength(route.lun, task.cdb)
      return Number.isInteger(n) && n >= 0 ? n : 0
    } catch {
      return 0
    }
  }

  #sendR2Ts(task: Task<C>): void {
    const transfer = task.transfer
    if (transfer === undefined || task.connection.closed) return
    for (const r2t of transfer.nextR2Ts(this.#allocateTtt)) {
      task.dataPdus++
      task.connection.send(
        r2tPdu({
          lun: task.lunField,
          itt: task.itt,
          ttt: r2t.ttt,
          r2tSN: r2t.r2tSN,
          bufferOffset: r2t.bufferOffset,
          desiredDataTransferLength: r2t.desiredDataTransferLength,
          seq: this.sequence(task.connection.statSN),
        }),
      )
    }
  }

  /** A Data-Out PDU arrived (RFC 7143 11.7). */
  receiveDataOut(connection: C, pdu: DataOutPdu): void {
    const task = this.tasks.get(pdu.itt)
    if (task === undefined) {
      // Data for a task that ended (aborted, failed, answered early) is dropped; data for no task is an error.
      if (!connection.wasEnded(pdu.itt)) connection.reject(RejectReason.InvalidPduField, pdu)
      return
    }
    if (task.connection !== connection) {
      // Data-Out must come on the connection the command came on (RFC 7143 4.2.3.1).
      connection.reject(RejectReason.ProtocolError, pdu)
      return
    }
    if (task.state !== 'receiving') {
      connection.reject(RejectReason.InvalidPduField, pdu)
      return
    }
    if (task.error !== undefined || task.presetStatus !== undefined) return
    const transfer = task.transfer
    if (transfer === undefined) {
      task.error = new DataOutError(...TransportAsc.UNEXPECTED_UNSOLICITED_DATA, 'Data-Out for a command without the W bit')
      this.#advance(task)
      return
    }
    try {
      transfer.receive(pdu)
    } catch (error) {
      if (!(error instanceof DataOutError)) throw error
      task.error = error
      this.#advance(task)
      return
    }
    this.#sendR2Ts(task)
    this.#advance(task)
  }

  /** End a task that is still receiving data with an error (answered once it is delivered in CmdSN order). */
  failTask(task: Task<C>, error: TargetError): void {
    if (task.state !== 'receiving' || task.error !== undefined) return
    task.error = error
    this.#advance(task)
  }

  /** Move a task on when it can: answer an early error, or execute once delivered with all its data. */
  #advance(task: Task<C>): void {
    if (!task.delivered || task.state !== 'receiving' || task.terminated) return
    const error = task.error
    if (error !== undefined) {
      const reaction = error.reaction
      const sense =
        reaction.kind === 'check-condition'
          ? fixedSense(reaction.senseKey, reaction.asc, reaction.ascq)
          : fixedSense(SenseKeyCode.ABORTED_COMMAND, ...TransportAsc.INTERNAL_TARGET_FAILURE)
      this.#respond(task, { status: STATUS_CHECK_CONDITION, sense })
      return
    }
    if (task.presetStatus !== undefined) {
      this.#respond(task, { status: task.presetStatus })
      return
    }
    if (task.transfer !== undefined && !task.transfer.complete) return
    task.state = 'executing'
    const bytes = task.expectedReadLength
    if (bytes === 0) {
      void this.#execute(task)
      return
    }
    task.connection.admit(bytes, this.#startAdmitted, task)
  }

  /** Give back the Data-In budget a read held on its connection. */
  #releaseAdmission(task: Task<C>): void {
    if (task.admitted === 0) return
    const bytes = task.admitted
    task.admitted = 0
    task.connection.released(bytes)
  }

  /**
   * Execute, then answer. Never rejects: a failure of the transport itself (never expected) ends the connection
   * instead of the process.
   */
  async #execute(task: Task<C>): Promise<void> {
    try {
      if (task.terminated || task.connection.closed) {
        this.#finish(task)
        this.#releaseAdmission(task)
        return
      }
      const route = this.view.route(task.lun, task.cdb, task.expectedReadLength)
      let result: ScsiResult
      if (route.kind === 'local' || this.node === undefined || this.nexus === undefined) {
        result = route.kind === 'local' ? route.result : { status: STATUS_CHECK_CONDITION, sense: lunNotSupported() }
      } else {
        // The device admits the task before its first await, so from here terminateTask can abort it by tag.
        task.deviceLun = route.lun
        try {
          result = await this.node.device.execute(
            task.write
              ? {
                  nexus: this.nexus,
                  lun: route.lun,
                  cdb: task.cdb,
                  tag: task.itt,
                  attribute: task.attribute,
                  dataOut: task.transfer?.data ?? EMPTY,
                  // What the initiator announced (RFC 7143 11.4.6), which the device checks against the CDB for
                  // commands whose data-out must match it exactly (COMPARE AND WRITE, WRITE SAME; SBC-3 5.2, 5.42).
                  expectedDataOutLength: task.expectedDataTransferLength,
                  expectedDataInLength: task.expectedReadLength,
                }
              : { nexus: this.nexus, lun: route.lun, cdb: task.cdb, tag: task.itt, attribute: task.attribute, expectedDataInLength: task.expectedReadLength },
          )
        } catch {
          result = { status: STATUS_CHECK_CONDITION, sense: fixedSense(SenseKeyCode.HARDWARE_ERROR, ...TransportAsc.INTERNAL_TARGET_FAILURE) }
        } finally {
          task.deviceLun = -1
        }
      }
      if (task.terminated || task.connection.closed) {
        this.#finish(task)
        this.#releaseAdmission(task)
        return
      }
      this.#respond(task, result)
      this.#releaseAdmission(task)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      publishError({ kind: 'internal', message, remote: task.connection.remote, code: TargetErrorCode.Connection })
      this.#finish(task)
      this.#releaseAdmission(task)
      task.connection.close(`internal error: ${message}`)
    }
  }

  /** Send Data-In and status for a task, then forget it (RFC 7143 11.4, 11.7). */
  #respond(task: Task<C>, result: ScsiResult): void {
    const connection = task.connection
    const readLength = task.expectedReadLength
    let dataIn = task.read ? (result.dataIn ?? EMPTY) : EMPTY
    if (dataIn.length > readLength) dataIn = dataIn.subarray(0, readLength)
    const dataInLength = result.dataInLength ?? (result.dataIn?.length ?? 0)
    const dataOutLength = result.dataOutLength ?? task.wantedOut
    const residuals = commandResiduals({
      read: task.read,
      write: task.write,
      expectedDataTransferLength: task.expectedDataTransferLength,
      expectedBidirectionalReadLength: task.expectedBidirectionalReadLength,
      dataInLength,
      dataOutLength,
    })
    const firstDataSN = task.transfer?.r2tCount ?? 0
    const dataPdusBefore = task.dataPdus
    // A pooled read buffer goes back once the socket has written the last Data-In that carries it (writes complete
    // in order); a dropped response leaves it to the GC.
    const release = result.release
    // Free the task's slot first so the MaxCmdSN of this response already counts it (RFC 7143 4.2.2.1).
    this.#finish(task)
    if (connection.closed) return
    // Status rides on the last Data-In (S bit) when there is no sense and the command is not bidirectional: only
    // the SCSI Response carries sense and the bidirectional read residual (RFC 7143 11.7.3, 11.4.5.2).
    const collapse = dataIn.length > 0 && result.sense === undefined && !(task.read && task.write)
    let sent = 0
    const maxBurst = this.parameters.maxBurstLength
    if (dataIn.length > 0 && dataIn.length <= connection.maxSendDataSegmentLength && dataIn.length <= maxBurst) {
      // One Data-In carries it all (the common case): no segment walk, and the PDU is built in place (RFC 7143
      // 11.7; the fields dataInPdu would set).
      const residual = collapse ? residuals.main : NO_RESIDUAL
      const pdu: DataInPdu = {
        opcode: 0x25,
        final: true,
        acknowledge: false,
        overflow: residual.overflow,
        underflow: residual.underflow,
        statusPresent: collapse,
        status: collapse ? result.status : 0,
        lun: 0n,
        itt: task.itt,
        ttt: RESERVED_TAG,
        statSN: collapse ? connection.takeStatSN() : 0,
        expCmdSN: this.window.expCmdSN,
        maxCmdSN: this.window.maxCmdSN,
        dataSN: firstDataSN >>> 0,
        bufferOffset: 0,
        residualCount: residual.count,
        data: dataIn,
      }
      connection.send(pdu, release)
      sent = 1
    } else if (dataIn.length > 0) {
      for (const segment of dataInSegments(dataIn.length, connection.maxSendDataSegmentLength, maxBurst, firstDataSN)) {
        const status =
          collapse && segment.last ? { status: result.status, residual: residuals.main, statSN: connection.takeStatSN() } : undefined
        connection.send(
          dataInPdu({
            itt: task.itt,
            data: dataIn.subarray(segment.offset, segment.offset + segment.length),
            offset: segment.offset,
            dataSN: segment.dataSN,
            final: segment.final,
            status,
            expCmdSN: this.window.expCmdSN,
            maxCmdSN: this.window.maxCmdSN,
          }),
          segment.last ? release : undefined,
        )
        sent++
      }
    } else {
      // Nothing of the buffer is sent (a read the initiator expects no data of).
      release?.()
    }
    if (!collapse) {
      // SCSI Response (RFC 7143 11.4), built in place: the fields scsiResponsePdu would set.
      const { main, bidiRead } = residuals
      const pdu: ScsiResponsePdu = {
        opcode: 0x21,
        bidiOverflow: bidiRead.overflow,
        bidiUnderflow: bidiRead.underflow,
        overflow: main.overflow,
        underflow: main.underflow,
        response: ScsiResponseCode.CommandCompleted,
        status: result.status,
        itt: task.itt,
        snackTag: 0,
        statSN: connection.takeStatSN(),
        expCmdSN: this.window.expCmdSN,
        maxCmdSN: this.window.maxCmdSN,
        expDataSN: dataPdusBefore + sent,
        bidiReadResidualCount: bidiRead.count,
        residualCount: main.count,
        data: senseSegment(result.sense),
      }
      connection.send(pdu)
    }
    if (channels.command.hasSubscribers) {
      channels.command.publish({
        targetName: this.targetName ?? '',
        lun: task.lun,
        opcode: task.cdb[0] ?? 0,
        bytesIn: dataIn.length,
        bytesOut: task.transfer?.data.length ?? 0,
        // 0 for a command that arrived before anyone subscribed.
        durationNs: task.startedAt > 0 ? Math.round((performance.now() - task.startedAt) * 1e6) : 0,
        status: result.status,
      })
    }
  }

  /** Bookkeeping when a task ends, answered or not. */
  #finish(task: Task<C>): void {
    if (task.state === 'done') return
    if (this.tasks.get(task.itt) === task) this.tasks.delete(task.itt)
    task.connection.rememberEnded(task.itt)
    if (task.holdsSlot) {
      task.holdsSlot = false
      this.releaseSlot()
    }
    if (task.immediate) this.#immediateTasks--
    if (task.reservedBytes > 0) {
      this.#host.releaseWriteBytes(task.reservedBytes)
      task.reservedBytes = 0
    }
    task.markDone()
  }

  /**
   * Terminate a task without any response (task management, logout, connection loss; RFC 7143 4.2.3.3). A task in
   * the device is told through its AbortSignal; it is forgotten when the device returns.
   */
  terminateTask(task: Task<C>): void {
    if (task.state === 'done' || task.terminated) return
    task.terminated = true
    if (task.deviceLun >= 0 && this.node !== undefined && this.nexus !== undefined) {
      // In the device: abort it there (SAM-5 7.2); it is forgotten when the device returns.
      this.node.device.abortTask(this.nexus, task.deviceLun, task.itt)
    }
    task.connection.rememberEnded(task.itt)
    if (this.tasks.get(task.itt) === task) this.tasks.delete(task.itt)
    if (task.state === 'receiving') this.#finish(task)
    // A read still waiting for its connection's send queue to drain has not reached the device: nothing to wait
    // for (SAM-5 7.6 only asks that it be terminated), so it leaves the queue and ends now.
    else if (task.state === 'executing' && task.admitted === 0 && task.connection.withdraw(task)) this.#finish(task)
  }

  /** Tasks of this session, optionally only those of one initiator-visible LUN or one connection. */
  tasksWhere(filter: { readonly lun?: number; readonly connection?: C } = {}): Task<C>[] {
    return [...this.tasks.values()].filter(
      (task) => (filter.lun === undefined || task.lun === filter.lun) && (filter.connection === undefined || task.connection === filter.connection),
    )
  }

  /** Tasks of this session whose target LUN is `targetLun`. */
  tasksOnTargetLun(targetLun: number): Task<C>[] {
    return [...this.tasks.values()].filter((task) => task.lun >= 0 && this.view.resolve(task.lun) === targetLun)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Connections and teardown

  addConnection(connection: C): void {
    this.connections.set(connection.cid, connection)
  }

  /**
   * A connection left. `failed` at ErrorRecoveryLevel 0 means session recovery: the whole session goes
   * (RFC 7143 6.1.5.1). A clean removal (Logout "close the connection", connection reinstatement) only terminates
   * that connection's tasks; the session ends with its last connection.
   */
  removeConnection(connection: C, options: { readonly failed: boolean; readonly reason: string; readonly replaced?: boolean }): void {
    if (this.connections.get(connection.cid) !== connection) return
    this.connections.delete(connection.cid)
    for (const task of this.tasksWhere({ connection })) this.terminateTask(task)
    if (this.#closed) return
    // A reinstated connection is replaced at once by the one logging in: the session does not end in between.
    if (options.failed || (this.connections.size === 0 && options.replaced !== true)) this.close(options.reason)
  }

  /** End the session: terminate every task, close every connection, report the I_T nexus loss. */
  close(reason: string, keep?: C): void {
    if (this.#closed) return
    this.#closed = true
    for (const task of [...this.tasks.values()]) this.terminateTask(task)
    this.window.clear()
    // Graceful: whatever is queued (a TMF or Logout Response) still reaches the initiator before the FIN.
    for (const connection of [...this.connections.values()]) {
      if (connection !== keep) connection.close(reason, true)
    }
    this.connections.clear()
    if (this.nexus !== undefined && this.node !== undefined) {
      try {
        this.node.device.nexusLoss(this.nexus)
      } catch {
        // The device reports through its own channels; the session is gone either way.
      }
    }
    this.#host.sessionClosed(this, reason)
  }
}

function lunNotSupported(): Buffer {
  return fixedSense(SenseKeyCode.ILLEGAL_REQUEST, ...TransportAsc.LOGICAL_UNIT_NOT_SUPPORTED)
}
