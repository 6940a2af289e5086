import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ExtentMap } from './extent-map.js'
import { FileBackstore, InlineIoPolicy, decodeAllocationSidecar, encodeAllocationSidecar } from './file-backstore.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-ts-file-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

describe('FileBackstore', () => {
  it('creates a sparse image of the given size, all deallocated, and reads zeros', async () => {
    const path = join(dir, 'disk.img')
    const store = await FileBackstore.open(path, { size: 1024 * 1024, blockSize: 512 })
    expect(store.blockCount).toBe(2048)
    expect(store.name).toBe(path)
    expect((await stat(path)).size).toBe(1024 * 1024)
    expect(await store.allocationStatus(0, 2048)).toEqual([{ lba: 0, blocks: 2048, mapped: false }])
    const out = Buffer.alloc(4096, 0xff)
    await store.read(100, 8, out)
    expect(out.every((byte) => byte === 0)).toBe(true)
    expect(await exists(`${path}.alloc`)).toBe(true)
    await store.close()
  })

  it('refuses to create without a size, and opens read-only images read-only', async () => {
    await expect(FileBackstore.open(join(dir, 'missing.img'))).rejects.toMatchObject({ code: 'ENOENT' })
    const path = join(dir, 'ro.img')
    await (await FileBackstore.open(path, { size: 8192 })).close()
    const readOnly = await FileBackstore.open(path, { readOnly: true })
    await expect(readOnly.write(0, Buffer.alloc(512))).rejects.toMatchObject({ code: 'EROFS' })
    await readOnly.close()
  })

  it('writes, reads, and keeps allocation status across a reopen', async () => {
    const path = join(dir, 'disk.img')
    let store = await FileBackstore.open(path, { size: 64 * 4096, blockSize: 4096 })
    await store.write(3, Buffer.alloc(2 * 4096, 0x5a), { fua: true })
    await store.write(10, Buffer.alloc(4096, 0x11))
    await store.close()
    store = await FileBackstore.open(path, { blockSize: 4096 })
    expect(await store.allocationStatus(0, 64)).toEqual([
      { lba: 0, blocks: 3, mapped: false },
      { lba: 3, blocks: 2, mapped: true },
      { lba: 5, blocks: 5, mapped: false },
      { lba: 10, blocks: 1, mapped: true },
      { lba: 11, blocks: 53, mapped: false },
    ])
    const out = Buffer.alloc(3 * 4096)
    await store.read(2, 3, out)
    expect(out[0]).toBe(0)
    expect(out[4096]).toBe(0x5a)
    expect(out[2 * 4096 + 4095]).toBe(0x5a)
    await store.close()
  })

  it('removes the sidecar before blocks become mapped, and writes it back on flush', async () => {
    const path = join(dir, 'disk.img')
    const store = await FileBackstore.open(path, { size: 64 * 512 })
    await store.write(0, Buffer.alloc(512, 1))
    // The first write into deallocated blocks after the flush at creation invalidated the sidecar.
    expect(await exists(`${path}.alloc`)).toBe(false)
    await store.flush()
    expect(await exists(`${path}.alloc`)).toBe(true)
    // Overwriting mapped blocks does not touch the sidecar.
    await store.write(0, Buffer.alloc(512, 2))
    expect(await exists(`${path}.alloc`)).toBe(true)
    await store.close()
  })

  it('treats every block as mapped when the sidecar is missing or damaged', async () => {
    const path = join(dir, 'disk.img')
    await (await FileBackstore.open(path, { size: 16 * 512 })).close()
    await writeFile(`${path}.alloc`, Buffer.from('garbage'))
    let store = await FileBackstore.open(path)
    expect(await store.allocationStatus(0, 16)).toEqual([{ lba: 0, blocks: 16, mapped: true }])
    await store.close()
    await rm(`${path}.alloc`)
    store = await FileBackstore.open(path)
    expect(await store.allocationStatus(0, 16)).toEqual([{ lba: 0, blocks: 16, mapped: true }])
    await store.close()
  })

  it('unmap zeroes the middle and cuts the tail back to a hole', async () => {
    const path = join(dir, 'disk.img')
    const store = await FileBackstore.open(path, { size: 32 * 512 })
    await store.write(0, Buffer.alloc(32 * 512, 0x77))
    await store.unmap(4, 4)
    await store.unmap(24, 8)
    expect((await stat(path)).size).toBe(32 * 512)
    const out = Buffer.alloc(32 * 512)
    await store.read(0, 32, out)
    for (let block = 0; block < 32; block++) expect(out[block * 512], `block ${block}`).toBe((block >= 4 && block < 8) || block >= 24 ? 0 : 0x77)
    expect((await store.allocationStatus(0, 32)).map(({ lba, blocks, mapped }) => [lba, blocks, mapped])).toEqual([
      [0, 4, true],
      [4, 4, false],
      [8, 16, true],
      [24, 8, false],
    ])
    await store.close()
  })

  it('grows and shrinks on resize; a changed size invalidates the stored map until the next flush', async () => {
    const path = join(dir, 'disk.img')
    const store = await FileBackstore.open(path, { size: 8 * 512 })
    await store.write(0, Buffer.alloc(8 * 512, 3))
    await store.flush()
    await store.resize(16)
    expect(store.blockCount).toBe(16)
    expect((await stat(path)).size).toBe(16 * 512)
    expect(await store.allocationStatus(0, 16)).toEqual([
      { lba: 0, blocks: 8, mapped: true },
      { lba: 8, blocks: 8, mapped: false },
    ])
    const stale = decodeAllocationSidecar(await readFile(`${path}.alloc`), 512, 16)
    expect(stale).toBeUndefined()
    await store.flush()
    expect(decodeAllocationSidecar(await readFile(`${path}.alloc`), 512, 16)?.extents()).toEqual([[0, 8]])
    await store.resize(4)
    await expect(store.read(4, 1, Buffer.alloc(512))).rejects.toThrow(RangeError)
    await store.close()
  })

  it('encodes the sidecar with a checksum that catches any flipped byte', () => {
    const map = new ExtentMap(1000, false)
    map.set(10, 20, true)
    map.set(500, 1, true)
    const encoded = encodeAllocationSidecar(512, map)
    expect(decodeAllocationSidecar(encoded, 512, 1000)?.extents()).toEqual([
      [10, 30],
      [500, 501],
    ])
    expect(decodeAllocationSidecar(encoded, 4096, 1000)).toBeUndefined()
    for (let i = 0; i < encoded.length; i++) {
      const damaged = Buffer.from(encoded)
      damaged[i] = damaged[i]! ^ 0x01
      expect(decodeAllocationSidecar(damaged, 512, 1000), `byte ${i}`).toBeUndefined()
    }
  })
})

