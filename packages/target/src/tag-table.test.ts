import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TagTable } from './tag-table.js'

describe('TagTable', () => {
  it('sets, gets, replaces and deletes tags across the whole 32-bit range', () => {
    const table = new TagTable<string>()
    table.set(1, 'a').set(0xffffffff, 'b').set(0x80000000, 'c').set(0, 'd')
    expect(table.size).toBe(4)
    expect(table.get(0xffffffff)).toBe('b')
    expect(table.get(0x80000000)).toBe('c')
    expect(table.get(0)).toBe('d')
    expect(table.has(2)).toBe(false)
    table.set(1, 'e')
    expect(table.size).toBe(4)
    expect(table.get(1)).toBe('e')
    expect(table.delete(0x80000000)).toBe(true)
    expect(table.delete(0x80000000)).toBe(false)
    expect(table.get(0x80000000)).toBeUndefined()
    expect([...table.values()].sort()).toEqual(['b', 'd', 'e'])
    table.clear()
    expect(table.size).toBe(0)
    expect(table.get(1)).toBeUndefined()
  })

  it('grows past its first capacity and keeps every entry reachable through collisions and deletions', () => {
    const table = new TagTable<number>(4)
    // Tags that differ only in high bits land on the same home slot of a small table.
    for (let i = 0; i < 1000; i++) table.set(i * 0x10000, i)
    expect(table.size).toBe(1000)
    for (let i = 0; i < 1000; i += 2) table.delete(i * 0x10000)
    expect(table.size).toBe(500)
    for (let i = 0; i < 1000; i++) expect(table.get(i * 0x10000)).toBe(i % 2 === 0 ? undefined : i)
  })

  it('lets values() be taken while the table changes', () => {
    const table = new TagTable<number>()
    for (let i = 0; i < 10; i++) table.set(i, i)
    for (const value of table.values()) table.delete(value)
    expect(table.size).toBe(0)
  })

  it('behaves as a Map under any sequence of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), tag: fc.integer({ min: 0, max: 63 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), tag: fc.integer({ min: 0, max: 63 }) }),
      fc.record({ kind: fc.constant('set' as const), tag: fc.nat({ max: 0xffffffff }), value: fc.integer() }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const table = new TagTable<number>(2)
        const model = new Map<number, number>()
        for (const o of ops) {
          if (o.kind === 'set') {
            table.set(o.tag, o.value)
            model.set(o.tag, o.value)
          } else {
            expect(table.delete(o.tag)).toBe(model.delete(o.tag))
          }
        }
        expect(table.size).toBe(model.size)
        for (const [tag, value] of model) expect(table.get(tag)).toBe(value)
        expect([...table.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b))
      }),
      { interruptAfterTimeLimit: 2000, numRuns: 300 },
    )
  })
})
