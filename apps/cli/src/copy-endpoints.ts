// The two ends of `iscsi cp`: a LUN or a regular file, each able to say where its zeros are. A LUN source asks GET
// LBA STATUS (SBC-3 5.4) for deallocated ranges; a LUN destination turns zeros into WRITE SAME with UNMAP (SBC-3
// 5.43, which, unlike UNMAP, guarantees the blocks then read as zeros) on a thin LU; a file destination leaves
// holes. A partial last block on a LUN is read-modify-written.
import type { FileHandle } from 'node:fs/promises'
import { open, stat } from 'node:fs/promises'
import { CliError, ExitCode, describeCause, step } from './errors.js'
import type { Capacity, CliSession } from './session.js'

export interface CopySource {
  readonly kind: 'lun' | 'file'
  readonly size: number
  /** Block size of a LUN, 1 for a file: chunks must be a multiple. */
  readonly blockSize: number
  /** True when every byte of [offset, offset+length) is known to read as zero without reading it. */
  isHole(offset: number, length: number): Promise<boolean>
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>
  close(): Promise<void>
}

export interface CopyDestination {
  readonly kind: 'lun' | 'file'
  /** Most bytes it can take (a LUN's capacity), or undefined for a file. */
  readonly capacity: number | undefined
  readonly blockSize: number
  write(offset: number, data: Buffer, signal?: AbortSignal): Promise<void>
  /** Make [offset, offset+length) read as zeros, as cheaply as the destination allows. */
  writeZeros(offset: number, length: number, signal?: AbortSignal): Promise<void>
  /** Everything written is stable, and a file has its full size. */
  finish(size: number): Promise<void>
  /** Read back for --verify. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>
  close(): Promise<void>
}

function lunSize(capacity: Capacity): number {
  const bytes = capacity.blockCount * BigInt(capacity.blockSize)
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError('ISCSI_CLI_TOO_LARGE', 'LUN is too large to copy', ExitCode.FAILURE)
  return Number(bytes)
}

function signalOption(signal?: AbortSignal): { signal?: AbortSignal } {
  return signal ? { signal } : {}
}

/** True for CHECK CONDITION with ILLEGAL REQUEST: the command or a field is not supported. */
function isIllegalRequest(error: unknown): boolean {
  const described = describeCause(error)
  return described.exitCode === ExitCode.SCSI && described.sense?.key === 0x5
}

export class LunSource implements CopySource {
  readonly kind = 'lun'
  readonly size: number
  readonly blockSize: number
  readonly #session: CliSession
  readonly #lun: number
  /** Deallocated ranges count as holes only when they read as zeros (LBPRZ=1, SBC-3 4.7.4.5). */
  #useLbaStatus: boolean
  /** Known LBA status extents, in order, covering [0, #coveredTo). */
  #extents: Array<{ start: number; end: number; hole: boolean }> = []
  #coveredTo = 0
  #queue: Promise<unknown> = Promise.resolve()
  /** Bytes skipped because GET LBA STATUS reported them deallocated. */
  deallocatedBytes = 0

  constructor(session: CliSession, lun: number, capacity: Capacity, options: { sparse: boolean }) {
    this.#session = session
    this.#lun = lun
    this.blockSize = capacity.blockSize
    this.size = lunSize(capacity)
    this.#useLbaStatus = options.sparse && capacity.lbpme && capacity.lbprz
  }

  async #cover(toBlock: number): Promise<void> {
    const blocks = this.size / this.blockSize
    while (this.#coveredTo < toBlock && this.#coveredTo < blocks) {
      let descriptors
      try {
        descriptors = await this.#session.getLbaStatus(this.#lun, BigInt(this.#coveredTo))
      } catch (error) {
        if (!isIllegalRequest(error)) throw error
        this.#useLbaStatus = false // GET LBA STATUS not supported: read everything
        return
      }
      let advanced = false
      for (const d of descriptors) {
        const start = Number(d.lba)
        const end = Math.min(blocks, start + d.blocks)
        if (end <= this.#coveredTo || d.blocks <= 0) continue
        this.#extents.push({ start: Math.max(start, this.#coveredTo), end, hole: d.status !== 'mapped' })
        this.#coveredTo = end
        advanced = true
      }
      if (!advanced) {
        this.#useLbaStatus = false // a target that reports nothing useful: stop asking
        return
      }
    }
  }

