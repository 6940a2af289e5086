// A sparse in-memory backstore: storage is allocated in chunks on first write, unmap frees whole chunks and zeroes
// partial ones, and the chunk map is the allocation status. Reads of unallocated chunks return zeros (LBPRZ).
import { type AllocationExtent, type Backstore, backstoreErrno, checkRange } from './backstore.js'

export interface MemoryBackstoreOptions {
  /** Capacity in bytes (a multiple of blockSize). */
  readonly size: number
  /** Bytes per block: 512 (default) or 4096, or any power of two from 512 to 65536. */
  readonly blockSize?: number
  /** Allocation unit in bytes, a multiple of blockSize (default 64 KiB). */
  readonly chunkSize?: number
  /** Refuse writes (EROFS). */
  readonly readOnly?: boolean
  readonly name?: string
}

/** Run synchronous work as a promise: a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()))
}

/** Largest single write reported as atomic (WRITE ATOMIC): 1 MiB; a write is one synchronous copy. */
const ATOMIC_BYTES = 1024 * 1024

export class MemoryBackstore implements Backstore {
  readonly blockSize: number
  readonly readOnly: boolean
  readonly name: string | undefined
  readonly unmapGranularity: number
  readonly atomicWriteBlocks: number
  private count: number
  private readonly chunkBlocks: number
  private readonly chunks = new Map<number, Buffer>()
  private closed = false

  constructor(options: MemoryBackstoreOptions) {
    const blockSize = options.blockSize ?? 512
    if (!Number.isInteger(Math.log2(blockSize)) || blockSize < 512 || blockSize > 65536) throw new RangeError(`block size ${blockSize} is not a power of two from 512 to 65536`)
    const chunkSize = options.chunkSize ?? 64 * 1024
    if (!Number.isInteger(chunkSize) || chunkSize < blockSize || chunkSize % blockSize !== 0) throw new RangeError(`chunk size ${chunkSize} is not a multiple of the block size`)
    if (!Number.isSafeInteger(options.size) || options.size < 0 || options.size % blockSize !== 0) throw new RangeError(`size ${options.size} is not a multiple of the block size`)
    this.blockSize = blockSize
    this.count = options.size / blockSize
    this.chunkBlocks = chunkSize / blockSize
    this.readOnly = options.readOnly ?? false
    this.name = options.name
    this.unmapGranularity = this.chunkBlocks
    this.atomicWriteBlocks = Math.max(1, Math.floor(ATOMIC_BYTES / blockSize))
  }

  get blockCount(): number {
    return this.count
  }

  /** Bytes of storage allocated (chunks x chunk size). */
  get allocatedBytes(): number {
    return this.chunks.size * this.chunkBlocks * this.blockSize
  }

  private open(): void {
    if (this.closed) throw backstoreErrno('EBADF', 'memory backstore is closed')
  }

  /** Visit the chunk pieces of [lba, lba+blocks): chunk index, block offset in the chunk, blocks, byte offset in the request. */
  private *pieces(lba: number, blocks: number): Generator<readonly [number, number, number, number]> {
    let done = 0
    while (done < blocks) {
      const block = lba + done
      const index = Math.floor(block / this.chunkBlocks)
      const within = block - index * this.chunkBlocks
      const take = Math.min(this.chunkBlocks - within, blocks - done)
      yield [index, within, take, done * this.blockSize]
      done += take
    }
  }

  read(lba: number, blocks: number, into: Buffer): Promise<void> {
    return settle(() => {
      this.open()
      checkRange(lba, blocks, this.count)
      if (into.length < blocks * this.blockSize) throw new RangeError('read buffer is smaller than the blocks asked')
      for (const [index, within, take, offset] of this.pieces(lba, blocks)) {
        const chunk = this.chunks.get(index)
        const bytes = take * this.blockSize
        if (chunk === undefined) into.fill(0, offset, offset + bytes)
        else chunk.copy(into, offset, within * this.blockSize, within * this.blockSize + bytes)
      }
    })
  }

  write(lba: number, data: Buffer, _options?: { fua?: boolean }): Promise<void> {
    return settle(() => {
      this.open()
      if (this.readOnly) throw backstoreErrno('EROFS', 'memory backstore is read-only')
      if (data.length % this.blockSize !== 0) throw new RangeError(`write of ${data.length} bytes is not a whole number of blocks`)
      const blocks = data.length / this.blockSize
      checkRange(lba, blocks, this.count)
      for (const [index, within, take, offset] of this.pieces(lba, blocks)) {
        let chunk = this.chunks.get(index)
        if (chunk === undefined) {
          chunk = Buffer.alloc(this.chunkBlocks * this.blockSize)
          this.chunks.set(index, chunk)
        }
        data.copy(chunk, within * this.blockSize, offset, offset + take * this.blockSize)
      }
    })
  }

  flush(): Promise<void> {
    return settle(() => {
      this.open()
    })
  }

  unmap(lba: number, blocks: number): Promise<void> {
    return settle(() => {
      this.open()
      if (this.readOnly) throw backstoreErrno('EROFS', 'memory backstore is read-only')
      checkRange(lba, blocks, this.count)
      for (const [index, within, take] of this.pieces(lba, blocks)) {
        const chunk = this.chunks.get(index)
        if (chunk === undefined) continue
        if (take === this.chunkBlocks) this.chunks.delete(index)
        else chunk.fill(0, within * this.blockSize, (within + take) * this.blockSize)
      }
    })
  }

  allocationStatus(lba: number, blocks: number): Promise<AllocationExtent[]> {
    return settle(() => {
      this.open()
      checkRange(lba, blocks, this.count)
      const out: AllocationExtent[] = []
      for (const [index, , take] of this.pieces(lba, blocks)) {
        const mapped = this.chunks.has(index)
        const last = out.at(-1)
        if (last !== undefined && last.mapped === mapped) out[out.length - 1] = { ...last, blocks: last.blocks + take }
        else out.push({ lba: last === undefined ? lba : last.lba + last.blocks, blocks: take, mapped })
      }
      return out
    })
  }

  resize(blockCount: number): Promise<void> {
    return settle(() => {
      this.open()
      if (this.readOnly) throw backstoreErrno('EROFS', 'memory backstore is read-only')
      if (!Number.isSafeInteger(blockCount) || blockCount < 0) throw new RangeError(`block count ${blockCount} is invalid`)
      if (blockCount < this.count) {
        // Forget what lies past the new end, so a later grow reads zeros there.
        for (const index of [...this.chunks.keys()]) {
          const first = index * this.chunkBlocks
          if (first >= blockCount) this.chunks.delete(index)
          else if (first + this.chunkBlocks > blockCount) this.chunks.get(index)!.fill(0, (blockCount - first) * this.blockSize)
        }
      }
      this.count = blockCount
    })
  }

  close(): Promise<void> {
    return settle(() => {
      this.closed = true
      this.chunks.clear()
    })
  }
}
