// An in-memory stand-in for an iSCSI target behind the CLI's Connector interface, for unit tests: LUNs with thin
// provisioning and LBA status, persistent reservations, CHAP, and SCSI errors shaped like the initiator's (status
// plus decoded sense). It also counts the commands it saw so tests can check how the CLI used the device.
/* eslint-disable @typescript-eslint/require-await -- an in-memory device answers at once; async keeps the session's shape */
import { Writable } from 'node:stream'
import { Readable } from 'node:stream'
import type { CliIo } from '../context.js'
import type { TtyInput } from '../secret.js'
import { main } from '../program.js'
import type {
  Capacity,
  CliSession,
  ConnectOptions,
  Connector,
  DiscoveredTarget,
  LbaStatusExtent,
  PrOutAction,
  PrOutOptions,
  RegisteredKeys,
  ReservationInfo,
  StandardInquiry,
  TargetUrl,
  VpdPage,
} from '../session.js'

/** Shaped like @iscsi-ts/initiator's ScsiCommandError: a status and decoded sense. */
export class FakeScsiError extends Error {
  override readonly name = 'ScsiCommandError'
  readonly code = 'ISCSI_ERR_SCSI_STATUS'
  readonly status: number
  readonly sense: { key: number; asc: number; ascq: number; text: string } | undefined
  constructor(status: number, sense?: { key: number; asc: number; ascq: number; text: string }) {
    super(sense ? sense.text : `status 0x${status.toString(16)}`)
    this.status = status
    this.sense = sense
  }
}

export class FakeInitiatorError extends Error {
  readonly code: string
  constructor(name: string, code: string, message: string) {
    super(message)
    this.name = name
    this.code = code
  }
}

const outOfRange = (): FakeScsiError => new FakeScsiError(2, { key: 5, asc: 0x21, ascq: 0, text: 'logical block address out of range' })
const invalidOpcode = (): FakeScsiError => new FakeScsiError(2, { key: 5, asc: 0x20, ascq: 0, text: 'invalid command operation code' })
const conflict = (): FakeScsiError => new FakeScsiError(0x18)

export interface MemoryLunOptions {
  readonly blockSize?: number
  readonly size: number
  readonly thin?: boolean
  readonly lbprz?: boolean
  readonly writeSame?: boolean
  readonly lbaStatus?: boolean
  readonly vendor?: string
  readonly product?: string
}

export class MemoryLun {
  readonly blockSize: number
  readonly blocks: number
  readonly data: Buffer
  readonly mapped: Uint8Array
  readonly thin: boolean
  readonly lbprz: boolean
  readonly writeSameSupported: boolean
  readonly lbaStatusSupported: boolean
  readonly vendor: string
  readonly product: string
  readonly counts = { read: 0, write: 0, writeSame: 0, writeSameUnmap: 0, unmap: 0, getLbaStatus: 0, fua: 0, sync: 0 }
  readonly registrations = new Map<string, bigint>()
  reservation: { holder: string; key: bigint; type: number } | undefined
  generation = 0
  /** Called before each data command; a test may throw or abort from here. */
  onCommand: ((op: 'read' | 'write') => void) | undefined

  constructor(options: MemoryLunOptions) {
    this.blockSize = options.blockSize ?? 512
    this.blocks = Math.floor(options.size / this.blockSize)
    this.data = Buffer.alloc(this.blocks * this.blockSize)
    this.mapped = new Uint8Array(this.blocks)
    this.thin = options.thin ?? true
    this.lbprz = options.lbprz ?? this.thin
    this.writeSameSupported = options.writeSame ?? true
    this.lbaStatusSupported = options.lbaStatus ?? true
    this.vendor = options.vendor ?? 'ISCSI-TS'
    this.product = options.product ?? 'MEMORY DISK'
    if (!this.thin) this.mapped.fill(1)
  }

  check(lba: bigint | number, blocks: number): number {
    const start = BigInt(lba)
    if (start < 0n || start + BigInt(blocks) > BigInt(this.blocks)) throw outOfRange()
    return Number(start)
  }

  /** Write bytes directly (test setup), marking blocks mapped. */
  fill(offset: number, bytes: Buffer): void {
    bytes.copy(this.data, offset)
    for (let b = Math.floor(offset / this.blockSize); b < Math.ceil((offset + bytes.length) / this.blockSize); b++) this.mapped[b] = 1
  }

  deallocate(lba: number, blocks: number): void {
    this.data.fill(0, lba * this.blockSize, (lba + blocks) * this.blockSize)
    if (this.thin) this.mapped.fill(0, lba, lba + blocks)
  }
}

