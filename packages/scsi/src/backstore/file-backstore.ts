// A backstore over a sparse image file. Reads and writes are positional (FileHandle.read/write into and from the
// caller's buffers); FUA is a datasync after the write, flush an fdatasync. Node has no fallocate, so unmap writes
// zeros over the mapped part of the range in large chunks, except a range reaching the end of the file, which is
// cut off and grown back with ftruncate so it becomes a hole again.
//
// Allocation is tracked in an extent map persisted to a sidecar `<image>.alloc`, so GET LBA STATUS survives
// restarts. The sidecar is only ever a *conservative* picture: it may call deallocated blocks mapped, never the
// reverse. That holds across a crash at any point because of the order of operations:
// - a write into deallocated blocks first removes the sidecar (unlink + directory fsync) unless it is already gone,
//   then marks the blocks mapped in memory, then writes the data;
// - flush fdatasyncs the image, then writes the whole map to `<image>.alloc.tmp`, fsyncs it, renames it over the
//   sidecar and fsyncs the directory. Flush and the first step of a write exclude each other, so no write maps
//   blocks between the map snapshot and the rename;
// - unmap zeroes first and marks the blocks deallocated afterwards; a stale sidecar then still says mapped.
// On open, a missing or unreadable sidecar means every block is treated as mapped.
import { createHash } from 'node:crypto'
import { constants, read as fsRead, readSync, write as fsWrite, writeSync } from 'node:fs'
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { type AllocationExtent, type Backstore, backstoreErrno, checkRange } from './backstore.js'
import { ExtentMap } from './extent-map.js'

export interface FileBackstoreOptions {
  /** Size in bytes to create the image with when it does not exist (a multiple of blockSize). */
  readonly size?: number
  /** Bytes per block (default 512). */
  readonly blockSize?: number
  readonly readOnly?: boolean
}

const SIDECAR_MAGIC = Buffer.from('ISTSALC1', 'latin1')
const SIDECAR_HEADER = 32
const DIGEST_BYTES = 32
/** Zero-fill chunk of unmap. */
const ZERO_CHUNK = 1024 * 1024
const ZEROS = Buffer.alloc(ZERO_CHUNK)
const DONE = Promise.resolve()

/**
 * Positional read/write on the raw descriptor with the callback API: the hot path of every command, and about a
 * third cheaper per call than FileHandle's promise wrappers (the handle still owns the descriptor and closes it).
 */
function readAt(fd: number, into: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsRead(fd, into, offset, length, position, (error, bytesRead) => (error === null ? resolve(bytesRead) : reject(error)))
  })
}

function writeAt(fd: number, data: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsWrite(fd, data, offset, length, position, (error, bytesWritten) => (error === null ? resolve(bytesWritten) : reject(error)))
  })
}

/**
 * When small reads and writes run inline (readSync/writeSync on the event loop) rather than in libuv's thread pool.
 * A page-cache hit of a few KiB takes microseconds, far less than the thread hop it saves (two context switches and
 * the pool's lock per call). An operation that waits for the disk must not hold the event loop, so when a good share
 * of the recent inline calls were slow (a lone slow call is more often the loop being preempted), I/O goes back to
 * the thread pool for a while, twice as long each time it is still slow when tried again.
 */
export class InlineIoPolicy {
  /** Largest read or write ever run inline. */
  static readonly MAX_BYTES = 16 * 1024
  /** An inline call slower than this (ms) did not come from memory (a cached 4 KiB read takes a few microseconds). */
  static readonly SLOW_MS = 0.05
  /** Weight of the newest call in the running share of slow calls. */
  static readonly WEIGHT = 1 / 16
  /** Share of slow calls above which I/O goes to the thread pool. */
  static readonly SLOW_SHARE = 0.25
  static readonly BACKOFF_MS = 100
  static readonly MAX_BACKOFF_MS = 10_000
  /** Inline calls after a back-off that must pass without another one before the back-off starts over. */
  static readonly SETTLE_CALLS = 256
  readonly #now: () => number
  #share = 0
  /** Inline calls wait until this time (ms); 0 = no back-off in force or settling. */
  #until = 0
  #backoff = InlineIoPolicy.BACKOFF_MS
  #settling = 0

  constructor(now: () => number = () => performance.now()) {
    this.#now = now
  }