  isHole(offset: number, length: number): Promise<boolean> {
    if (!this.#useLbaStatus) return Promise.resolve(false)
    const first = Math.floor(offset / this.blockSize)
    const end = Math.ceil((offset + length) / this.blockSize)
    // One GET LBA STATUS at a time; workers ask in roughly increasing order, so the map grows from the front.
    const answer = this.#queue.then(async () => {
      await this.#cover(end)
      if (!this.#useLbaStatus) return false
      let at = first
      for (const extent of this.#extents) {
        if (extent.end <= at) continue
        if (extent.start > at || !extent.hole) return false
        at = extent.end
        if (at >= end) break
      }
      const hole = at >= end
      if (hole) this.deallocatedBytes += length
      // Forget extents wholly before this range to keep the map small.
      while (this.#extents.length > 0 && this.#extents[0]!.end <= first) this.#extents.shift()
      return hole
    })
    this.#queue = answer.catch(() => undefined)
    return answer
  }

  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    return step('read', () => this.#session.read(this.#lun, BigInt(offset / this.blockSize), Math.ceil(length / this.blockSize), signalOption(signal))).then((data) =>
      data.length > length ? data.subarray(0, length) : data,
    )
  }

  async close(): Promise<void> {}
}

export class FileSource implements CopySource {
  readonly kind = 'file'
  readonly blockSize = 1
  readonly size: number
  readonly #file: FileHandle

  private constructor(file: FileHandle, size: number) {
    this.#file = file
    this.size = size
  }

  static async open(path: string): Promise<FileSource> {
    const info = await step(`open ${path}`, () => stat(path))
    if (!info.isFile()) throw new CliError('ISCSI_CLI_NOT_A_FILE', `${path} is not a regular file`, ExitCode.USAGE)
    return new FileSource(await step(`open ${path}`, () => open(path, 'r')), info.size)
  }

  isHole(): Promise<boolean> {
    return Promise.resolve(false)
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const data = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await step('read input', () => this.#file.read(data, done, length - done, offset + done))
      if (bytesRead === 0) throw new CliError('ISCSI_CLI_SHORT_READ', `input file shrank while copying (at ${offset + done})`, ExitCode.FAILURE)
      done += bytesRead
    }
    return data
  }

  close(): Promise<void> {
    return this.#file.close()
  }
}

export class LunDestination implements CopyDestination {
  readonly kind = 'lun'
  readonly capacity: number
  readonly blockSize: number
  readonly #session: CliSession
  readonly #lun: number
  readonly #thin: boolean
  readonly #lbprz: boolean
  readonly #zeroBlock: Buffer
  #writeSame = true
  /** How zero ranges went out, for the summary. */
  readonly zeroMethods = { writeSameUnmap: 0, writeSame: 0, unmap: 0, written: 0 }

  constructor(session: CliSession, lun: number, capacity: Capacity) {
    this.#session = session
    this.#lun = lun
    this.blockSize = capacity.blockSize
    this.capacity = lunSize(capacity)
    this.#thin = capacity.lbpme
    this.#lbprz = capacity.lbprz
    this.#zeroBlock = Buffer.alloc(capacity.blockSize)
  }