export interface MemoryTargetOptions {
  readonly host?: string
  readonly port?: number
  readonly chap?: { user: string; secret: string }
}

export class MemoryTarget {
  readonly name: string
  readonly luns = new Map<number, MemoryLun>()
  readonly chap: { user: string; secret: string } | undefined
  constructor(name: string, chap?: { user: string; secret: string }) {
    this.name = name
    this.chap = chap
  }
}

class MemorySession implements CliSession {
  readonly targetName: string
  readonly parameters = { headerDigest: 'None', dataDigest: 'None' }
  readonly #target: MemoryTarget
  readonly #nexus: string
  #open = true
  readonly logins: { count: number }

  constructor(target: MemoryTarget, nexus: string, logins: { count: number }) {
    this.targetName = target.name
    this.#target = target
    this.#nexus = nexus
    this.logins = logins
  }

  #lun(lun: number): MemoryLun {
    if (!this.#open) throw new FakeInitiatorError('InitiatorError', 'ISCSI_ERR_SESSION_CLOSED', 'session closed')
    const found = this.#target.luns.get(lun)
    if (!found) throw new FakeScsiError(2, { key: 5, asc: 0x25, ascq: 0, text: 'logical unit not supported' })
    return found
  }

  reportLuns(): Promise<number[]> {
    return Promise.resolve([...this.#target.luns.keys()])
  }
  async testUnitReady(lun: number): Promise<void> {
    this.#lun(lun)
  }
  async inquiry(lun: number): Promise<StandardInquiry> {
    const l = this.#lun(lun)
    return {
      peripheralQualifier: 0,
      peripheralDeviceType: 0,
      vendor: l.vendor,
      product: l.product,
      revision: '0001',
      fields: { peripheralQualifier: 0, peripheralDeviceType: 0, removable: false, version: 6, vendor: l.vendor, product: l.product, revision: '0001', commandQueuing: true },
    }
  }
  async supportedVpdPages(lun: number): Promise<number[]> {
    this.#lun(lun)
    return [0x00, 0x80, 0x83, 0xb0]
  }
  async vpd(lun: number, page: number): Promise<VpdPage> {
    this.#lun(lun)
    switch (page) {
      case 0x00:
        return { page, name: 'supported VPD pages', fields: { pages: [0x00, 0x80, 0x83, 0xb0] } }
      case 0x80:
        return { page, name: 'unit serial number', fields: { serialNumber: `serial-${lun}` } }
      case 0x83:
        return { page, name: 'device identification', fields: { designators: [{ type: 'NAA', association: 'logical unit', naa: 0x6001405abcdef012n }] } }
      case 0xb0:
        return { page, name: 'block limits', fields: { maximumTransferLength: 65535, maximumUnmapLbaCount: 8192 } }
      default:
        throw new FakeScsiError(2, { key: 5, asc: 0x24, ascq: 0, text: 'invalid field in cdb' })
    }
  }
  async readCapacity(lun: number): Promise<Capacity> {
    const l = this.#lun(lun)
    return { blockSize: l.blockSize, blockCount: BigInt(l.blocks), lbpme: l.thin, lbprz: l.lbprz, physicalBlockExponent: 0, lowestAlignedLba: 0 }
  }
  #conflicts(l: MemoryLun, write: boolean): boolean {
    const r = l.reservation
    if (r === undefined || r.holder === this.#nexus) return false
    const registered = l.registrations.has(this.#nexus)
    if (r.type === 1) return write
    if (r.type === 3) return true
    if (r.type === 5 || r.type === 7) return write && !registered
    return !registered
  }
  async read(lun: number, lba: bigint | number, blocks: number, options?: { into?: Buffer }): Promise<Buffer> {
    const l = this.#lun(lun)
    l.onCommand?.('read')
    const start = l.check(lba, blocks)
    if (this.#conflicts(l, false)) throw conflict()
    l.counts.read++
    const data = l.data.subarray(start * l.blockSize, (start + blocks) * l.blockSize)
    if (options?.into) {
      data.copy(options.into)
      return options.into.subarray(0, data.length)
    }
    return Buffer.from(data)
  }
  async write(lun: number, lba: bigint | number, data: Buffer, options?: { fua?: boolean }): Promise<void> {
    const l = this.#lun(lun)
    l.onCommand?.('write')
    if (data.length % l.blockSize !== 0) throw new FakeInitiatorError('InitiatorError', 'ISCSI_ERR_INVALID_ARGUMENT', 'not whole blocks')
    const start = l.check(lba, data.length / l.blockSize)
    if (this.#conflicts(l, true)) throw conflict()
    l.counts.write++
    if (options?.fua === true) l.counts.fua++
    l.fill(start * l.blockSize, data)
  }
  async writeSame(lun: number, lba: bigint, blocks: number, options: { unmap?: boolean; data: Buffer }): Promise<void> {
    const l = this.#lun(lun)
    if (!l.writeSameSupported) throw invalidOpcode()
    const start = l.check(lba, blocks)
    if (this.#conflicts(l, true)) throw conflict()
    if (options.unmap === true && l.thin && options.data.every((b) => b === 0)) {
      l.counts.writeSameUnmap++
      l.deallocate(start, blocks)
      return
    }
    l.counts.writeSame++
    for (let b = 0; b < blocks; b++) l.fill((start + b) * l.blockSize, options.data)
  }
  async unmap(lun: number, extents: ReadonlyArray<{ lba: bigint; blocks: number }>): Promise<void> {
    const l = this.#lun(lun)
    if (!l.thin) throw invalidOpcode()
    for (const e of extents) l.deallocate(l.check(e.lba, e.blocks), e.blocks)
    l.counts.unmap++
  }
  async syncCache(lun: number): Promise<void> {
    this.#lun(lun).counts.sync++
  }
  async getLbaStatus(lun: number, lba: bigint): Promise<LbaStatusExtent[]> {
    const l = this.#lun(lun)
    if (!l.lbaStatusSupported || !l.thin) throw invalidOpcode()
    let at = l.check(lba, 1)
    l.counts.getLbaStatus++
    const out: LbaStatusExtent[] = []
    while (at < l.blocks && out.length < 8) {
      const state = l.mapped[at]
      let end = at
      while (end < l.blocks && l.mapped[end] === state) end++
      out.push({ lba: BigInt(at), blocks: end - at, status: state === 1 ? 'mapped' : 'deallocated' })
      at = end
    }
    return out
  }
  async readKeys(lun: number): Promise<RegisteredKeys> {
    const l = this.#lun(lun)
    return { generation: l.generation, keys: [...l.registrations.values()] }
  }
  async readReservation(lun: number): Promise<ReservationInfo> {
    const l = this.#lun(lun)
    const r = l.reservation
    return { generation: l.generation, ...(r ? { reservation: { key: r.key, type: r.type, scope: 0 } } : {}) }
  }
  async reportCapabilities(lun: number): Promise<Readonly<Record<string, unknown>>> {
    this.#lun(lun)
    return { compatibleReservationHandling: true, persistThroughPowerLossCapable: true, typeMaskValid: true, writeExclusive: true, exclusiveAccess: true }
  }
  async persistentReserveOut(lun: number, action: PrOutAction, options: PrOutOptions): Promise<void> {
    const l = this.#lun(lun)
    const mine = l.registrations.get(this.#nexus)
    const key = options.key ?? 0n
    const sa = options.serviceActionKey ?? 0n
    switch (action) {
      case 'register':
      case 'register-ignore':
        if (action === 'register' && (mine ?? 0n) !== key) throw conflict()
        if (sa === 0n) {
          l.registrations.delete(this.#nexus)
          if (l.reservation?.holder === this.#nexus) l.reservation = undefined
        } else l.registrations.set(this.#nexus, sa)
        l.generation++
        return
      case 'reserve':
        if (mine !== key) throw conflict()
        if (l.reservation && l.reservation.holder !== this.#nexus) throw conflict()
        l.reservation = { holder: this.#nexus, key, type: options.type ?? 1 }
        return
      case 'release':
        if (mine !== key) throw conflict()
        if (l.reservation?.holder === this.#nexus) {
          if (l.reservation.type !== options.type) throw new FakeScsiError(2, { key: 5, asc: 0x26, ascq: 4, text: 'invalid release of persistent reservation' })
          l.reservation = undefined
        }
        return
      case 'clear':
        if (mine !== key) throw conflict()
        l.registrations.clear()
        l.reservation = undefined
        l.generation++
        return
      case 'preempt':
      case 'preempt-abort':
        if (mine !== key) throw conflict()
        for (const [nexus, k] of l.registrations) if (k === sa) l.registrations.delete(nexus)
        if (l.reservation?.key === sa) l.reservation = { holder: this.#nexus, key, type: options.type ?? 1 }
        l.generation++
        return
    }
  }
  async ping(): Promise<number> {
    if (!this.#open) throw new FakeInitiatorError('InitiatorError', 'ISCSI_ERR_SESSION_CLOSED', 'session closed')
    return 0.25
  }
  async logout(): Promise<void> {
    this.#open = false
  }
}

/** A Connector over in-memory targets on one portal. */
export class MemoryConnector implements Connector {
  readonly host: string
  readonly port: number
  readonly targets = new Map<string, MemoryTarget>()
  readonly logins = { count: 0 }
  readonly connectOptions: ConnectOptions[] = []

  constructor(options: MemoryTargetOptions = {}) {
    this.host = options.host ?? '127.0.0.1'
    this.port = options.port ?? 3260
  }

  addTarget(name: string, chap?: { user: string; secret: string }): MemoryTarget {
    const target = new MemoryTarget(name, chap)
    this.targets.set(name, target)
    return target
  }

  parseUrl(url: string): TargetUrl {
    const match = /^iscsi:\/\/(?:([^%@/]+)(?:%([^@/]*))?@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(?:\/([^/]*)(?:\/(\d+))?)?$/.exec(url)
    if (!match) throw new FakeInitiatorError('InitiatorError', 'ISCSI_ERR_URL', 'bad URL')
    const [, user, secret, host = '', port, targetName, lun] = match
    return {
      host: host.replace(/^\[|\]$/g, ''),
      port: port === undefined ? 3260 : Number(port),
      ...(targetName ? { targetName: decodeURIComponent(targetName) } : {}),
      ...(lun !== undefined ? { lun: Number(lun) } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(secret !== undefined ? { secret } : {}),
    }
  }

  #reach(host: string, port: number): void {
    if (host !== this.host || port !== this.port) {
      throw Object.assign(new Error(`connect ECONNREFUSED ${host}:${port}`), { code: 'ECONNREFUSED', address: host, port })
    }
  }

  async discover(portal: { host: string; port: number }, options: { chap?: { user: string; secret: string } } = {}): Promise<DiscoveredTarget[]> {
    this.#reach(portal.host, portal.port)
    // Like tgtd: discovery without an account refuses a CHAP-only offer.
    if (options.chap) throw new FakeInitiatorError('LoginError', 'ISCSI_ERR_LOGIN_AUTH', 'login failed: authentication failure (0x0201)')
    return [...this.targets.values()].map((t) => ({ name: t.name, addresses: [{ host: this.host, port: this.port, tpgt: 1 }] }))
  }

  async connect(options: ConnectOptions): Promise<CliSession> {
    this.#reach(options.host, options.port)
    this.connectOptions.push(options)
    const target = this.targets.get(options.targetName)
    if (!target) throw new FakeInitiatorError('LoginError', 'ISCSI_ERR_LOGIN_NOT_FOUND', 'login failed: target not found (0x0203)')
    // Like tgtd: a target without CHAP refuses a CHAP-only offer; one with CHAP needs the right secret.
    if (!target.chap && options.chap) throw new FakeInitiatorError('LoginError', 'ISCSI_ERR_LOGIN_AUTH', 'login failed: authentication failure (0x0201)')
    if (target.chap && (options.chap?.user !== target.chap.user || options.chap.secret !== target.chap.secret)) {
      throw new FakeInitiatorError('LoginError', 'ISCSI_ERR_LOGIN_AUTH', 'login failed: authentication failure (0x0201)')
    }
    this.logins.count++
    const nexus = options.isid ? options.isid.toString('hex') : `random-${this.logins.count}`
    return new MemorySession(target, `${options.initiatorName ?? 'default'}|${nexus}`, this.logins)
  }
}

/** A Writable that keeps what was written; `isTTY` as asked. */
export class Capture extends Writable {
  readonly chunks: Buffer[] = []
  isTTY: boolean
  constructor(isTTY = false) {
    super()
    this.isTTY = isTTY
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    callback()
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly stdoutBytes: Buffer
}

/** Run the CLI in-process against `connector` with captured streams. */
export async function runCli(
  argv: readonly string[],
  connector: Connector,
  options: { env?: Record<string, string>; stdin?: Buffer | string | TtyInput; signal?: AbortSignal; stdinTty?: boolean; stderrTty?: boolean; stdoutTty?: boolean } = {},
): Promise<RunResult> {
  const stdout = new Capture(options.stdoutTty ?? false)
  const stderr = new Capture(options.stderrTty ?? false)
  const stdin =
    options.stdin !== undefined && typeof options.stdin !== 'string' && !Buffer.isBuffer(options.stdin)
      ? options.stdin
      : Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), { isTTY: options.stdinTty ?? false })
  const io: CliIo = { stdout, stderr, stdin, env: options.env ?? {}, connector, ...(options.signal ? { signal: options.signal } : {}) }
  const code = await main(argv, io)
  return { code, stdout: stdout.text, stderr: stderr.text, stdoutBytes: stdout.bytes }
}
