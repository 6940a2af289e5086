// A small in-process iSCSI target for the initiator's tests, made from the pdu codecs and the negotiation engine:
// a RAM disk behind one target name, with hooks that let a test hold, answer or drop any command, shape the CmdSN
// window, split Data-In, solicit Data-Out with R2Ts, send Async Messages and NOP-In pings, and drop connections.
// It is a test peer, not a target: one LU, ERL 0, no ACLs.
import { createServer, type Server, type Socket } from 'node:net'
import {
  TargetLoginNegotiation,
  type AuthPolicy,
  type ConnectionParameters,
  type OperationalPreferences,
  type SessionParameters,
} from '@iscsi-ts/negotiation'
import {
  Opcode,
  PduFramer,
  RESERVED_TAG,
  serializePdu,
  type DataOutPdu,
  type InitiatorPdu,
  type Pdu,
  type ScsiCommandPdu,
  type TargetPdu,
} from '@iscsi-ts/pdu'

export interface FakeResult {
  status: number
  /** Sense bytes (fixed format) for CHECK CONDITION. */
  sense?: Buffer
  data?: Buffer
}

/** What a test hook decides for a command: answer it, hold it (answer later through `respond`), or drop the link. */
export type FakeAction = FakeResult | 'hold' | 'drop-connection' | 'ignore' | undefined

export interface FakeCommand {
  readonly itt: number
  readonly cmdSN: number
  readonly lun: bigint
  readonly cdb: Buffer
  /** All data-out received for the command. */
  readonly dataOut: Buffer
  readonly expectedDataTransferLength: number
  readonly connection: FakeConnection
  /** Answers a held command. */
  respond(result: FakeResult): void
}

export interface FakeTargetOptions {
  targetName?: string
  blockSize?: number
  blockCount?: number
  /** Operational limits the target negotiates with (see @iscsi-ts/negotiation OperationalPreferences). */
  limits?: OperationalPreferences
  /** The CmdSN window: MaxCmdSN = ExpCmdSN + queueDepth - 1 - commands held (default 32). */
  queueDepth?: number
  /** Largest Data-In segment (default: what the initiator declared). */
  dataInSegment?: number
  /** Put the status in the last Data-In (S bit) when it can (default true). */
  collapseStatus?: boolean
  /** Bytes per R2T (default: the negotiated MaxBurstLength). */
  r2tLength?: number
  /** Send this many R2Ts at once for one command (default 1). */
  outstandingR2T?: number
  chap?: { user: string; secret: string }
  /** Answer the first `count` logins with a redirect to `address` (host:port[,tpgt]). */
  redirect?: { address: string; permanent: boolean; count: number }
  /** Called for each command once its data-out is complete; undefined = the RAM disk answers. */
  onCommand?: (command: FakeCommand) => FakeAction
  /** Answer NOP-Out pings (default true). */
  answerPings?: boolean
  /** Answer ABORT TASK and other task management (default true). */
  answerTaskManagement?: boolean
  /** Extra target names listed by SendTargets=All (all at this portal). */
  extraTargets?: string[]
  /** Largest Text Response data segment: longer SendTargets answers go out in pieces with C=1 (default 8192). */
  textSegment?: number
}

interface WriteState {
  pdu: ScsiCommandPdu
  data: Buffer
  received: number
  r2tSN: number
  /** Offset up to which R2Ts were sent. */
  solicited: number
  outstanding: number
}

const TEST_UNIT_READY = 0x00
const INQUIRY = 0x12
const READ_CAPACITY_10 = 0x25
const READ_10 = 0x28
const WRITE_10 = 0x2a
const SYNC_CACHE_10 = 0x35
const READ_16 = 0x88
const WRITE_16 = 0x8a
const SERVICE_ACTION_IN_16 = 0x9e
const REPORT_LUNS = 0xa0

/** Fixed-format sense data (SPC-4 4.5.3) with key, ASC and ASCQ. */
export function fixedSense(key: number, asc: number, ascq: number): Buffer {
  const sense = Buffer.alloc(18)
  sense[0] = 0x70
  sense[2] = key
  sense[7] = 10
  sense[12] = asc
  sense[13] = ascq
  return sense
}