describe('InlineIoPolicy', () => {
  /** A policy on a clock the test moves; `call(ms)` is one inline call that takes `ms`. */
  function policy() {
    let now = 1000
    const p = new InlineIoPolicy(() => now)
    const call = (ms: number): void => {
      const start = p.begin()
      now += ms
      p.end(start)
    }
    const wait = (ms: number): void => {
      now += ms
    }
    return { p, call, wait }
  }

  it('runs small calls inline and never large ones', () => {
    const { p, call } = policy()
    expect(p.allows(4096)).toBe(true)
    expect(p.allows(InlineIoPolicy.MAX_BYTES)).toBe(true)
    expect(p.allows(InlineIoPolicy.MAX_BYTES + 1)).toBe(false)
    for (let i = 0; i < 100; i++) call(0.01)
    expect(p.allows(4096)).toBe(true)
  })

  it('shrugs off scattered slow calls, but sends I/O to the thread pool when many are slow, backing off while they stay slow', () => {
    const { p, call, wait } = policy()
    const slow = InlineIoPolicy.SLOW_MS * 2
    // One slow call in eight (a preempted loop, not the disk): inline stays on.
    for (let i = 0; i < 400; i++) call(i % 8 === 0 ? slow : 0.002)
    expect(p.allows(4096)).toBe(true)
    // Every call slow (data no longer in memory): off within a handful of calls.
    let calls = 0
    while (p.allows(4096) && calls < 10) {
      call(slow)
      calls++
    }
    expect(calls).toBeLessThan(10)
    expect(p.allows(4096)).toBe(false)
    wait(InlineIoPolicy.BACKOFF_MS)
    expect(p.allows(4096)).toBe(true)
    // Still slow when tried again: twice as long in the pool.
    while (p.allows(4096)) call(slow)
    wait(InlineIoPolicy.BACKOFF_MS)
    expect(p.allows(4096)).toBe(false)
    wait(InlineIoPolicy.BACKOFF_MS)
    expect(p.allows(4096)).toBe(true)
    // Fast again for a while: the back-off starts over.
    for (let i = 0; i < InlineIoPolicy.SETTLE_CALLS; i++) call(0.002)
    while (p.allows(4096)) call(slow)
    wait(InlineIoPolicy.BACKOFF_MS)
    expect(p.allows(4096)).toBe(true)
  })

  it('reads and writes the same bytes inline and through the thread pool', async () => {
    const path = join(dir, 'inline.img')
    const store = await FileBackstore.open(path, { size: 256 * 512 })
    const small = Buffer.alloc(8 * 512, 0x3c)
    const large = Buffer.alloc(64 * 512, 0xc3)
    await store.write(0, small)
    await store.write(100, large)
    const smallBack = Buffer.alloc(small.length)
    const largeBack = Buffer.alloc(large.length)
    await store.read(0, 8, smallBack)
    await store.read(100, 64, largeBack)
    expect(smallBack.equals(small)).toBe(true)
    expect(largeBack.equals(large)).toBe(true)
    // A read spanning both: large, so through the pool.
    const both = Buffer.alloc(164 * 512)
    await store.read(0, 164, both)
    expect(both.subarray(0, small.length).equals(small)).toBe(true)
    expect(both.subarray(100 * 512).equals(large)).toBe(true)
    await store.close()
    await expect(store.read(0, 1, Buffer.alloc(512))).rejects.toThrow(/closed/)
  })
})
