// Test helpers for other packages (the `./testing` subpath):
// - startTestTarget: an IscsiTarget with memory LUNs on 127.0.0.1, an ephemeral port.
// - RawConnection: a raw PDU client for protocol tests: connect, send PDUs built with @iscsi-ts/pdu, receive decoded
//   PDUs with a timeout, run a standard login, issue SCSI commands and collect their Data-In and status.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { Opcode, PduFramer, RESERVED_TAG, encodeLun, serializePdu } from '@iscsi-ts/pdu'
import type {
  DataInPdu,
  DataOutPdu,
  DigestOptions,
  LoginRequestPdu,
  LoginResponsePdu,
  Pdu,
  PduError,
  PduOf,
  ScsiCommandPdu,
  ScsiResponsePdu,
} from '@iscsi-ts/pdu'
import { InitiatorLoginNegotiation, LoginRejectedError } from '@iscsi-ts/negotiation'
import type { ChapSecret, NegotiatedParameters, OperationalPreferences, SessionTypeName } from '@iscsi-ts/negotiation'
import { LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import type { Backstore } from '@iscsi-ts/scsi'
import type { AclConfig, AuthConfig, IscsiTargetOptions, Limits } from './config.js'
import { IscsiTarget } from './target.js'

/** PDUs `waitClosed` keeps of those received while it waits (a flood before the close stays bounded). */
const KEPT_BEFORE_CLOSE = 64

// ---------------------------------------------------------------------------------------------------------------
// startTestTarget

export interface TestTargetOptions {
  /** Target IQN (default iqn.2026-11.io.iscsi-ts:test). */
  targetName?: string
  /** LUN sizes in bytes, LUN 0 first (default one LUN of 16 MiB). */
  luns?: number[]
  blockSize?: number
  /** Backstores to serve instead of memory LUNs (LUN i is backstores[i]). */
  backstores?: Backstore[]
  acls?: AclConfig[]
  auth?: AuthConfig
  discoveryAuth?: AuthConfig
  limits?: Limits
  /** Listen address (default 127.0.0.1). */
  host?: string
}

export interface TestTarget {
  readonly target: IscsiTarget
  readonly targetName: string
  readonly host: string
  readonly port: number
  /** iscsi://host:port/IQN/0 */
  readonly url: string
  readonly options: IscsiTargetOptions
  close(): Promise<void>
}

/** An IscsiTarget serving memory LUNs on a free loopback port. */
export async function startTestTarget(options: TestTargetOptions = {}): Promise<TestTarget> {
  const targetName = options.targetName ?? 'iqn.2026-11.io.iscsi-ts:test'
  const host = options.host ?? '127.0.0.1'
  const backstores =
    options.backstores ?? (options.luns ?? [16 * 1024 * 1024]).map((size) => new MemoryBackstore({ size, blockSize: options.blockSize ?? 512 }))
  const luns = new Map<number, LogicalUnit>()
  backstores.forEach((backstore, lun) => luns.set(lun, new LogicalUnit({ backstore, serial: `test-${lun}` })))
  const targetOptions: IscsiTargetOptions = {
    portalGroups: [{ tag: 1, portals: [{ host, port: 0 }] }],
    targets: [
      {
        name: targetName,
        portalGroups: [1],
        luns,
        ...(options.acls !== undefined ? { acls: options.acls } : {}),
        ...(options.auth !== undefined ? { auth: options.auth } : {}),
      },
    ],
    ...(options.discoveryAuth !== undefined ? { discoveryAuth: options.discoveryAuth } : {}),
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
  }
  const target = new IscsiTarget(targetOptions)
  const [bound] = await target.listen()
  if (bound === undefined) throw new Error('the test target bound no portal')
  const hostPart = host.includes(':') ? `[${host}]` : host
  return {
    target,
    targetName,
    host,
    port: bound.port,
    url: `iscsi://${hostPart}:${bound.port}/${targetName}/0`,
    options: targetOptions,
    close: () => target.close(),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// RawConnection

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError'
}

export interface RawLoginOptions {
  initiatorName?: string
  targetName?: string
  sessionType?: SessionTypeName
  isid?: Buffer
  tsih?: number
  cid?: number
  chap?: { user: string; secret: ChapSecret; mutual?: { user?: string; secret: ChapSecret } }
  operational?: OperationalPreferences
  /** Switch digests on after the login when they were negotiated (default true). */
  applyDigests?: boolean
}

export interface RawLoginResult {
  readonly tsih: number
  readonly parameters: NegotiatedParameters
  readonly responses: readonly LoginResponsePdu[]
}

export interface CommandOptions {
  lun?: number
  cdb: Buffer
  read?: boolean
  write?: boolean
  expectedDataTransferLength?: number
  /** Immediate data. */
  data?: Buffer
  /** F bit (default true: no unsolicited Data-Out follows). */
  final?: boolean
  immediate?: boolean
  attribute?: number
  itt?: number
  cmdSN?: number
  expectedBidirectionalReadLength?: number
}

export interface CommandResult {
  readonly status: number
  readonly sense: Buffer | undefined
  /** Data-In assembled by Buffer Offset. */
  readonly data: Buffer
  readonly overflow: boolean
  readonly underflow: boolean
  readonly residualCount: number
  readonly bidiReadResidualCount: number
  readonly dataIn: readonly DataInPdu[]
  readonly response: ScsiResponsePdu | undefined
  /** Every PDU received for the command, in order. */
  readonly pdus: readonly Pdu[]
}

export const DEFAULT_INITIATOR_NAME = 'iqn.2026-11.io.iscsi-ts:raw-initiator'

/** A raw iSCSI client over one TCP connection. */
export class RawConnection {
  readonly socket: Socket
  readonly #framer: PduFramer
  readonly #queue: Pdu[] = []
  readonly #errors: PduError[] = []
  #waiters: Array<() => void> = []
  #closed = false
  #digests: DigestOptions = {}
  /** The next CmdSN to use (set from the login; advance with `takeCmdSN`). */
  cmdSN = 0
  /** ExpStatSN to send (one past the last StatSN seen). */
  expStatSN = 0
  #itt = 0x10
  isid: Buffer = Buffer.from([0x80, 0, 0, 0, 0, 0])
  tsih = 0
  cid = 0
  parameters: NegotiatedParameters | undefined

  private constructor(socket: Socket) {
    this.socket = socket
    this.#framer = new PduFramer({
      role: 'initiator',
      maxRecvDataSegmentLength: 0xffffff,
      onPdu: (pdu) => {
        if ('statSN' in pdu && pdu.opcode !== Opcode.R2T && !(pdu.opcode === Opcode.DataIn && !pdu.statusPresent)) {
          if (!(pdu.opcode === Opcode.NopIn && pdu.itt === RESERVED_TAG)) this.expStatSN = (pdu.statSN + 1) >>> 0
        }
        this.#queue.push(pdu)
        this.#wake()
      },
      onError: (error) => {
        this.#errors.push(error)
        this.#wake()
      },
    })
    socket.on('data', (chunk: Buffer) => this.#framer.push(chunk))
    socket.on('close', () => {
      this.#closed = true
      this.#wake()
    })
    socket.on('error', () => undefined)
  }

  static connect(options: { host?: string; port: number; timeoutMs?: number }): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port, noDelay: true })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new TimeoutError('connect timed out'))
      }, options.timeoutMs ?? 5000)
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(new RawConnection(socket))
      })
      socket.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** True once the target closed the connection (or it was destroyed). */
  get closed(): boolean {
    return this.#closed
  }

  /** Framing errors seen on received bytes. */
  get errors(): readonly PduError[] {
    return this.#errors
  }

  /** PDUs received and not yet taken. */
  get queued(): readonly Pdu[] {
    return this.#queue
  }

  setDigests(digests: DigestOptions): void {
    this.#digests = { ...digests }
    this.#framer.setDigests(digests)
  }

  nextItt(): number {
    this.#itt = (this.#itt + 1) >>> 0
    if (this.#itt === RESERVED_TAG) this.#itt = 1
    return this.#itt
  }

  /** The CmdSN for a non-immediate command, advancing it. */
  takeCmdSN(): number {
    const sn = this.cmdSN
    this.cmdSN = (this.cmdSN + 1) >>> 0
    return sn
  }

  send(pdu: Pdu): void {
    for (const part of serializePdu(pdu, this.#digests)) this.socket.write(part)
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  #wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake)
        resolve(false)
      }, timeoutMs)
      const wake = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      this.#waiters.push(wake)
    })
  }

  /** The next PDU; rejects with TimeoutError, or an Error when the connection closed first. */
  async receive(timeoutMs = 5000): Promise<Pdu> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const pdu = this.#queue.shift()
      if (pdu !== undefined) return pdu
      if (this.#closed) throw new Error('connection closed by the target')
      const left = deadline - Date.now()
      if (left <= 0 || !(await this.#wait(left))) {
        if (this.#queue.length > 0) continue
        throw new TimeoutError(`no PDU within ${timeoutMs} ms`)
      }
    }
  }

  /** The next PDU of one opcode (others received meanwhile are kept in order). */
  async receiveOf<O extends Pdu['opcode']>(opcode: O, timeoutMs = 5000, match?: (pdu: PduOf<O>) => boolean): Promise<PduOf<O>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.#queue.findIndex((p) => p.opcode === opcode && (match === undefined || match(p as PduOf<O>)))
      if (index >= 0) return this.#queue.splice(index, 1)[0] as PduOf<O>
      if (this.#closed) throw new Error('connection closed by the target')
      const left = deadline - Date.now()
      if (left <= 0 || !(await this.#wait(left))) {
        if (this.#queue.some((p) => p.opcode === opcode)) continue
        throw new TimeoutError(`no PDU with opcode 0x${opcode.toString(16)} within ${timeoutMs} ms`)
      }
    }
  }

  /** Resolves when nothing arrives for `ms`; rejects with the PDU otherwise. */
  async expectSilence(ms: number): Promise<void> {
    if (this.#queue.length > 0) throw new Error(`unexpected PDU opcode 0x${this.#queue[0]!.opcode.toString(16)}`)
    await this.#wait(ms)
    if (this.#queue.length > 0) throw new Error(`unexpected PDU opcode 0x${this.#queue[0]!.opcode.toString(16)}`)
  }

  /**
   * Resolves when the target closes the connection, rejects on timeout. The last PDUs received before the close
   * stay in `queued` (what the target said before it went, a Reject say); older ones are dropped as they come.
   */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.#closed) {
      const left = deadline - Date.now()
      if (left <= 0) throw new TimeoutError(`connection still open after ${timeoutMs} ms`)
      await this.#wait(left)
      if (this.#queue.length > KEPT_BEFORE_CLOSE) this.#queue.splice(0, this.#queue.length - KEPT_BEFORE_CLOSE)
    }
  }

  /** A standard login through @iscsi-ts/negotiation. A refused login throws LoginRejectedError (status class/detail). */
  async login(options: RawLoginOptions = {}): Promise<RawLoginResult> {
    const sessionType = options.sessionType ?? (options.targetName === undefined ? 'Discovery' : 'Normal')
    if (options.isid !== undefined) this.isid = Buffer.from(options.isid)
    else this.isid = Buffer.concat([Buffer.from([0x80]), randomBytes(5)])
    this.tsih = options.tsih ?? 0
    this.cid = options.cid ?? 0
    const engine = new InitiatorLoginNegotiation({
      initiatorName: options.initiatorName ?? DEFAULT_INITIATOR_NAME,
      sessionType,
      ...(options.targetName !== undefined ? { targetName: options.targetName } : {}),
      isid: this.isid,
      tsih: this.tsih,
      ...(options.chap !== undefined ? { auth: { chap: options.chap } } : {}),
      ...(options.operational !== undefined ? { operational: options.operational } : {}),
    })
    const itt = this.nextItt()
    const responses: LoginResponsePdu[] = []
    let fields = engine.start()
    for (let round = 0; round < 64; round++) {
      const request: LoginRequestPdu = {
        opcode: 0x03,
        transit: fields.transit,
        continue: fields.continue,
        csg: fields.csg,
        nsg: fields.nsg,
        versionMax: 0,
        versionMin: 0,
        isid: this.isid,
        tsih: this.tsih,
        itt,
        cid: this.cid,
        cmdSN: this.cmdSN,
        expStatSN: this.expStatSN,
        data: fields.data,
      }
      this.send(request)
      const response = await this.receiveOf(Opcode.LoginResponse)
      responses.push(response)
      if (response.statusClass !== 0) {
        throw new LoginRejectedError({ statusClass: response.statusClass, statusDetail: response.statusDetail }, `login refused: ${response.statusClass}/${response.statusDetail}`)
      }
      const step = engine.receive({
        transit: response.transit,
        continue: response.continue,
        csg: response.csg,
        nsg: response.nsg,
        data: response.data,
        statusClass: response.statusClass,
        statusDetail: response.statusDetail,
        tsih: response.tsih,
      })
      if (step.kind === 'request') {
        fields = step.request
        continue
      }
      if (step.kind !== 'done') throw new Error(`login ended with ${step.kind}`)
      this.tsih = response.tsih
      this.cmdSN = response.expCmdSN
      this.parameters = step.parameters
      if (options.applyDigests !== false) {
        this.setDigests({
          headerDigest: step.parameters.connection.headerDigest === 'CRC32C',
          dataDigest: step.parameters.connection.dataDigest === 'CRC32C',
        })
      }
      return { tsih: response.tsih, parameters: step.parameters, responses }
    }
    throw new Error('login did not finish in 64 exchanges')
  }

  /** Build and send a SCSI Command; returns its PDU (ITT, CmdSN). Non-immediate commands take a CmdSN. */
  sendCommand(options: CommandOptions): ScsiCommandPdu {
    const data = options.data ?? Buffer.alloc(0)
    const write = options.write ?? (data.length > 0 || options.final === false)
    const pdu: ScsiCommandPdu = {
      opcode: 0x01,
      immediate: options.immediate ?? false,
      final: options.final ?? true,
      read: options.read ?? false,
      write,
      attribute: options.attribute ?? 1,
      lun: encodeLun(options.lun ?? 0),
      itt: options.itt ?? this.nextItt(),
      expectedDataTransferLength: options.expectedDataTransferLength ?? data.length,
      cmdSN: options.cmdSN ?? (options.immediate === true ? this.cmdSN : this.takeCmdSN()),
      expStatSN: this.expStatSN,
      cdb: options.cdb.length >= 16 ? options.cdb : Buffer.concat([options.cdb, Buffer.alloc(16 - options.cdb.length)]),
      ...(options.expectedBidirectionalReadLength !== undefined ? { expectedBidirectionalReadLength: options.expectedBidirectionalReadLength } : {}),
      data,
    }
    this.send(pdu)
    return pdu
  }

  /** Send one Data-Out PDU. */
  sendDataOut(options: { itt: number; ttt?: number; dataSN: number; bufferOffset: number; data: Buffer; final: boolean; lun?: number }): void {
    const pdu: DataOutPdu = {
      opcode: 0x05,
      final: options.final,
      lun: encodeLun(options.lun ?? 0),
      itt: options.itt,
      ttt: options.ttt ?? RESERVED_TAG,
      expStatSN: this.expStatSN,
      dataSN: options.dataSN,
      bufferOffset: options.bufferOffset,
      data: options.data,
    }
    this.send(pdu)
  }

  /**
   * Collect a command's Data-In and status (Data-In with S, or SCSI Response). With `dataOut`, answers every R2T
   * for the command from it, in PDUs of at most `segment` bytes (default: the negotiated limit).
   */
  async collect(itt: number, options: { timeoutMs?: number; dataOut?: Buffer; segment?: number } = {}): Promise<CommandResult> {
    const pdus: Pdu[] = []
    const dataIn: DataInPdu[] = []
    const chunks: Array<{ offset: number; data: Buffer }> = []
    const timeoutMs = options.timeoutMs ?? 5000
    for (;;) {
      const pdu = await this.#receiveFor(itt, timeoutMs)
      pdus.push(pdu)
      if (pdu.opcode === Opcode.R2T) {
        const source = options.dataOut ?? Buffer.alloc(0)
        const segment = options.segment ?? this.parameters?.connection.maxSendDataSegmentLength ?? 8192
        let offset = pdu.bufferOffset
        const end = pdu.bufferOffset + pdu.desiredDataTransferLength
        let dataSN = 0
        while (offset < end) {
          const n = Math.min(segment, end - offset)
          this.sendDataOut({ itt, ttt: pdu.ttt, dataSN: dataSN++, bufferOffset: offset, data: source.subarray(offset, offset + n), final: offset + n === end })
          offset += n
        }
        continue
      }
      if (pdu.opcode === Opcode.DataIn) {
        dataIn.push(pdu)
        chunks.push({ offset: pdu.bufferOffset, data: Buffer.from(pdu.data) })
        if (pdu.statusPresent) {
          return {
            status: pdu.status,
            sense: undefined,
            data: assemble(chunks),
            overflow: pdu.overflow,
            underflow: pdu.underflow,
            residualCount: pdu.residualCount,
            bidiReadResidualCount: 0,
            dataIn,
            response: undefined,
            pdus,
          }
        }
        continue
      }
      if (pdu.opcode === Opcode.ScsiResponse) {
        const sense = pdu.data.length >= 2 ? Buffer.from(pdu.data.subarray(2, 2 + pdu.data.readUInt16BE(0))) : undefined
        return {
          status: pdu.status,
          sense,
          data: assemble(chunks),
          overflow: pdu.overflow,
          underflow: pdu.underflow,
          residualCount: pdu.residualCount,
          bidiReadResidualCount: pdu.bidiReadResidualCount,
          dataIn,
          response: pdu,
          pdus,
        }
      }
    }
  }

  /** The next PDU carrying this Initiator Task Tag (others received meanwhile are kept in order). */
  receiveFor(itt: number, timeoutMs = 5000): Promise<Pdu> {
    return this.#receiveFor(itt, timeoutMs)
  }

  async #receiveFor(itt: number, timeoutMs: number): Promise<Pdu> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.#queue.findIndex((p) => 'itt' in p && p.itt === itt)
      if (index >= 0) return this.#queue.splice(index, 1)[0]!
      if (this.#closed) throw new Error('connection closed by the target')
      const left = deadline - Date.now()
      if (left <= 0 || !(await this.#wait(left))) {
        if (this.#queue.some((p) => 'itt' in p && p.itt === itt)) continue
        throw new TimeoutError(`no PDU for ITT 0x${itt.toString(16)} within ${timeoutMs} ms`)
      }
    }
  }

  /** Send a command and collect its result (answering R2Ts from `data` when it is a write). */
  async command(options: CommandOptions & { dataOut?: Buffer; timeoutMs?: number }): Promise<CommandResult> {
    const dataOut = options.dataOut
    const immediate = dataOut !== undefined && options.data === undefined ? this.#immediateSlice(dataOut, options) : options.data
    const pdu = this.sendCommand({
      ...options,
      ...(immediate !== undefined ? { data: immediate } : {}),
      ...(dataOut !== undefined ? { write: true, expectedDataTransferLength: options.expectedDataTransferLength ?? dataOut.length } : {}),
    })
    return this.collect(pdu.itt, { ...(dataOut !== undefined ? { dataOut } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) })
  }

  /** Immediate data for a write: as much as ImmediateData, FirstBurstLength and the segment limit allow. */
  #immediateSlice(dataOut: Buffer, options: CommandOptions): Buffer | undefined {
    const p = this.parameters
    if (p === undefined || !p.session.immediateData) return undefined
    const edtl = options.expectedDataTransferLength ?? dataOut.length
    const n = Math.min(dataOut.length, edtl, p.session.firstBurstLength, p.connection.maxSendDataSegmentLength)
    return n > 0 ? dataOut.subarray(0, n) : undefined
  }

  /** Logout (reason 0 by default) and wait for the response. */
  async logout(reasonCode = 0, cid = this.cid): Promise<PduOf<0x26>> {
    const itt = this.nextItt()
    this.send({ opcode: 0x06, immediate: true, reasonCode, itt, cid, cmdSN: this.cmdSN, expStatSN: this.expStatSN, data: Buffer.alloc(0) })
    return this.receiveOf(Opcode.LogoutResponse, 5000, (p) => p.itt === itt)
  }

  /** Half-close and wait for the target to close. */
  async end(): Promise<void> {
    this.socket.end()
    await this.waitClosed().catch(() => this.socket.destroy())
  }

  destroy(): void {
    this.socket.destroy()
  }
}

function assemble(chunks: ReadonlyArray<{ offset: number; data: Buffer }>): Buffer {
  let length = 0
  for (const c of chunks) length = Math.max(length, c.offset + c.data.length)
  const out = Buffer.alloc(length)
  for (const c of chunks) c.data.copy(out, c.offset)
  return out
}

/** READ(10) / WRITE(10) CDBs for tests. */
export function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x28
  cdb.writeUInt32BE(lba, 2)
  cdb.writeUInt16BE(blocks, 7)
  return cdb
}

export function write10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x2a
  cdb.writeUInt32BE(lba, 2)
  cdb.writeUInt16BE(blocks, 7)
  return cdb
}