  allows(bytes: number): boolean {
    return bytes <= InlineIoPolicy.MAX_BYTES && (this.#until === 0 || this.#now() >= this.#until)
  }

  /** An inline call starts: returns the time to hand to `end`. */
  begin(): number {
    return this.#now()
  }

  /** The inline call that began at `start` is done (a call that throws still counts its time). */
  end(start: number): void {
    const now = this.#now()
    const W = InlineIoPolicy.WEIGHT
    this.#share = this.#share * (1 - W) + (now - start >= InlineIoPolicy.SLOW_MS ? W : 0)
    if (this.#share > InlineIoPolicy.SLOW_SHARE) {
      this.#share = 0
      this.#settling = 0
      this.#until = now + this.#backoff
      this.#backoff = Math.min(this.#backoff * 2, InlineIoPolicy.MAX_BACKOFF_MS)
    } else if (this.#until !== 0 && ++this.#settling >= InlineIoPolicy.SETTLE_CALLS) {
      this.#until = 0
      this.#backoff = InlineIoPolicy.BACKOFF_MS
    }
  }
}

/** A tiny mutex: run() calls execute one at a time, in order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve()
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work)
    this.tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}

async function fsyncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(path), constants.O_RDONLY)
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/** Serialize the map: header (magic, version, block size, block count, extent count), extents, SHA-256 of all that. */
export function encodeAllocationSidecar(blockSize: number, map: ExtentMap): Buffer {
  const extents = map.extents()
  const buf = Buffer.alloc(SIDECAR_HEADER + extents.length * 16 + DIGEST_BYTES)
  SIDECAR_MAGIC.copy(buf, 0)
  buf.writeUInt32BE(1, 8)
  buf.writeUInt32BE(blockSize, 12)
  buf.writeBigUInt64BE(BigInt(map.blockCount), 16)
  buf.writeUInt32BE(extents.length, 24)
  let offset = SIDECAR_HEADER
  for (const [start, end] of extents) {
    buf.writeBigUInt64BE(BigInt(start), offset)
    buf.writeBigUInt64BE(BigInt(end), offset + 8)
    offset += 16
  }
  createHash('sha256').update(buf.subarray(0, offset)).digest().copy(buf, offset)
  return buf
}

/** Parse a sidecar; undefined when it is damaged or does not describe this image. */
export function decodeAllocationSidecar(buf: Buffer, blockSize: number, blockCount: number): ExtentMap | undefined {
  if (buf.length < SIDECAR_HEADER + DIGEST_BYTES || !buf.subarray(0, 8).equals(SIDECAR_MAGIC)) return undefined
  if (buf.readUInt32BE(8) !== 1 || buf.readUInt32BE(12) !== blockSize) return undefined
  if (buf.readBigUInt64BE(16) !== BigInt(blockCount)) return undefined
  const count = buf.readUInt32BE(24)
  const end = SIDECAR_HEADER + count * 16
  if (buf.length !== end + DIGEST_BYTES) return undefined
  if (!createHash('sha256').update(buf.subarray(0, end)).digest().equals(buf.subarray(end))) return undefined
  const extents: Array<readonly [number, number]> = []
  for (let offset = SIDECAR_HEADER; offset < end; offset += 16) {
    extents.push([Number(buf.readBigUInt64BE(offset)), Number(buf.readBigUInt64BE(offset + 8))])
  }
  try {
    return ExtentMap.fromExtents(blockCount, extents)
  } catch {
    return undefined
  }
}

export class FileBackstore implements Backstore {
  readonly blockSize: number
  readonly readOnly: boolean
  readonly name: string
  readonly unmapGranularity = 1
  private count: number
  private readonly handle: FileHandle
  private readonly path: string
  private readonly sidecar: string
  private readonly map: ExtentMap
  /** The sidecar on disk describes the map (or a conservative superset of mapped blocks). */
  private sidecarValid: boolean
  /** The map changed since the sidecar was written. */
  private dirty = false
  private readonly sidecarLock = new Mutex()
  private closing: Promise<void> | undefined
  /** Reads and writes on the descriptor in flight; close waits for them (FileHandle did so for its own calls). */
  private inflight = 0
  private idle: (() => void) | undefined
  private readonly inline = new InlineIoPolicy()

  private constructor(path: string, handle: FileHandle, blockSize: number, blockCount: number, readOnly: boolean, map: ExtentMap, sidecarValid: boolean) {
    this.path = path
    this.name = path
    this.sidecar = `${path}.alloc`
    this.handle = handle
    this.blockSize = blockSize
    this.count = blockCount
    this.readOnly = readOnly
    this.map = map
    this.sidecarValid = sidecarValid
  }

