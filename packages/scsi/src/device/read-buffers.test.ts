import { describe, expect, it } from 'vitest'
import { SMALL_READ_BYTES, readBuffer } from './read-buffers.js'

describe('readBuffer', () => {
  it('gives small reads disjoint, 8-byte aligned views of a shared slab', () => {
    const a = readBuffer(4096)
    const b = readBuffer(4096)
    const c = readBuffer(13)
    const d = readBuffer(8)
    expect([a.length, b.length, c.length, d.length]).toEqual([4096, 4096, 13, 8])
    for (const view of [a, b, c, d]) expect(view.byteOffset % 8).toBe(0)
    a.fill(1)
    b.fill(2)
    c.fill(3)
    d.fill(4)
    expect(a.every((byte) => byte === 1)).toBe(true)
    expect(b.every((byte) => byte === 2)).toBe(true)
    expect(c.every((byte) => byte === 3)).toBe(true)
    expect(d.every((byte) => byte === 4)).toBe(true)
  })

  it('moves to a new slab when the current one is full, and gives large reads their own Buffer', () => {
    const views = Array.from({ length: 40 }, () => readBuffer(4096))
    for (const [index, view] of views.entries()) view.fill(index)
    for (const [index, view] of views.entries()) expect(view.every((byte) => byte === index)).toBe(true)
    expect(new Set(views.map((view) => view.buffer)).size).toBeGreaterThan(1)
    const large = readBuffer(SMALL_READ_BYTES + 512)
    expect(large.length).toBe(SMALL_READ_BYTES + 512)
    expect(views.some((view) => view.buffer === large.buffer)).toBe(false)
  })
})