export class FakeConnection {
  readonly socket: Socket
  readonly target: FakeTarget
  statSN = 0x1000
  parameters: ConnectionParameters | undefined
  cid = 0
  readonly #framer: PduFramer
  #login: TargetLoginNegotiation | undefined
  readonly writes = new Map<number, WriteState>()
  /** The PDUs received on this connection. */
  readonly log: InitiatorPdu[] = []
  /** The rest of a Text Response still to send. */
  pendingText: Buffer = Buffer.alloc(0)

  constructor(target: FakeTarget, socket: Socket) {
    this.target = target
    this.socket = socket
    this.#framer = new PduFramer({
      role: 'target',
      maxRecvDataSegmentLength: 262144,
      onPdu: (pdu) => this.#onPdu(pdu),
      onError: () => socket.destroy(),
    })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#framer.push(chunk))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => target.removeConnection(this))
  }

  send(pdu: TargetPdu): void {
    if (this.socket.destroyed) return
    const digests = { headerDigest: this.parameters?.headerDigest === 'CRC32C', dataDigest: this.parameters?.dataDigest === 'CRC32C' }
    this.socket.cork()
    for (const part of serializePdu(pdu, digests)) this.socket.write(part)
    this.socket.uncork()
  }

  /** The StatSN for a status PDU (advances) or for a PDU that only reports it. */
  nextStatSN(advance: boolean): number {
    const value = this.statSN
    if (advance) this.statSN = (this.statSN + 1) >>> 0
    return value
  }

  #onPdu(pdu: Pdu): void {
    const initiatorPdu = pdu as InitiatorPdu
    this.target.log.push(initiatorPdu)
    this.log.push(initiatorPdu)
    if (initiatorPdu.opcode === Opcode.LoginRequest) {
      this.#onLogin(initiatorPdu)
      return
    }
    this.target.handle(this, initiatorPdu)
  }

  #onLogin(pdu: Extract<InitiatorPdu, { opcode: 0x03 }>): void {
    const target = this.target
    if (this.#login === undefined) {
      target.logins++
      const redirect = target.options.redirect
      const redirectNow = redirect !== undefined && target.logins <= redirect.count
      const auth: AuthPolicy = target.options.chap
        ? { methods: ['CHAP'], chap: { lookup: (user) => (user === target.options.chap!.user ? target.options.chap!.secret : undefined) } }
        : { methods: ['None'] }
      this.#login = new TargetLoginNegotiation(
        {
          resolveTarget: () => ({
            exists: true,
            allowed: true,
            auth,
            portalGroupTag: 1,
            ...(redirectNow ? { redirect: { address: redirect.address, permanent: redirect.permanent } } : {}),
          }),
          discovery: { auth },
          ...(target.options.limits ? { limits: target.options.limits } : {}),
        },
        pdu.tsih !== 0 && target.sessionParameters ? { session: target.sessionParameters } : {},
      )
      this.cid = pdu.cid
    }
    const step = this.#login.receive({ transit: pdu.transit, continue: pdu.continue, csg: pdu.csg, nsg: pdu.nsg, data: pdu.data, isid: pdu.isid, tsih: pdu.tsih })
    const leading = pdu.tsih === 0
    if (step.done && step.parameters && leading) {
      target.sessionParameters = step.parameters.session
      target.tsih = (target.tsih + 1) & 0xffff || 1
      target.expCmdSN = pdu.cmdSN
    }
    this.send({
      opcode: Opcode.LoginResponse,
      transit: step.transit,
      continue: step.continue,
      csg: step.csg,
      nsg: step.nsg,
      versionMax: 0,
      versionActive: 0,
      isid: pdu.isid,
      tsih: step.done && step.parameters ? target.tsih : pdu.tsih,
      itt: pdu.itt,
      statSN: this.nextStatSN(true),
      expCmdSN: target.expCmdSN,
      maxCmdSN: target.maxCmdSN(),
      statusClass: step.statusClass,
      statusDetail: step.statusDetail,
      data: step.data,
    })
    if (step.done) {
      if (step.parameters) {
        // Digests start with the next PDU in each direction (RFC 7143 13.1).
        this.parameters = step.parameters.connection
        this.#framer.setDigests({ headerDigest: this.parameters.headerDigest === 'CRC32C', dataDigest: this.parameters.dataDigest === 'CRC32C' })
        this.#framer.setMaxRecvDataSegmentLength(this.parameters.maxRecvDataSegmentLength)
      } else {
        this.socket.end()
      }
    }
  }
}

