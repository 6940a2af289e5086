// The public Session: `Session.login()` and typed SCSI helpers over `execute()` (SPC-4, SBC-3). Each helper builds
// its CDB with @iscsi-ts/scsi, picks the 10- or 16-byte form by LBA and length, decodes the data-in, and throws one
// ScsiCommandError (status, decoded sense, readable text) on a status other than GOOD / CONDITION MET.
import {
  buildCompareAndWrite,
  buildGetLbaStatus,
  buildInquiry,
  buildPersistentReserveIn,
  buildPersistentReserveOut,
  buildRead10,
  buildRead16,
  buildReadCapacity10,
  buildReadCapacity16,
  buildReportLuns,
  buildSynchronizeCache10,
  buildSynchronizeCache16,
  buildTestUnitReady,
  buildUnmap,
  buildWrite10,
  buildWrite16,
  buildWriteSame10,
  buildWriteSame16,
} from '@iscsi-ts/scsi'
import { InitiatorError, InitiatorErrorCode, ScsiCommandError } from './errors.js'
import {
  PrInAction,
  PrOutAction,
  decodeInquiry,
  decodeLbaStatus,
  decodePersistentReserveIn,
  decodeReadCapacity10,
  decodeReadCapacity16,
  decodeReportLuns,
  decodeVpdPage,
  encodePersistentReserveOutParameters,
  encodeUnmapParameters,
  type Capacity,
  type InquiryData,
  type LbaStatusDescriptor,
  type PrInActionName,
  type PrInResult,
  type PrOutActionName,
  type UnmapExtent,
  type VpdPage,
} from './scsi-data.js'
import { commandName, type CommandResult, type ExecuteOptions } from './command.js'
import { readWriteCdb } from './rw-cdb.js'
import { SessionCore } from './session-core.js'
import type { SessionOptions } from './session-options.js'
import { parseIscsiUrl, type IscsiUrl } from './url.js'

/** Options every helper accepts. */
export interface CommandOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export interface ReadOptions extends CommandOptions {
  /** Force Unit Access: read from the medium, not a cache (SBC-3 5.8). */
  fua?: boolean
  /** Receive the data straight into this buffer (at least blocks * blockSize bytes). */
  into?: Buffer
}

export interface WriteOptions extends CommandOptions {
  /** Force Unit Access: stable on the medium before the command completes (SBC-3 5.32). */
  fua?: boolean
}

export interface PersistentReserveOutOptions extends CommandOptions {
  /** RESERVATION KEY: our registered key (0 when registering the first time). */
  key?: bigint
  /** SERVICE ACTION RESERVATION KEY: the new key (register) or the key to preempt. */
  serviceActionKey?: bigint
  /** Reservation type for reserve/release/preempt (see PrType). */
  type?: number
  /** Activate persist through power loss (register). */
  aptpl?: boolean
}

const U32 = 0x1_0000_0000n
const MAX_SAFE_LBA = BigInt(Number.MAX_SAFE_INTEGER)

function invalid(message: string): InitiatorError {
  return new InitiatorError(InitiatorErrorCode.InvalidArgument, message)
}

function toLba(lba: bigint | number): bigint {
  if (typeof lba === 'number') {
    if (!Number.isSafeInteger(lba) || lba < 0) throw invalid(`LBA must be a non-negative integer, not ${lba}`)
    return BigInt(lba)
  }
  if (typeof lba !== 'bigint' || lba < 0n || lba >= 1n << 64n) throw invalid('LBA must be a non-negative 64-bit integer')
  return lba
}

function checkBlocks(blocks: number, max = 0xffffffff): void {
  if (!Number.isInteger(blocks) || blocks < 0 || blocks > max) throw invalid(`block count must be an integer in 0..${max}, not ${blocks}`)
}

/** The 10-byte form fits: LBA and LBA + blocks - 1 within 32 bits, blocks within 16 bits (SBC-3 5.9, 5.12). */
function fits10(lba: bigint, blocks: number): boolean {
  return lba + BigInt(blocks) <= U32 && blocks <= 0xffff
}

/** The LBA as a number when it is a valid one within 2^53 (the fast path's arithmetic), else undefined. */
function numericLba(lba: bigint | number): number | undefined {
  if (typeof lba === 'number') return Number.isSafeInteger(lba) && lba >= 0 ? lba : undefined
  return typeof lba === 'bigint' && lba >= 0n && lba <= MAX_SAFE_LBA ? Number(lba) : undefined
}

