import { describe, expect, it } from 'vitest'
import { TaskTable } from './task-table.js'

describe('TaskTable', () => {
  it('hands out increasing tags and skips the reserved 0xffffffff across the wrap', () => {
    const table = new TaskTable<string>(0xfffffffe)
    expect(table.allocate()).toBe(0xfffffffe)
    expect(table.allocate()).toBe(0)
    expect(table.allocate()).toBe(1)
  })

  it('never hands out a tag still in use', () => {
    const table = new TaskTable<string>(5)
    table.set(6, 'busy')
    table.set(7, 'busy too')
    expect(table.allocate()).toBe(5)
    expect(table.allocate()).toBe(8)
    expect(table.get(6)).toBe('busy')
    expect(table.delete(6)).toBe(true)
    expect(table.get(6)).toBeUndefined()
    expect(table.size).toBe(1)
  })

  it('refuses to register the reserved tag and drains everything', () => {
    const table = new TaskTable<number>()
    expect(() => table.set(0xffffffff, 1)).toThrow(RangeError)
    table.set(table.allocate(), 10)
    table.set(table.allocate(), 20)
    expect([...table.values()]).toEqual([10, 20])
    expect(table.drain()).toEqual([10, 20])
    expect(table.size).toBe(0)
  })

  it('grows past its first array and finds every live task, with tags spread far apart', () => {
    const table = new TaskTable<number>(0xffffff00)
    const live = new Map<number, number>()
    for (let i = 0; i < 1000; i++) {
      const tag = table.allocate()
      table.set(tag, i)
      live.set(tag, i)
      // Finish most tasks soon, keep every 7th for long (like a command stuck at the target).
      if (i % 7 !== 0) {
        table.delete(tag)
        live.delete(tag)
      }
    }
    expect(table.size).toBe(live.size)
    for (const [tag, value] of live) expect(table.get(tag)).toBe(value)
    expect([...table.values()].sort((a, b) => a - b)).toEqual([...live.values()].sort((a, b) => a - b))
    // A finished tag, or one never handed out, is not found; deleting it again is refused.
    expect(table.get(0xffffff01)).toBeUndefined()
    expect(table.delete(0xffffff01)).toBe(false)
  })

  it('never hands out a tag whose slot holds a live task, and keeps tags that share low bits apart', () => {
    const table = new TaskTable<string>(0)
    table.set(64, 'a') // the same slot as tags 0, 128, ... in a 64-entry array
    expect(table.allocate()).toBe(1) // 0 shares the slot of 64: skipped
    table.set(128, 'b') // a clash: the array grows until 64 and 128 have slots of their own
    expect(table.get(64)).toBe('a')
    expect(table.get(128)).toBe('b')
    expect(table.get(0)).toBeUndefined()
    expect(table.drain().sort()).toEqual(['a', 'b'])
    expect(table.get(64)).toBeUndefined()
  })

  it('refuses a tag that is not a 32-bit number', () => {
    const table = new TaskTable<number>()
    expect(() => table.set(-1, 1)).toThrow(RangeError)
    expect(() => table.set(2 ** 32, 1)).toThrow(RangeError)
    expect(() => table.set(1.5, 1)).toThrow(RangeError)
  })
})