  /** Open an image, creating it sparse at `size` bytes when it does not exist. */
  static async open(path: string, options: FileBackstoreOptions = {}): Promise<FileBackstore> {
    const blockSize = options.blockSize ?? 512
    if (!Number.isInteger(Math.log2(blockSize)) || blockSize < 512 || blockSize > 65536) throw new RangeError(`block size ${blockSize} is not a power of two from 512 to 65536`)
    const readOnly = options.readOnly ?? false
    const absolute = resolve(path)
    let handle: FileHandle
    let created = false
    try {
      handle = await open(absolute, readOnly ? constants.O_RDONLY : constants.O_RDWR)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || readOnly || options.size === undefined) throw error
      const size = options.size
      if (!Number.isSafeInteger(size) || size < 0 || size % blockSize !== 0) throw new RangeError(`size ${size} is not a multiple of the block size`)
      handle = await open(absolute, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644)
      created = true
      try {
        await handle.truncate(size)
        await handle.sync()
      } catch (failure) {
        await handle.close()
        throw failure
      }
    }
    try {
      const { size } = await handle.stat()
      const blockCount = Math.floor(size / blockSize)
      let map: ExtentMap
      let sidecarValid = false
      if (created) {
        map = new ExtentMap(blockCount, false)
      } else {
        let stored: ExtentMap | undefined
        try {
          stored = decodeAllocationSidecar(await readFile(`${absolute}.alloc`), blockSize, blockCount)
        } catch {
          stored = undefined
        }
        sidecarValid = stored !== undefined
        map = stored ?? new ExtentMap(blockCount, true)
      }
      const store = new FileBackstore(absolute, handle, blockSize, blockCount, readOnly, map, sidecarValid)
      if (created) await store.flush()
      return store
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  get blockCount(): number {
    return this.count
  }

  private checkWritable(): void {
    if (this.closing !== undefined) throw backstoreErrno('EBADF', `${basename(this.path)} is closed`)
    if (this.readOnly) throw backstoreErrno('EROFS', `${basename(this.path)} is open read-only`)
  }

  read(lba: number, blocks: number, into: Buffer): Promise<void> {
    try {
      if (this.closing !== undefined) throw backstoreErrno('EBADF', `${basename(this.path)} is closed`)
      checkRange(lba, blocks, this.count)
      const length = blocks * this.blockSize
      if (into.length < length) throw new RangeError('read buffer is smaller than the blocks asked')
      if (this.inline.allows(length)) {
        // A small read: inline, no promise chain.
        const start = this.inline.begin()
        try {
          this.readInline(into, length, lba * this.blockSize)
        } finally {
          this.inline.end(start)
        }
        return DONE
      }
      return this.readPooled(lba, length, into)
    } catch (error) {
      return Promise.reject(error as Error)
    }
  }

  private async readPooled(lba: number, length: number, into: Buffer): Promise<void> {
    let done = 0
    this.inflight++
    try {
      while (done < length) {
        const bytesRead = await readAt(this.handle.fd, into, done, length - done, lba * this.blockSize + done)
        if (bytesRead === 0) {
          // Past the end of a file cut short underneath us: holes read as zeros.
          into.fill(0, done, length)
          break
        }
        done += bytesRead
      }
    } finally {
      this.settle()
    }
  }

  private readInline(into: Buffer, length: number, position: number): void {
    let done = 0
    while (done < length) {
      const bytesRead = readSync(this.handle.fd, into, done, length - done, position + done)
      if (bytesRead === 0) {
        into.fill(0, done, length)
        return
      }
      done += bytesRead
    }
  }

  private settle(): void {
    if (--this.inflight === 0) this.idle?.()
  }

  /** Before blocks become mapped: make sure no sidecar on disk claims they are deallocated, then record them. */
  private async markMapped(lba: number, blocks: number): Promise<void> {
    if (this.map.isMapped(lba, blocks)) return
    await this.sidecarLock.run(async () => {
      if (this.sidecarValid) {
        try {
          await unlink(this.sidecar)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        }
        await fsyncDirectory(this.sidecar)
        this.sidecarValid = false
      }
      if (this.map.set(lba, blocks, true)) this.dirty = true
    })
  }

  write(lba: number, data: Buffer, options?: { fua?: boolean }): Promise<void> {
    const fua = options?.fua === true
    try {
      this.checkWritable()
      if (data.length % this.blockSize !== 0) throw new RangeError(`write of ${data.length} bytes is not a whole number of blocks`)
      const blocks = data.length / this.blockSize
      checkRange(lba, blocks, this.count)
      if (!fua && this.map.isMapped(lba, blocks) && this.inline.allows(data.length)) {
        // The common case, a small write over mapped blocks without FUA: done inline, no promise chain.
        const start = this.inline.begin()
        try {
          this.writeInline(lba * this.blockSize, data)
        } finally {
          this.inline.end(start)
        }
        return DONE
      }
    } catch (error) {
      return Promise.reject(error as Error)
    }
    return this.writeSlow(lba, data, fua)
  }

  private async writeSlow(lba: number, data: Buffer, fua: boolean): Promise<void> {
    await this.markMapped(lba, data.length / this.blockSize)
    await this.writeAt(lba * this.blockSize, data)
    if (fua) await this.handle.datasync()
  }

  private async writeAt(position: number, data: Buffer): Promise<void> {
    if (this.inline.allows(data.length)) {
      const start = this.inline.begin()
      try {
        this.writeInline(position, data)
      } finally {
        this.inline.end(start)
      }
      return
    }
    let done = 0
    this.inflight++
    try {
      while (done < data.length) {
        const bytesWritten = await writeAt(this.handle.fd, data, done, data.length - done, position + done)
        if (bytesWritten === 0) throw backstoreErrno('EIO', `short write at byte ${position + done}`)
        done += bytesWritten
      }
    } finally {
      this.settle()
    }
  }

  private writeInline(position: number, data: Buffer): void {
    let done = 0
    while (done < data.length) {
      const bytesWritten = writeSync(this.handle.fd, data, done, data.length - done, position + done)
      if (bytesWritten === 0) throw backstoreErrno('EIO', `short write at byte ${position + done}`)
      done += bytesWritten
    }
  }

  async flush(): Promise<void> {
    if (this.closing !== undefined) throw backstoreErrno('EBADF', `${basename(this.path)} is closed`)
    await this.persist()
  }

  /** fdatasync the image, then replace the sidecar with the current map when it is stale. */
  private async persist(): Promise<void> {
    if (this.readOnly) return
    await this.handle.datasync()
    await this.sidecarLock.run(async () => {
      if (this.sidecarValid && !this.dirty) return
      const temporary = `${this.sidecar}.tmp`
      await writeDurably(temporary, encodeAllocationSidecar(this.blockSize, this.map))
      await rename(temporary, this.sidecar)
      await fsyncDirectory(this.sidecar)
      this.sidecarValid = true
      this.dirty = false
    })
  }

  async unmap(lba: number, blocks: number): Promise<void> {
    this.checkWritable()
    checkRange(lba, blocks, this.count)
    const end = lba + blocks
    const fileEnd = this.count * this.blockSize
    if (end === this.count && blocks > 0) {
      // The range reaches the end: cut the file there and grow it back, leaving a hole.
      await this.handle.truncate(lba * this.blockSize)
      await this.handle.truncate(fileEnd)
    } else {
      for (const extent of this.map.mappedWithin(lba, blocks)) {
        let position = extent.lba * this.blockSize
        const stop = (extent.lba + extent.blocks) * this.blockSize
        while (position < stop) {
          const take = Math.min(ZERO_CHUNK, stop - position)
          await this.writeAt(position, ZEROS.subarray(0, take))
          position += take
        }
      }
    }
    if (this.map.set(lba, blocks, false)) this.dirty = true
  }

  allocationStatus(lba: number, blocks: number): Promise<AllocationExtent[]> {
    return new Promise((resolve) => {
      checkRange(lba, blocks, this.count)
      resolve(this.map.runs(lba, blocks))
    })
  }

  async resize(blockCount: number): Promise<void> {
    this.checkWritable()
    if (!Number.isSafeInteger(blockCount) || blockCount < 0) throw new RangeError(`block count ${blockCount} is invalid`)
    await this.sidecarLock.run(async () => {
      await this.handle.truncate(blockCount * this.blockSize)
      // The sidecar records the block count, so the stored one no longer matches; flush writes a new one.
      this.map.resize(blockCount)
      this.count = blockCount
      this.dirty = true
    })
  }

  /** Flush (sidecar included) and close the image. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.inflight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
        await this.persist()
      } finally {
        await this.handle.close()
      }
    })()
    return this.closing
  }
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644)
  try {
    await file.writeFile(data)
    await file.sync()
  } finally {
    await file.close()
  }
}
