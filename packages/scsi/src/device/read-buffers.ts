// Buffers for read data. `Buffer.allocUnsafe(4096)` does not come from Node's pool (it pools only requests under
// 4 KiB): each 4 KiB read would make its own ArrayBuffer, a malloc and an external allocation the GC must track and
// sweep one by one, tens of thousands of times a second. Small reads are instead carved from a shared slab, as
// Node's pool does for smaller requests; a slab is freed once every view carved from it is garbage (the transport
// copies small data-in into its own send buffers, so views die within the command).
//
// Large reads (64 KiB, 128 KiB, 1 MiB) are taken from a pool and given back by the transport once it has sent them
// (`ScsiResult.release`). Without it every large read allocates fresh external memory, and V8 counts external
// bytes towards starting a full GC: a target that met 128 KiB reads after a quiet spell ran a mark-compact every
// 20-30 ms for its first seconds of traffic, at 40 % of its later rate. A buffer nobody gives back is only garbage
// (the pool never hands out a buffer it has not been given back), so a transport that ignores `release` is safe.

/** Reads up to this size share slabs; larger ones come from the pool. */
export const SMALL_READ_BYTES = 16 * 1024
const SLAB_BYTES = 64 * 1024
/** Largest read whose buffer is pooled; larger ones are allocated and left to the GC. */
export const POOLED_READ_BYTES = 1024 * 1024
/** Most bytes the pool keeps idle across every size. */
const POOL_LIMIT_BYTES = 32 * 1024 * 1024

let slab: Buffer | undefined
let used = SLAB_BYTES

/** Idle buffers by exact size. */
const pool = new Map<number, Buffer[]>()
let pooledBytes = 0

/** A read buffer and, for a pooled one, how to give it back once nothing refers to it any more. */
export interface ReadBuffer {
  readonly buffer: Buffer
  /** Give the buffer back; call at most once, and only when nothing reads it any more. Absent: leave it to the GC. */
  readonly release: (() => void) | undefined
}

/** An uninitialized Buffer of `bytes` for read data (contents are whatever was there: fill it all). */
export function readBuffer(bytes: number): ReadBuffer {
  if (bytes > SMALL_READ_BYTES) return bytes > POOLED_READ_BYTES ? { buffer: Buffer.allocUnsafe(bytes), release: undefined } : pooled(bytes)
  if (slab === undefined || used + bytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    used = 0
  }
  const view = slab.subarray(used, used + bytes)
  // 8-byte alignment keeps every view usable as a typed array of any element size.
  used += (bytes + 7) & ~7
  return { buffer: view, release: undefined }
}

function pooled(bytes: number): ReadBuffer {
  const idle = pool.get(bytes)
  let buffer = idle?.pop()
  if (buffer === undefined) buffer = Buffer.allocUnsafeSlow(bytes)
  else pooledBytes -= bytes
  const taken = buffer
  let released = false
  return {
    buffer: taken,
    release: () => {
      // A second call would put the buffer in the pool twice and hand it to two reads at once.
      if (released) return
      released = true
      if (pooledBytes + bytes > POOL_LIMIT_BYTES) return
      let list = pool.get(bytes)
      if (list === undefined) pool.set(bytes, (list = []))
      list.push(taken)
      pooledBytes += bytes
    },
  }
}

/** Bytes the pool keeps idle now (for tests and diagnostics). */
export function pooledReadBytes(): number {
  return pooledBytes
}