/** GOOD or CONDITION MET (SAM-5 5.3.1). */
function isGood(status: number): boolean {
  return status === 0x00 || status === 0x04
}

/** Ensures GOOD (or CONDITION MET) and returns the result; otherwise throws ScsiCommandError. */
function good(lun: number, cdb: Buffer, result: CommandResult): CommandResult {
  if (isGood(result.status)) return result
  throw new ScsiCommandError(commandName(cdb), lun, result.status, result.sense, result.senseData)
}

/** SessionOptions from an iscsi:// URL (its LUN is for the caller; a session spans the whole target). */
export function sessionOptionsFromUrl(url: string | IscsiUrl, extra: Partial<SessionOptions> = {}): SessionOptions {
  const parsed = typeof url === 'string' ? parseIscsiUrl(url) : url
  if (parsed.targetName === undefined) throw invalid('the URL names no target')
  const digest = (value: IscsiUrl['headerDigest']): boolean | undefined =>
    value === undefined || value.includes(',') ? undefined : value === 'CRC32C'
  const headerDigest = digest(parsed.headerDigest)
  const dataDigest = digest(parsed.dataDigest)
  return {
    host: parsed.host,
    port: parsed.port,
    targetName: parsed.targetName,
    ...(parsed.user !== undefined && parsed.secret !== undefined ? { chap: { user: parsed.user, secret: parsed.secret } } : {}),
    ...(parsed.targetUser !== undefined && parsed.targetSecret !== undefined ? { mutualChap: { user: parsed.targetUser, secret: parsed.targetSecret } } : {}),
    ...(headerDigest !== undefined ? { headerDigest } : {}),
    ...(dataDigest !== undefined ? { dataDigest } : {}),
    ...extra,
  }
}

export class Session extends SessionCore {
  readonly #blockSizes = new Map<number, number>()
  /** READ CAPACITY in flight per LUN, so concurrent first reads ask once. */
  readonly #capacityQueries = new Map<number, Promise<Capacity>>()

  private constructor(options: SessionOptions) {
    super(options)
  }

  /**
   * Connects, logs in (CHAP when configured, redirects followed) and returns a session in full feature phase.
   * Throws LoginError (status class/detail from the target), TimeoutError or ConnectionError.
   */
  static async login(options: SessionOptions): Promise<Session> {
    const session = new Session(options)
    await session.start()
    return session
  }

  /** `Session.login` from an iscsi:// URL (`iscsi://user%secret@host:port/iqn/lun?header_digest=crc32c`). */
  static fromUrl(url: string | IscsiUrl, extra: Partial<SessionOptions> = {}): Promise<Session> {
    return Session.login(sessionOptionsFromUrl(url, extra))
  }

