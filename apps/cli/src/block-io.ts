// Byte ranges on a block device: reads of any offset and length, and writes that keep the bytes around an
// unaligned start or end intact by reading the partial blocks first (read-modify-write).
import { step } from './errors.js'
import { ordered } from './pipeline.js'
import type { CliSession } from './session.js'

export const DEFAULT_CHUNK = 1024 * 1024
export const DEFAULT_DEPTH = 8

const ZEROS = Buffer.alloc(DEFAULT_CHUNK * 4)

/** True when every byte of `data` is zero (memcmp against a zero page, no per-byte loop in JS). */
export function isZero(data: Buffer): boolean {
  for (let offset = 0; offset < data.length; offset += ZEROS.length) {
    const part = data.subarray(offset, Math.min(data.length, offset + ZEROS.length))
    if (!part.equals(ZEROS.subarray(0, part.length))) return false
  }
  return true
}

/** Chunk size in whole blocks: `requested` rounded down to a block multiple, at least one block. */
export function chunkBlocks(requested: number, blockSize: number, maxTransferBytes?: number): number {
  const limit = maxTransferBytes !== undefined && maxTransferBytes > 0 ? Math.min(requested, maxTransferBytes) : requested
  return Math.max(1, Math.floor(limit / blockSize))
}

export interface RangeOptions {
  readonly chunkBytes?: number
  readonly depth?: number
  readonly signal?: AbortSignal
}

/** Read `length` bytes from byte `offset`, yielded in order in pieces of about `chunkBytes`, `depth` reads in flight. */
export async function* readRange(session: CliSession, lun: number, blockSize: number, offset: number, length: number, options: RangeOptions = {}): AsyncGenerator<Buffer> {
  if (length <= 0) return
  const firstLba = Math.floor(offset / blockSize)
  const lastLba = Math.floor((offset + length - 1) / blockSize)
  const per = chunkBlocks(options.chunkBytes ?? DEFAULT_CHUNK, blockSize, session.maxTransferBytes)
  const chunks = Math.ceil((lastLba - firstLba + 1) / per)
  const signal = options.signal
  const pieces = ordered(chunks, options.depth ?? DEFAULT_DEPTH, (i) => {
    const lba = firstLba + i * per
    const blocks = Math.min(per, lastLba - lba + 1)
    return step('read', () => session.read(lun, BigInt(lba), blocks, signal ? { signal } : {}))
  })
  let position = firstLba * blockSize
  for await (const data of pieces) {
    // Cut the partial blocks at either end of the range.
    const start = Math.max(0, offset - position)
    const end = Math.min(data.length, offset + length - position)
    position += data.length
    if (end > start) yield data.subarray(start, end)
  }
}

export interface WriterOptions extends RangeOptions {
  readonly fua?: boolean
}

/**
 * Streams bytes onto a LUN from byte `offset`. Whole blocks go out in chunks, `depth` writes in flight; a partial
 * first or last block is read first and merged, so bytes outside the range are kept.
 */
export class BlockWriter {
  readonly #session: CliSession
  readonly #lun: number
  readonly #blockSize: number
  readonly #chunkBytes: number
  readonly #depth: number
  readonly #options: WriterOptions
  readonly #startOffset: number
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** LBA where the pending bytes start (always block aligned: an unaligned start is padded by a read). */
  #lba: bigint
  #started = false
  #inFlight = new Set<Promise<void>>()
  #failure: { error: unknown } | undefined
  #written = 0

  constructor(session: CliSession, lun: number, blockSize: number, offset: number, options: WriterOptions = {}) {
    this.#session = session
    this.#lun = lun
    this.#blockSize = blockSize
    this.#chunkBytes = chunkBlocks(options.chunkBytes ?? DEFAULT_CHUNK, blockSize, session.maxTransferBytes) * blockSize
    this.#depth = options.depth ?? DEFAULT_DEPTH
    this.#options = options
    this.#startOffset = offset
    this.#lba = BigInt(Math.floor(offset / blockSize))
  }

  /** Bytes of the caller's data written so far (after end(): all of it). */
  get written(): number {
    return this.#written
  }

  async #start(): Promise<void> {
    this.#started = true
    const head = this.#startOffset % this.#blockSize
    if (head === 0) return
    const block = await step('read', () => this.#session.read(this.#lun, this.#lba, 1, this.#ioOptions()))
    this.#pending.push(block.subarray(0, head))
    this.#pendingBytes = head
    this.#written = -head
  }

  #ioOptions(): { fua?: boolean; signal?: AbortSignal } {
    return { ...(this.#options.fua === true ? { fua: true } : {}), ...(this.#options.signal ? { signal: this.#options.signal } : {}) }
  }

  async write(data: Buffer): Promise<void> {
    if (!this.#started) await this.#start()
    this.#throwFailure()
    if (data.length === 0) return
    this.#pending.push(data)
    this.#pendingBytes += data.length
    while (this.#pendingBytes >= this.#chunkBytes) await this.#issue(this.#take(this.#chunkBytes))
  }

  /** Write what remains, merging a partial last block, and wait for every write. Returns the bytes written. */
  async end(): Promise<number> {
    if (!this.#started) await this.#start()
    const whole = this.#pendingBytes - (this.#pendingBytes % this.#blockSize)
    if (whole > 0) await this.#issue(this.#take(whole))
    await this.#drain()
    if (this.#pendingBytes > 0) {
      const tail = this.#take(this.#pendingBytes)
      const block = await step('read', () => this.#session.read(this.#lun, this.#lba, 1, this.#ioOptions()))
      tail.copy(block)
      await this.#issue(block, tail.length)
      await this.#drain()
    }
    return this.#written
  }

  #take(bytes: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending)
    const out = all.subarray(0, bytes)
    const rest = all.subarray(bytes)
    this.#pending = rest.length > 0 ? [rest] : []
    this.#pendingBytes = rest.length
    return out
  }

  async #issue(data: Buffer, counted = data.length): Promise<void> {
    while (this.#inFlight.size >= this.#depth) await Promise.race(this.#inFlight)
    this.#throwFailure()
    const lba = this.#lba
    this.#lba += BigInt(data.length / this.#blockSize)
    const promise = step('write', () => this.#session.write(this.#lun, lba, data, this.#ioOptions())).then(
      () => {
        this.#written += counted
      },
      (error: unknown) => {
        this.#failure ??= { error }
      },
    )
    const tracked = promise.finally(() => this.#inFlight.delete(tracked))
    this.#inFlight.add(tracked)
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#inFlight)
    this.#throwFailure()
  }

  #throwFailure(): void {
    if (this.#failure !== undefined) throw this.#failure.error
  }
}
