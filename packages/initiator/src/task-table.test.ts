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
})