  async #run(lun: number, cdb: Buffer, options: ExecuteOptions): Promise<CommandResult> {
    return good(lun, cdb, await this.execute(lun, cdb, options))
  }

  /** TEST UNIT READY (SPC-4 6.47). */
  async testUnitReady(lun: number, options: CommandOptions = {}): Promise<void> {
    await this.#run(lun, buildTestUnitReady(), options)
  }

  /** Standard INQUIRY data, or with `page` the decoded VPD page (SPC-4 6.6, 7.8). */
  inquiry(lun: number, options?: CommandOptions & { page?: undefined; allocationLength?: number }): Promise<InquiryData>
  inquiry(lun: number, options: CommandOptions & { page: number; allocationLength?: number }): Promise<VpdPage>
  async inquiry(lun: number, options: CommandOptions & { page?: number; allocationLength?: number } = {}): Promise<InquiryData | VpdPage> {
    const allocationLength = options.allocationLength ?? (options.page === undefined ? 255 : 4096)
    checkBlocks(allocationLength, 0xffff)
    const evpd = options.page !== undefined
    if (evpd && (!Number.isInteger(options.page) || options.page! < 0 || options.page! > 0xff)) throw invalid('VPD page code must be 0..255')
    const cdb = buildInquiry({ evpd, pageCode: options.page ?? 0, allocationLength })
    const result = await this.#run(lun, cdb, { ...options, dataInLength: allocationLength })
    const data = result.data ?? Buffer.alloc(0)
    return evpd ? decodeVpdPage(data) : decodeInquiry(data)
  }

  /**
   * READ CAPACITY(16), or READ CAPACITY(10) when the device rejects the 16-byte form (SBC-3 5.15-5.16). The block
   * size is remembered for `read`/`write` on this LUN.
   */
  async readCapacity(lun: number, options: CommandOptions = {}): Promise<Capacity> {
    let capacity: Capacity
    try {
      const result = await this.#run(lun, buildReadCapacity16({ allocationLength: 32 }), { ...options, dataInLength: 32 })
      capacity = decodeReadCapacity16(result.data ?? Buffer.alloc(0))
    } catch (error) {
      if (!(error instanceof ScsiCommandError) || error.senseKey !== 0x05) throw error
      const result = await this.#run(lun, buildReadCapacity10(), { ...options, dataInLength: 8 })
      capacity = decodeReadCapacity10(result.data ?? Buffer.alloc(0))
    }
    if (capacity.blockSize > 0) this.#blockSizes.set(lun, capacity.blockSize)
    return capacity
  }

  async #blockSize(lun: number, options: CommandOptions): Promise<number> {
    const known = this.#blockSizes.get(lun)
    if (known !== undefined) return known
    let query = this.#capacityQueries.get(lun)
    if (query === undefined) {
      query = this.readCapacity(lun, options).finally(() => this.#capacityQueries.delete(lun))
      this.#capacityQueries.set(lun, query)
    }
    const { blockSize } = await query
    if (!(blockSize > 0)) throw new InitiatorError(InitiatorErrorCode.Protocol, `LUN ${lun} reports a block size of ${blockSize}`)
    return blockSize
  }

  /** READ(10) or READ(16) of `blocks` blocks at `lba` (SBC-3 5.8, 5.11); the data lands in `into` when given. */
  read(lun: number, lba: bigint | number, blocks: number, options: ReadOptions = {}): Promise<Buffer> {
    const blockSize = this.#blockSizes.get(lun)
    const start = numericLba(lba)
    // The first I/O on a LUN (block size unknown) and LBAs beyond 2^53 take the general path.
    if (blockSize === undefined || start === undefined) return this.#readAny(lun, lba, blocks, options)
    let cdb: Buffer
    let length: number
    try {
      checkBlocks(blocks)
      length = blocks * blockSize
      if (length > 0xffffffff) throw invalid(`a read of ${length} bytes exceeds the 32-bit expected data transfer length`)
      if (options.into !== undefined && options.into.length < length) throw invalid(`into holds ${options.into.length} bytes, the read needs ${length}`)
      cdb = readWriteCdb(false, start, blocks, options.fua === true)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    // One promise per I/O: the core settles it with the data, or with ScsiCommandError for a status other than GOOD.
    return new Promise<Buffer>((resolve, reject) => this.submit(lun, cdb, options, undefined, length, 'data', resolve as (value: unknown) => void, reject))
  }

  async #readAny(lun: number, lba: bigint | number, blocks: number, options: ReadOptions): Promise<Buffer> {
    const start = toLba(lba)
    checkBlocks(blocks)
    const blockSize = await this.#blockSize(lun, options)
    const length = blocks * blockSize
    if (length > 0xffffffff) throw invalid(`a read of ${length} bytes exceeds the 32-bit expected data transfer length`)
    if (options.into !== undefined && options.into.length < length) throw invalid(`into holds ${options.into.length} bytes, the read needs ${length}`)
    const fua = options.fua === true
    const cdb = fits10(start, blocks) ? buildRead10({ lba: start, blocks, fua }) : buildRead16({ lba: start, blocks, fua })
    const result = await this.#run(lun, cdb, { ...options, dataInLength: length, ...(options.into ? { into: options.into } : {}) })
    return result.data ?? Buffer.alloc(0)
  }

  /** WRITE(10) or WRITE(16) of `data` (a whole number of blocks) at `lba` (SBC-3 5.32, 5.35). */
  write(lun: number, lba: bigint | number, data: Buffer, options: WriteOptions = {}): Promise<void> {
    const blockSize = this.#blockSizes.get(lun)
    const start = numericLba(lba)
    if (blockSize === undefined || start === undefined || !Buffer.isBuffer(data)) return this.#writeAny(lun, lba, data, options)
    let cdb: Buffer
    try {
      if (data.length % blockSize !== 0) throw invalid(`data of ${data.length} bytes is not a whole number of ${blockSize}-byte blocks`)
      const blocks = data.length / blockSize
      checkBlocks(blocks)
      cdb = readWriteCdb(true, start, blocks, options.fua === true)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    return new Promise<void>((resolve, reject) => this.submit(lun, cdb, options, data, 0, 'nothing', resolve as (value: unknown) => void, reject))
  }

  async #writeAny(lun: number, lba: bigint | number, data: Buffer, options: WriteOptions): Promise<void> {
    const start = toLba(lba)
    if (!Buffer.isBuffer(data)) throw invalid('data must be a Buffer')
    const blockSize = await this.#blockSize(lun, options)
    if (data.length % blockSize !== 0) throw invalid(`data of ${data.length} bytes is not a whole number of ${blockSize}-byte blocks`)
    const blocks = data.length / blockSize
    checkBlocks(blocks)
    const fua = options.fua === true
    const cdb = fits10(start, blocks) ? buildWrite10({ lba: start, blocks, fua }) : buildWrite16({ lba: start, blocks, fua })
    await this.#run(lun, cdb, { ...options, dataOut: data })
  }

  /**
   * WRITE SAME(10/16) (SBC-3 5.41-5.42): `data` (one block, zeros by default) written to `blocks` blocks, or with
   * `unmap` those blocks deallocated where the device can.
   */
  async writeSame(lun: number, lba: bigint | number, blocks: number, options: CommandOptions & { unmap?: boolean; data?: Buffer } = {}): Promise<void> {
    const start = toLba(lba)
    checkBlocks(blocks)
    const blockSize = await this.#blockSize(lun, options)
    const data = options.data ?? Buffer.alloc(blockSize)
    if (data.length !== blockSize) throw invalid(`WRITE SAME data must be one ${blockSize}-byte block`)
    const unmap = options.unmap === true
    const cdb = fits10(start, blocks) ? buildWriteSame10({ lba: start, blocks, unmap }) : buildWriteSame16({ lba: start, blocks, unmap })
    await this.#run(lun, cdb, { ...options, dataOut: data })
  }

  /** UNMAP of each extent (SBC-3 5.28). */
  async unmap(lun: number, extents: readonly UnmapExtent[], options: CommandOptions = {}): Promise<void> {
    if (!Array.isArray(extents as unknown) || extents.length === 0) throw invalid('UNMAP needs at least one extent')
    if (extents.length > 4095) throw invalid('UNMAP takes at most 4095 extents per command')
    for (const extent of extents) {
      toLba(extent.lba)
      checkBlocks(extent.blocks)
    }
    const parameters = encodeUnmapParameters(extents)
    await this.#run(lun, buildUnmap({ parameterListLength: parameters.length }), { ...options, dataOut: parameters })
  }

  /** SYNCHRONIZE CACHE(10/16) (SBC-3 5.22-5.23); the whole medium when no range is given. */
  async syncCache(lun: number, lba: bigint | number = 0, blocks = 0, options: CommandOptions = {}): Promise<void> {
    const start = toLba(lba)
    checkBlocks(blocks)
    const cdb = fits10(start, blocks) ? buildSynchronizeCache10({ lba: start, blocks }) : buildSynchronizeCache16({ lba: start, blocks })
    await this.#run(lun, cdb, options)
  }

  /**
   * COMPARE AND WRITE (SBC-3 5.2): atomically, if the blocks at `lba` equal `compare`, write `write` there. A
   * mismatch throws ScsiCommandError with sense key MISCOMPARE (0x0e).
   */
  async compareAndWrite(lun: number, lba: bigint | number, compare: Buffer, write: Buffer, options: WriteOptions = {}): Promise<void> {
    const start = toLba(lba)
    if (!Buffer.isBuffer(compare) || !Buffer.isBuffer(write) || compare.length !== write.length) {
      throw invalid('compare and write must be Buffers of the same length')
    }
    const blockSize = await this.#blockSize(lun, options)
    if (compare.length === 0 || compare.length % blockSize !== 0) throw invalid(`compare data must be a whole number of ${blockSize}-byte blocks`)
    const blocks = compare.length / blockSize
    checkBlocks(blocks, 0xff)
    const cdb = buildCompareAndWrite({ lba: start, blocks, fua: options.fua === true })
    // The data-out is the verify data followed by the write data (SBC-3 5.2); small (at most 255 blocks), so joined.
    await this.#run(lun, cdb, { ...options, dataOut: Buffer.concat([compare, write]) })
  }

  /** GET LBA STATUS from `lba` (SBC-3 5.7): the provisioning status of the extents from there on. */
  async getLbaStatus(lun: number, lba: bigint | number, options: CommandOptions & { allocationLength?: number } = {}): Promise<LbaStatusDescriptor[]> {
    const start = toLba(lba)
    const allocationLength = options.allocationLength ?? 4096
    checkBlocks(allocationLength)
    const result = await this.#run(lun, buildGetLbaStatus({ lba: start, allocationLength }), { ...options, dataInLength: allocationLength })
    return decodeLbaStatus(result.data ?? Buffer.alloc(0)).descriptors
  }

  /** REPORT LUNS through LUN 0 (SPC-4 6.33): the LUNs this target exposes to us, retried with a larger buffer. */
  async reportLuns(options: CommandOptions = {}): Promise<number[]> {
    let allocationLength = 16 + 8 * 256
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.#run(0, buildReportLuns({ allocationLength }), { ...options, dataInLength: allocationLength })
      const { luns, listLength } = decodeReportLuns(result.data ?? Buffer.alloc(0))
      if (8 + listLength <= allocationLength) return luns
      allocationLength = Math.min(8 + listLength, 0xffffffff)
    }
    throw new InitiatorError(InitiatorErrorCode.Protocol, 'REPORT LUNS list kept growing')
  }

  /** PERSISTENT RESERVE IN (SPC-4 6.15). */
  persistentReserveIn(lun: number, action: 'read-keys', options?: CommandOptions): Promise<Extract<PrInResult, { action: 'read-keys' }>>
  persistentReserveIn(lun: number, action: 'read-reservation', options?: CommandOptions): Promise<Extract<PrInResult, { action: 'read-reservation' }>>
  persistentReserveIn(lun: number, action: 'report-capabilities', options?: CommandOptions): Promise<Extract<PrInResult, { action: 'report-capabilities' }>>
  persistentReserveIn(lun: number, action: 'read-full-status', options?: CommandOptions): Promise<Extract<PrInResult, { action: 'read-full-status' }>>
  persistentReserveIn(lun: number, action: PrInActionName, options?: CommandOptions): Promise<PrInResult>
  async persistentReserveIn(lun: number, action: PrInActionName, options: CommandOptions = {}): Promise<PrInResult> {
    const serviceAction = PrInAction[action]
    if (serviceAction === undefined) throw invalid(`unknown PERSISTENT RESERVE IN action ${String(action)}`)
    const allocationLength = 8192
    const cdb = buildPersistentReserveIn({ serviceAction, allocationLength })
    const result = await this.#run(lun, cdb, { ...options, dataInLength: allocationLength })
    return decodePersistentReserveIn(action, result.data ?? Buffer.alloc(0))
  }

  /** PERSISTENT RESERVE OUT (SPC-4 6.16) with the basic 24-byte parameter list. */
  async persistentReserveOut(lun: number, action: PrOutActionName, options: PersistentReserveOutOptions = {}): Promise<void> {
    const serviceAction = PrOutAction[action]
    if (serviceAction === undefined || action === 'register-move') throw invalid(`unsupported PERSISTENT RESERVE OUT action ${String(action)}`)
    const type = options.type ?? 0
    if (!Number.isInteger(type) || type < 0 || type > 0xf) throw invalid('reservation type must be 0..15')
    for (const key of [options.key, options.serviceActionKey]) {
      if (key !== undefined && (typeof key !== 'bigint' || key < 0n || key >= 1n << 64n)) throw invalid('reservation keys are unsigned 64-bit bigints')
    }
    const parameters = encodePersistentReserveOutParameters({
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.serviceActionKey !== undefined ? { serviceActionKey: options.serviceActionKey } : {}),
      ...(options.aptpl !== undefined ? { aptpl: options.aptpl } : {}),
    })
    const cdb = buildPersistentReserveOut({ serviceAction, scope: 0, type, parameterListLength: parameters.length })
    await this.#run(lun, cdb, { ...options, dataOut: parameters })
  }
}
