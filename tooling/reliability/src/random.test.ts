import { describe, expect, it } from 'vitest'
import { budget, isLong, timeoutFor } from './budget.js'
import { Random, seedFrom } from './random.js'

describe('Random', () => {
  it('replays the same sequence from the same seed, another from another seed', () => {
    const a = new Random(42)
    const b = new Random(42)
    const c = new Random(43)
    const first = Array.from({ length: 16 }, () => a.uint32())
    expect(Array.from({ length: 16 }, () => b.uint32())).toEqual(first)
    expect(Array.from({ length: 16 }, () => c.uint32())).not.toEqual(first)
  })

  it('keeps int() inside its inclusive bounds and reaches both ends', () => {
    const random = new Random(7)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const n = random.int(-3, 3)
      expect(n).toBeGreaterThanOrEqual(-3)
      expect(n).toBeLessThanOrEqual(3)
      seen.add(n)
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3])
    expect(() => random.int(2, 1)).toThrow(RangeError)
  })

  it('spreads uint32 over all bytes and weighted() follows its weights', () => {
    const random = new Random(1)
    const bytes = random.bytes(64 * 1024)
    const counts = new Array<number>(256).fill(0)
    for (const b of bytes) counts[b]!++
    // 256 cells, 256 expected per cell: a fair source stays well within these bounds.
    expect(Math.min(...counts)).toBeGreaterThan(170)
    expect(Math.max(...counts)).toBeLessThan(350)
    const picks = { a: 0, b: 0 }
    for (let i = 0; i < 4000; i++) picks[random.weighted<'a' | 'b'>([['a', 3], ['b', 1]])]++
    expect(picks.a / picks.b).toBeGreaterThan(2.4)
    expect(picks.a / picks.b).toBeLessThan(3.7)
  })

  it('reads seeds from the environment and refuses bad ones', () => {
    expect(seedFrom('123')).toBe(123)
    expect(() => seedFrom('-1')).toThrow(RangeError)
    expect(() => seedFrom('abc')).toThrow(RangeError)
    expect(seedFrom(undefined)).toBeGreaterThanOrEqual(0)
  })
})

describe('budget', () => {
  it('picks the long value only under RELIABILITY_LONG', () => {
    expect(isLong({})).toBe(false)
    expect(isLong({ RELIABILITY_LONG: '0' })).toBe(false)
    expect(isLong({ RELIABILITY_LONG: 'false' })).toBe(false)
    expect(isLong({ RELIABILITY_LONG: '1' })).toBe(true)
    expect(budget(5, 50, { RELIABILITY_LONG: '1' })).toBe(50)
    expect(budget(5, 50, {})).toBe(5)
    expect(timeoutFor(10)).toBe(75_000)
  })
})
