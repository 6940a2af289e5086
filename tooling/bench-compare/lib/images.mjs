// Backing files for the targets under test: sparse files of `size` bytes whose first `fill` bytes hold random data
// (so reads are served from written blocks, not holes), identical in content and layout: every chunk of random
// data is written to all of them. Each file is fdatasync'ed so no write-back of the fill competes with the measured
// runs; the data stays in the page cache, so both targets read from memory alike.
import { randomFillSync } from 'node:crypto'
import { open } from 'node:fs/promises'

const CHUNK = 4 * 1024 * 1024

/** Create every path of `paths` as described. */
export async function createImages(paths, { size, fill }) {
  const handles = []
  try {
    for (const path of paths) {
      const handle = await open(path, 'w')
      handles.push(handle)
      await handle.truncate(size)
    }
    const buffer = Buffer.allocUnsafe(CHUNK)
    for (let offset = 0; offset < Math.min(fill, size); offset += CHUNK) {
      const length = Math.min(CHUNK, fill - offset)
      randomFillSync(buffer, 0, length)
      for (const handle of handles) await handle.write(buffer, 0, length, offset)
    }
    for (const handle of handles) await handle.datasync()
  } finally {
    for (const handle of handles) await handle.close()
  }
}
