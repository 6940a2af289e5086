import { describe, expect, it } from 'vitest'
import { POOLED_READ_BYTES, SMALL_READ_BYTES, pooledReadBytes, readBuffer } from './read-buffers.js'

describe('readBuffer', () => {
  it('gives small reads disjoint, 8-byte aligned views of a shared slab, with nothing to release', () => {
    const views = [readBuffer(4096), readBuffer(4096), readBuffer(13), readBuffer(8)]
    expect(views.map((v) => v.buffer.length)).toEqual([4096, 4096, 13, 8])
    expect(views.every((v) => v.release === undefined)).toBe(true)
    for (const { buffer } of views) expect(buffer.byteOffset % 8).toBe(0)
    views.forEach(({ buffer }, i) => buffer.fill(i + 1))
    views.forEach(({ buffer }, i) => expect(buffer.every((byte) => byte === i + 1)).toBe(true))
  })

  it('moves to a new slab when the current one is full', () => {
    const views = Array.from({ length: 40 }, () => readBuffer(4096).buffer)
    for (const [index, view] of views.entries()) view.fill(index)
    for (const [index, view] of views.entries()) expect(view.every((byte) => byte === index)).toBe(true)
    expect(new Set(views.map((view) => view.buffer)).size).toBeGreaterThan(1)
  })

  it('pools large read buffers: one given back is handed out again, one still held never is', () => {
    const size = 128 * 1024 + 4096 // a size no other test uses
    const a = readBuffer(size)
    const b = readBuffer(size)
    expect(a.buffer.buffer).not.toBe(b.buffer.buffer)
    expect(a.buffer.length).toBe(size)
    expect(a.release).toBeTypeOf('function')
    const before = pooledReadBytes()
    a.release!()
    expect(pooledReadBytes()).toBe(before + size)
    const c = readBuffer(size)
    expect(c.buffer).toBe(a.buffer)
    expect(pooledReadBytes()).toBe(before)
    // b was never given back: a further read gets a fresh buffer, not b's.
    const d = readBuffer(size)
    expect(d.buffer.buffer).not.toBe(b.buffer.buffer)
    expect(d.buffer.buffer).not.toBe(c.buffer.buffer)
  })

  it('ignores a second release, so a buffer can never be handed to two reads', () => {
    const size = 96 * 1024 + 512
    const a = readBuffer(size)
    a.release!()
    a.release!()
    const first = readBuffer(size)
    const second = readBuffer(size)
    expect(first.buffer).toBe(a.buffer)
    expect(second.buffer.buffer).not.toBe(a.buffer.buffer)
  })

  it('gives reads past the pooled size their own Buffer, left to the GC', () => {
    const large = readBuffer(POOLED_READ_BYTES + 512)
    expect(large.buffer.length).toBe(POOLED_READ_BYTES + 512)
    expect(large.release).toBeUndefined()
    expect(readBuffer(SMALL_READ_BYTES + 512).release).toBeTypeOf('function')
  })
})
