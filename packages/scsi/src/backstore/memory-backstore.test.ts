import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryBackstore } from './memory-backstore.js'

describe('MemoryBackstore', () => {
  it('allocates chunks on first write and reads zeros elsewhere', async () => {
    const store = new MemoryBackstore({ size: 1024 * 1024, chunkSize: 64 * 1024 })
    expect(store.blockCount).toBe(2048)
    expect(store.allocatedBytes).toBe(0)
    await store.write(200, Buffer.alloc(512, 0xab))
    expect(store.allocatedBytes).toBe(64 * 1024)
    const out = Buffer.alloc(1024)
    await store.read(199, 2, out)
    expect(out.subarray(0, 512).every((byte) => byte === 0)).toBe(true)
    expect(out.subarray(512).every((byte) => byte === 0xab)).toBe(true)
    expect(await store.allocationStatus(0, 2048)).toEqual([
      { lba: 0, blocks: 128, mapped: false },
      { lba: 128, blocks: 128, mapped: true },
      { lba: 256, blocks: 1792, mapped: false },
    ])
  })

  it('unmap frees whole chunks and zeroes partial ones', async () => {
    const store = new MemoryBackstore({ size: 512 * 512, chunkSize: 8 * 512 })
    await store.write(0, Buffer.alloc(32 * 512, 1))
    await store.unmap(4, 12) // zero 4-7 of chunk 0, free chunk 1 (8-15)
    expect(store.allocatedBytes).toBe(3 * 8 * 512)
    const out = Buffer.alloc(32 * 512)
    await store.read(0, 32, out)
    for (let block = 0; block < 32; block++) expect(out[block * 512]).toBe(block >= 4 && block < 16 ? 0 : 1)
    expect((await store.allocationStatus(0, 32)).map((run) => run.mapped)).toEqual([true, false, true])
  })

  it('refuses bad ranges, partial blocks and writes when read-only', async () => {
    const store = new MemoryBackstore({ size: 4096 })
    await expect(store.read(7, 2, Buffer.alloc(1024))).rejects.toThrow(RangeError)
    await expect(store.write(0, Buffer.alloc(100))).rejects.toThrow(RangeError)
    const readOnly = new MemoryBackstore({ size: 4096, readOnly: true })
    await expect(readOnly.write(0, Buffer.alloc(512))).rejects.toMatchObject({ code: 'EROFS' })
    expect(() => new MemoryBackstore({ size: 1000 })).toThrow(RangeError)
    expect(() => new MemoryBackstore({ size: 4096, chunkSize: 700 })).toThrow(RangeError)
    await store.close()
    await expect(store.read(0, 1, Buffer.alloc(512))).rejects.toMatchObject({ code: 'EBADF' })
  })

  it('resize drops data past a shrink, so a grow reads zeros', async () => {
    const store = new MemoryBackstore({ size: 64 * 512, chunkSize: 16 * 512 })
    await store.write(0, Buffer.alloc(64 * 512, 9))
    await store.resize(20)
    await store.resize(64)
    const out = Buffer.alloc(64 * 512)
    await store.read(0, 64, out)
    expect(out[19 * 512]).toBe(9)
    expect(out[20 * 512]).toBe(0)
    expect(out[40 * 512]).toBe(0)
  })

  it('reads what was written (property, against a flat model)', async () => {
    const blocks = 64
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), lba: fc.integer({ min: 0, max: blocks - 1 }), count: fc.integer({ min: 1, max: 9 }), value: fc.integer({ min: 1, max: 255 }) }),
            fc.record({ op: fc.constant('unmap' as const), lba: fc.integer({ min: 0, max: blocks - 1 }), count: fc.integer({ min: 1, max: 20 }) }),
          ),
          { maxLength: 30 },
        ),
        async (operations) => {
          const store = new MemoryBackstore({ size: blocks * 512, chunkSize: 4 * 512 })
          const model = Buffer.alloc(blocks * 512)
          for (const operation of operations) {
            const count = Math.min(operation.count, blocks - operation.lba)
            if (operation.op === 'write') {
              const data = Buffer.alloc(count * 512, operation.value)
              await store.write(operation.lba, data)
              data.copy(model, operation.lba * 512)
            } else {
              await store.unmap(operation.lba, count)
              model.fill(0, operation.lba * 512, (operation.lba + count) * 512)
            }
          }
          const out = Buffer.alloc(blocks * 512)
          await store.read(0, blocks, out)
          expect(out.equals(model)).toBe(true)
          // Every deallocated block reads as zeros.
          for (const run of await store.allocationStatus(0, blocks)) {
            if (!run.mapped) expect(model.subarray(run.lba * 512, (run.lba + run.blocks) * 512).every((byte) => byte === 0)).toBe(true)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