export function testUnitReady(): Buffer {
  return Buffer.alloc(6)
}

export function reportLuns(allocation = 4096): Buffer {
  const cdb = Buffer.alloc(12)
  cdb[0] = 0xa0
  cdb.writeUInt32BE(allocation, 6)
  return cdb
}

export function inquiry(allocation = 96): Buffer {
  const cdb = Buffer.alloc(6)
  cdb[0] = 0x12
  cdb.writeUInt16BE(allocation, 3)
  return cdb
}

/**
 * A backstore whose I/O can be held at a gate: after `hold()`, reads and writes wait until `release()`. Lets a test
 * keep commands inside the device (task management, CmdSN window, shutdown drain).
 */
export class GatedBackstore implements Backstore {
  readonly inner: Backstore
  #held = false
  #waiters: Array<() => void> = []
  #started = 0

  constructor(inner: Backstore) {
    this.inner = inner
  }

  get blockSize(): number {
    return this.inner.blockSize
  }

  get blockCount(): number {
    return this.inner.blockCount
  }

  /** I/O operations that reached the backstore so far. */
  get started(): number {
    return this.#started
  }

  /** Operations waiting at the gate. */
  get waiting(): number {
    return this.#waiters.length
  }

  hold(): void {
    this.#held = true
  }

  release(): void {
    this.#held = false
    const waiters = this.#waiters
    this.#waiters = []
    for (const go of waiters) go()
  }

  async #gate(): Promise<void> {
    this.#started++
    if (!this.#held) return
    await new Promise<void>((resolve) => this.#waiters.push(resolve))
  }

  async read(lba: number, blocks: number, into: Buffer): Promise<void> {
    await this.#gate()
    await this.inner.read(lba, blocks, into)
  }

  async write(lba: number, data: Buffer, options?: { fua?: boolean }): Promise<void> {
    await this.#gate()
    await this.inner.write(lba, data, options)
  }

  flush(): Promise<void> {
    return this.inner.flush()
  }

  close(): Promise<void> {
    this.release()
    return this.inner.close()
  }
}
