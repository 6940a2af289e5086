// Buffers for read data. `Buffer.allocUnsafe(4096)` does not come from Node's pool (it pools only requests under
// 4 KiB): each 4 KiB read would make its own ArrayBuffer, a malloc and an external allocation the GC must track and
// sweep one by one, tens of thousands of times a second. Small reads are instead carved from a shared slab, as
// Node's pool does for smaller requests; a slab is freed once every view carved from it is garbage (the transport
// copies small data-in into its own send buffers, so views die within the command).

/** Reads up to this size share slabs; larger ones get a Buffer of their own. */
export const SMALL_READ_BYTES = 16 * 1024
const SLAB_BYTES = 64 * 1024

let slab: Buffer | undefined
let used = SLAB_BYTES

/** An uninitialized Buffer of `bytes` for read data (contents are whatever was there: fill it all). */
export function readBuffer(bytes: number): Buffer {
  if (bytes > SMALL_READ_BYTES) return Buffer.allocUnsafe(bytes)
  if (slab === undefined || used + bytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    used = 0
  }
  const view = slab.subarray(used, used + bytes)
  // 8-byte alignment keeps every view usable as a typed array of any element size.
  used += (bytes + 7) & ~7
  return view
}