  async write(offset: number, data: Buffer, signal?: AbortSignal): Promise<void> {
    const lba = BigInt(offset / this.blockSize)
    const whole = data.length - (data.length % this.blockSize)
    if (whole > 0) await step('write', () => this.#session.write(this.#lun, lba, data.subarray(0, whole), signalOption(signal)))
    if (whole === data.length) return
    // The source ends inside a block: keep the rest of that block as it is on the LUN.
    const tailLba = lba + BigInt(whole / this.blockSize)
    const block = await step('read', () => this.#session.read(this.#lun, tailLba, 1, signalOption(signal)))
    data.copy(block, 0, whole)
    await step('write', () => this.#session.write(this.#lun, tailLba, block, signalOption(signal)))
  }

  async writeZeros(offset: number, length: number, signal?: AbortSignal): Promise<void> {
    const whole = length - (length % this.blockSize)
    if (whole < length) await this.write(offset + whole, Buffer.alloc(length - whole), signal)
    if (whole === 0) return
    const lba = BigInt(offset / this.blockSize)
    const blocks = whole / this.blockSize
    if (this.#writeSame) {
      try {
        await this.#session.writeSame(this.#lun, lba, blocks, { unmap: this.#thin, data: this.#zeroBlock, ...signalOption(signal) })
        if (this.#thin) this.zeroMethods.writeSameUnmap += whole
        else this.zeroMethods.writeSame += whole
        return
      } catch (error) {
        if (!isIllegalRequest(error)) throw new CliError(describeCause(error).code, `write same failed: ${describeCause(error).message}`, describeCause(error).exitCode, { cause: error })
        this.#writeSame = false
      }
    }
    if (this.#thin && this.#lbprz) {
      try {
        await this.#session.unmap(this.#lun, [{ lba, blocks }])
        this.zeroMethods.unmap += whole
        return
      } catch (error) {
        if (!isIllegalRequest(error)) throw new CliError(describeCause(error).code, `unmap failed: ${describeCause(error).message}`, describeCause(error).exitCode, { cause: error })
      }
    }
    await step('write', () => this.#session.write(this.#lun, lba, Buffer.alloc(whole), signalOption(signal)))
    this.zeroMethods.written += whole
  }

  finish(): Promise<void> {
    return step('synchronize cache', () => this.#session.syncCache(this.#lun))
  }

  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    return step('read back', () => this.#session.read(this.#lun, BigInt(offset / this.blockSize), Math.ceil(length / this.blockSize), signalOption(signal))).then((data) =>
      data.length > length ? data.subarray(0, length) : data,
    )
  }

  async close(): Promise<void> {}
}

export class FileDestination implements CopyDestination {
  readonly kind = 'file'
  readonly capacity = undefined
  readonly blockSize = 1
  readonly #file: FileHandle

  private constructor(file: FileHandle) {
    this.#file = file
  }

  /** Open for writing: truncated for a new copy (so skipped zeros are holes), kept as is when resuming. */
  static async open(path: string, options: { resume: boolean }): Promise<FileDestination> {
    const existing = await stat(path).catch(() => undefined)
    if (existing !== undefined && !existing.isFile()) throw new CliError('ISCSI_CLI_NOT_A_FILE', `${path} is not a regular file`, ExitCode.USAGE)
    const flags = options.resume && existing !== undefined ? 'r+' : 'w+'
    return new FileDestination(await step(`open ${path}`, () => open(path, flags)))
  }

  async write(offset: number, data: Buffer): Promise<void> {
    let done = 0
    while (done < data.length) {
      const { bytesWritten } = await step('write output', () => this.#file.write(data, done, data.length - done, offset + done))
      done += bytesWritten
    }
  }

  /** Nothing to write: the file was truncated, so the range is a hole (or, when resuming, already zero). */
  writeZeros(): Promise<void> {
    return Promise.resolve()
  }

  async finish(size: number): Promise<void> {
    await step('truncate output', () => this.#file.truncate(size))
    await step('sync output', () => this.#file.sync())
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const data = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await step('read back', () => this.#file.read(data, done, length - done, offset + done))
      if (bytesRead === 0) break
      done += bytesRead
    }
    return data
  }

  close(): Promise<void> {
    return this.#file.close()
  }
}
