// The backstore contract: the storage a logical unit serves. Async and latency tolerant; a user implements it over
// anything (a Map, a file, an object store). Errors are Node-style errors with a `code` (EIO, ENOSPC, EROFS): the
// device server turns them into the CHECK CONDITION SBC-3 names (see device/backstore-failure.ts).

/** One run of logical blocks with the same provisioning status (SBC-3 4.7.2). */
export interface AllocationExtent {
  readonly lba: number
  readonly blocks: number
  /** true: mapped; false: deallocated (reads return zeros). */
  readonly mapped: boolean
}

export interface Backstore {
  /** Bytes per logical block (512 or 4096). */
  readonly blockSize: number
  /** Number of logical blocks (LBAs 0 .. blockCount-1). */
  readonly blockCount: number
  readonly readOnly?: boolean
  /** A stable name of the storage (a path, a volume id); the default unit serial number derives from it. */
  readonly name?: string
  /** Blocks unmap deallocates best in (VPD B0h OPTIMAL UNMAP GRANULARITY); 1 when absent. */
  readonly unmapGranularity?: number
  /** Most blocks one `write` call stores atomically, also across a crash (WRITE ATOMIC, VPD B0h); absent: none. */
  readonly atomicWriteBlocks?: number
  /** Fill `into` (length blocks*blockSize) with the blocks at lba. */
  read(lba: number, blocks: number, into: Buffer): Promise<void>
  /** Store data (a whole number of blocks) at lba; with fua the data is stable before the promise resolves. */
  write(lba: number, data: Buffer, options?: { fua?: boolean }): Promise<void>
  /** Make everything written so far stable. */
  flush(): Promise<void>
  /** Deallocate; reads then return zeros. */
  unmap?(lba: number, blocks: number): Promise<void>
  /** Provisioning status of a range, as consecutive extents covering it. */
  allocationStatus?(lba: number, blocks: number): Promise<AllocationExtent[]>
  /** Change the number of blocks (grow or shrink). */
  resize?(blockCount: number): Promise<void>
  close(): Promise<void>
}

/** A Node-style error with a code, as backstores throw them. */
export function backstoreErrno(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`)
  error.code = code
  return error
}

/** Throw RangeError unless [lba, lba+blocks) lies inside a device of blockCount blocks. */
export function checkRange(lba: number, blocks: number, blockCount: number): void {
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(blocks) || lba < 0 || blocks < 0 || lba + blocks > blockCount) {
    throw new RangeError(`blocks ${lba}+${blocks} are outside the ${blockCount}-block device`)
  }
}