export class FakeTarget {
  readonly options: FakeTargetOptions
  readonly host = '127.0.0.1'
  port = 0
  readonly targetName: string
  readonly blockSize: number
  readonly disk: Buffer
  /** Every PDU received, in order. */
  readonly log: InitiatorPdu[] = []
  readonly connections = new Set<FakeConnection>()
  /** Commands a hook held, in arrival order. */
  readonly held: FakeCommand[] = []
  logins = 0
  tsih = 0
  expCmdSN = 0
  queueDepth: number
  sessionParameters: SessionParameters | undefined
  readonly #server: Server

  private constructor(options: FakeTargetOptions) {
    this.options = options
    this.targetName = options.targetName ?? 'iqn.2026-11.io.iscsi-ts.test:fake'
    this.blockSize = options.blockSize ?? 512
    this.disk = Buffer.alloc(this.blockSize * (options.blockCount ?? 2048))
    this.queueDepth = options.queueDepth ?? 32
    this.#server = createServer((socket) => this.connections.add(new FakeConnection(this, socket)))
  }

  static async start(options: FakeTargetOptions = {}): Promise<FakeTarget> {
    const target = new FakeTarget(options)
    await new Promise<void>((resolve, reject) => {
      target.#server.once('error', reject)
      target.#server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = target.#server.address()
    target.port = typeof address === 'object' && address !== null ? address.port : 0
    return target
  }

  /** Listens again on the same port after `close()` (a target coming back). */
  async restart(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.port, '127.0.0.1', () => resolve())
    })
  }

  get url(): string {
    return `iscsi://${this.host}:${this.port}/${this.targetName}/0`
  }

  maxCmdSN(): number {
    return (this.expCmdSN + this.queueDepth - 1 - this.held.length) >>> 0
  }

  removeConnection(connection: FakeConnection): void {
    this.connections.delete(connection)
  }

  /** Destroys every connection (a crash of the network or the target). */
  dropConnections(): void {
    for (const connection of this.connections) connection.socket.destroy()
    this.connections.clear()
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** The PDUs of one opcode received so far. */
  received<O extends InitiatorPdu['opcode']>(opcode: O): Array<Extract<InitiatorPdu, { opcode: O }>> {
    return this.log.filter((pdu): pdu is Extract<InitiatorPdu, { opcode: O }> => pdu.opcode === opcode)
  }

  /** Sends an Asynchronous Message on every full-feature connection (RFC 7143 11.9). */
  sendAsync(asyncEvent: number, parameters: { parameter1?: number; parameter2?: number; parameter3?: number; data?: Buffer; lun?: bigint } = {}): void {
    for (const connection of this.connections) {
      if (connection.parameters === undefined) continue
      connection.send({
        opcode: Opcode.AsyncMessage,
        lun: parameters.lun ?? 0n,
        statSN: connection.nextStatSN(true),
        expCmdSN: this.expCmdSN,
        maxCmdSN: this.maxCmdSN(),
        asyncEvent,
        asyncVCode: 0,
        parameter1: parameters.parameter1 ?? 0,
        parameter2: parameters.parameter2 ?? 0,
        parameter3: parameters.parameter3 ?? 0,
        data: parameters.data ?? Buffer.alloc(0),
      })
    }
  }

  /** Pings the initiator with a NOP-In carrying a TTT (it must answer with a NOP-Out echoing it). */
  sendNopIn(ttt: number, data: Buffer = Buffer.alloc(0)): void {
    for (const connection of this.connections) {
      if (connection.parameters === undefined) continue
      connection.send({
        opcode: Opcode.NopIn,
        lun: 0n,
        itt: RESERVED_TAG,
        ttt,
        statSN: connection.nextStatSN(false),
        expCmdSN: this.expCmdSN,
        maxCmdSN: this.maxCmdSN(),
        data,
      })
    }
  }

  /** Advertises a new window on every connection with a NOP-In (the initiator picks up MaxCmdSN from it). */
  setQueueDepth(depth: number): void {
    this.queueDepth = depth
    this.sendNopIn(RESERVED_TAG)
  }

  handle(connection: FakeConnection, pdu: InitiatorPdu): void {
    switch (pdu.opcode) {
      case Opcode.ScsiCommand:
        if (!pdu.immediate) this.expCmdSN = (pdu.cmdSN + 1) >>> 0
        this.#onCommand(connection, pdu)
        return
      case Opcode.DataOut:
        this.#onDataOut(connection, pdu)
        return
      case Opcode.NopOut:
        if (pdu.itt === RESERVED_TAG || this.options.answerPings === false) return
        connection.send({
          opcode: Opcode.NopIn,
          lun: pdu.lun,
          itt: pdu.itt,
          ttt: RESERVED_TAG,
          statSN: connection.nextStatSN(true),
          expCmdSN: this.expCmdSN,
          maxCmdSN: this.maxCmdSN(),
          data: pdu.data,
        })
        return
      case Opcode.TaskManagementRequest: {
        if (this.options.answerTaskManagement === false) return
        let response = 0
        if (pdu.function === 1) {
          // ABORT TASK: forget the task; "task does not exist" when it is not (or no longer) here.
          const index = this.held.findIndex((c) => c.itt === pdu.referencedTaskTag)
          if (index >= 0) this.held.splice(index, 1)
          else if (!connection.writes.delete(pdu.referencedTaskTag)) response = 1
        } else if (pdu.function === 5 || pdu.function === 2) {
          this.held.splice(0, this.held.length)
          connection.writes.clear()
        }
        connection.send({
          opcode: Opcode.TaskManagementResponse,
          response,
          itt: pdu.itt,
          statSN: connection.nextStatSN(true),
          expCmdSN: this.expCmdSN,
          maxCmdSN: this.maxCmdSN(),
          data: Buffer.alloc(0),
        })
        return
      }
      case Opcode.LogoutRequest:
        connection.send({
          opcode: Opcode.LogoutResponse,
          response: 0,
          itt: pdu.itt,
          statSN: connection.nextStatSN(true),
          expCmdSN: this.expCmdSN,
          maxCmdSN: this.maxCmdSN(),
          time2Wait: 0,
          time2Retain: 0,
          data: Buffer.alloc(0),
        })
        connection.socket.end()
        return
      case Opcode.TextRequest:
        if (!pdu.immediate) this.expCmdSN = (pdu.cmdSN + 1) >>> 0
        this.#onText(connection, pdu)
        return
      default:
        return
    }
  }

  /** SendTargets=All answered in pieces of `textSegment` bytes (C=1, TTT 0x777, RFC 7143 11.11.2); other text empty. */
  #onText(connection: FakeConnection, pdu: Extract<InitiatorPdu, { opcode: 0x04 }>): void {
    if (pdu.ttt === RESERVED_TAG) {
      const asked = pdu.data.toString('utf8').includes('SendTargets=')
      const names = [this.targetName, ...(this.options.extraTargets ?? [])]
      connection.pendingText = asked ? Buffer.from(names.map((name) => `TargetName=${name}\0TargetAddress=${this.host}:${this.port},1\0`).join('')) : Buffer.alloc(0)
    }
    const segment = this.options.textSegment ?? 8192
    const piece = connection.pendingText.subarray(0, segment)
    connection.pendingText = connection.pendingText.subarray(piece.length)
    const more = connection.pendingText.length > 0
    connection.send({
      opcode: Opcode.TextResponse,
      final: !more,
      continue: more,
      lun: 0n,
      itt: pdu.itt,
      ttt: more ? 0x777 : RESERVED_TAG,
      statSN: connection.nextStatSN(true),
      expCmdSN: this.expCmdSN,
      maxCmdSN: this.maxCmdSN(),
      data: piece,
    })
  }

  #onCommand(connection: FakeConnection, pdu: ScsiCommandPdu): void {
    if (!pdu.write) {
      this.#execute(connection, pdu, Buffer.alloc(0))
      return
    }
    const state: WriteState = {
      pdu,
      data: Buffer.alloc(pdu.expectedDataTransferLength),
      received: 0,
      r2tSN: 0,
      solicited: 0,
      outstanding: 0,
    }
    pdu.data.copy(state.data, 0)
    state.received = pdu.data.length
    state.solicited = pdu.final ? pdu.data.length : Math.min(pdu.expectedDataTransferLength, this.sessionParameters?.firstBurstLength ?? 0)
    connection.writes.set(pdu.itt, state)
    this.#progressWrite(connection, state)
  }

  #onDataOut(connection: FakeConnection, pdu: DataOutPdu): void {
    const state = connection.writes.get(pdu.itt)
    if (state === undefined) return
    pdu.data.copy(state.data, pdu.bufferOffset)
    state.received += pdu.data.length
    if (pdu.final && pdu.ttt !== RESERVED_TAG) state.outstanding--
    this.#progressWrite(connection, state)
  }

  #progressWrite(connection: FakeConnection, state: WriteState): void {
    const total = state.pdu.expectedDataTransferLength
    if (state.received >= total) {
      connection.writes.delete(state.pdu.itt)
      this.#execute(connection, state.pdu, state.data)
      return
    }
    if (state.received < state.solicited) return // unsolicited data still coming
    const burst = this.options.r2tLength ?? this.sessionParameters?.maxBurstLength ?? 262144
    const maxOutstanding = this.options.outstandingR2T ?? 1
    while (state.outstanding < maxOutstanding && state.solicited < total) {
      const length = Math.min(burst, total - state.solicited)
      connection.send({
        opcode: Opcode.R2T,
        lun: state.pdu.lun,
        itt: state.pdu.itt,
        ttt: 0x100 + state.r2tSN,
        statSN: connection.nextStatSN(false),
        expCmdSN: this.expCmdSN,
        maxCmdSN: this.maxCmdSN(),
        r2tSN: state.r2tSN++,
        bufferOffset: state.solicited,
        desiredDataTransferLength: length,
        data: Buffer.alloc(0),
      })
      state.solicited += length
      state.outstanding++
    }
  }

  #execute(connection: FakeConnection, pdu: ScsiCommandPdu, dataOut: Buffer): void {
    let answered = false
    const command: FakeCommand = {
      itt: pdu.itt,
      cmdSN: pdu.cmdSN,
      lun: pdu.lun,
      cdb: pdu.cdb,
      dataOut,
      expectedDataTransferLength: pdu.expectedDataTransferLength,
      connection,
      respond: (result) => {
        if (answered) return
        answered = true
        const index = this.held.indexOf(command)
        if (index >= 0) this.held.splice(index, 1)
        this.#respond(connection, pdu, result)
      },
    }
    const action = this.options.onCommand?.(command)
    if (action === 'hold') {
      this.held.push(command)
      return
    }
    if (action === 'ignore') return
    if (action === 'drop-connection') {
      connection.socket.destroy()
      return
    }
    command.respond(action ?? this.#disk(pdu.cdb, dataOut))
  }

  #respond(connection: FakeConnection, pdu: ScsiCommandPdu, result: FakeResult): void {
    const edtl = pdu.expectedDataTransferLength
    const data = result.data ?? Buffer.alloc(0)
    const sent = pdu.read ? data.subarray(0, Math.min(data.length, edtl)) : Buffer.alloc(0)
    const residual = pdu.read ? data.length - edtl : 0
    const overflow = residual > 0
    const underflow = residual < 0
    const residualCount = Math.abs(residual)
    const segment = this.options.dataInSegment ?? connection.parameters?.maxSendDataSegmentLength ?? 8192
    const collapse = (this.options.collapseStatus ?? true) && result.status === 0 && result.sense === undefined && sent.length > 0
    for (let offset = 0, dataSN = 0; offset < sent.length; offset += segment, dataSN++) {
      const piece = sent.subarray(offset, offset + segment)
      const last = offset + piece.length >= sent.length
      const withStatus = last && collapse
      connection.send({
        opcode: Opcode.DataIn,
        final: last,
        acknowledge: false,
        overflow: withStatus && overflow,
        underflow: withStatus && underflow,
        statusPresent: withStatus,
        status: withStatus ? result.status : 0,
        lun: pdu.lun,
        itt: pdu.itt,
        ttt: RESERVED_TAG,
        statSN: withStatus ? connection.nextStatSN(true) : 0,
        expCmdSN: this.expCmdSN,
        maxCmdSN: this.maxCmdSN(),
        dataSN,
        bufferOffset: offset,
        residualCount: withStatus ? residualCount : 0,
        data: piece,
      })
    }
    if (collapse) return
    let senseSegment = Buffer.alloc(0)
    if (result.sense) {
      senseSegment = Buffer.alloc(2 + result.sense.length)
      senseSegment.writeUInt16BE(result.sense.length, 0)
      result.sense.copy(senseSegment, 2)
    }
    connection.send({
      opcode: Opcode.ScsiResponse,
      bidiOverflow: false,
      bidiUnderflow: false,
      overflow,
      underflow,
      response: 0,
      status: result.status,
      itt: pdu.itt,
      snackTag: 0,
      statSN: connection.nextStatSN(true),
      expCmdSN: this.expCmdSN,
      maxCmdSN: this.maxCmdSN(),
      expDataSN: 0,
      bidiReadResidualCount: 0,
      residualCount,
      data: senseSegment,
    })
  }

  /** The RAM disk: enough of SPC/SBC for the initiator's tests. */
  #disk(cdb: Buffer, dataOut: Buffer): FakeResult {
    const blocks = this.disk.length / this.blockSize
    const illegal = (asc: number): FakeResult => ({ status: 2, sense: fixedSense(0x05, asc, 0) })
    const range = (lba: bigint, count: number): [number, number] | undefined => {
      if (lba + BigInt(count) > BigInt(blocks)) return undefined
      return [Number(lba) * this.blockSize, count * this.blockSize]
    }
    switch (cdb[0]) {
      case TEST_UNIT_READY:
      case SYNC_CACHE_10:
        return { status: 0 }
      case INQUIRY: {
        const data = Buffer.alloc(36)
        data[2] = 6
        data[3] = 2
        data[4] = 31
        data[7] = 0x02
        data.write('FAKE    ', 8, 'latin1')
        data.write('RAMDISK         ', 16, 'latin1')
        data.write('0001', 32, 'latin1')
        return { status: 0, data }
      }
      case READ_CAPACITY_10: {
        const data = Buffer.alloc(8)
        data.writeUInt32BE(blocks - 1, 0)
        data.writeUInt32BE(this.blockSize, 4)
        return { status: 0, data }
      }
      case SERVICE_ACTION_IN_16: {
        if ((cdb[1]! & 0x1f) !== 0x10) return illegal(0x24)
        const data = Buffer.alloc(32)
        data.writeBigUInt64BE(BigInt(blocks - 1), 0)
        data.writeUInt32BE(this.blockSize, 8)
        return { status: 0, data }
      }
      case READ_10:
      case READ_16: {
        const lba = cdb[0] === READ_10 ? BigInt(cdb.readUInt32BE(2)) : cdb.readBigUInt64BE(2)
        const count = cdb[0] === READ_10 ? cdb.readUInt16BE(7) : cdb.readUInt32BE(10)
        const r = range(lba, count)
        if (r === undefined) return illegal(0x21)
        return { status: 0, data: Buffer.from(this.disk.subarray(r[0], r[0] + r[1])) }
      }
      case WRITE_10:
      case WRITE_16: {
        const lba = cdb[0] === WRITE_10 ? BigInt(cdb.readUInt32BE(2)) : cdb.readBigUInt64BE(2)
        const count = cdb[0] === WRITE_10 ? cdb.readUInt16BE(7) : cdb.readUInt32BE(10)
        const r = range(lba, count)
        if (r === undefined) return illegal(0x21)
        dataOut.copy(this.disk, r[0], 0, r[1])
        return { status: 0 }
      }
      case REPORT_LUNS: {
        const data = Buffer.alloc(16)
        data.writeUInt32BE(8, 0)
        return { status: 0, data }
      }
      default:
        return illegal(0x20)
    }
  }
}
