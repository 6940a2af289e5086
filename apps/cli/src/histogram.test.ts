import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Histogram } from './histogram.js'

function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

describe('Histogram', () => {
  it('is exact below 2^bits', () => {
    const h = new Histogram({ precisionBits: 7 })
    for (let v = 1; v <= 100; v++) h.record(v)
    expect(h.valueAt(50)).toBe(50)
    expect(h.valueAt(90)).toBe(90)
    expect(h.valueAt(99)).toBe(99)
    expect(h.valueAt(100)).toBe(100)
    expect(h.valueAt(0)).toBe(1)
    const s = h.snapshot()
    expect(s.count).toBe(100)
    expect(s.min).toBe(1)
    expect(s.max).toBe(100)
    expect(s.mean).toBeCloseTo(50.5)
  })

  it('reports p50/p90/p99/p99.9 of a known distribution within the bucket precision', () => {
    const h = new Histogram()
    // 1000 values: 1..1000 microseconds in nanoseconds.
    for (let i = 1; i <= 1000; i++) h.record(i * 1000)
    const s = h.snapshot([50, 90, 99, 99.9])
    const expected = [500_000, 900_000, 990_000, 999_000]
    s.percentiles.forEach(({ value }, i) => {
      expect(value).toBeGreaterThanOrEqual(expected[i]!)
      expect(value).toBeLessThanOrEqual(expected[i]! * (1 + 1 / 128))
    })
  })

  it('keeps every percentile within 1/2^bits of the exact one (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.1, max: 100, noNaN: true }), (values, p) => {
        const h = new Histogram({ precisionBits: 7 })
        for (const v of values) h.record(v)
        const exact = exactPercentile([...values].sort((a, b) => a - b), p)
        const got = h.valueAt(p)
        expect(got).toBeGreaterThanOrEqual(exact)
        expect(got).toBeLessThanOrEqual(exact + Math.max(1, exact / 128))
      }),
      { numRuns: 300, interruptAfterTimeLimit: 2000 },
    )
  })

  it('handles values around powers of two and the top of the range', () => {
    const h = new Histogram({ precisionBits: 4 })
    for (const v of [15, 16, 17, 31, 32, 33, 2 ** 52, Number.MAX_SAFE_INTEGER]) h.record(v)
    expect(h.valueAt(100)).toBe(Number.MAX_SAFE_INTEGER)
    expect(h.valueAt(1)).toBe(15)
    expect(h.count).toBe(8)
  })

  it('buckets values on both sides of 2^31 and 2^32 alike (integer and floating-point paths)', () => {
    for (const v of [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 31]) {
      const h = new Histogram({ precisionBits: 7 })
      h.record(v)
      h.record(v * 4) // a larger max, so valueAt(50) shows the bucket's top rather than the max
      const top = h.valueAt(50)
      expect(top).toBeGreaterThanOrEqual(v)
      expect(top).toBeLessThanOrEqual(v + v / 128)
    }
  })

  it('merges histograms', () => {
    const a = new Histogram()
    const b = new Histogram()
    for (let i = 0; i < 50; i++) a.record(10)
    for (let i = 0; i < 50; i++) b.record(1000)
    a.merge(b)
    expect(a.count).toBe(100)
    expect(a.valueAt(50)).toBe(10)
    expect(a.valueAt(51)).toBeGreaterThanOrEqual(1000)
    expect(a.snapshot().max).toBe(1000)
  })

  it('an empty histogram reports zeros', () => {
    const s = new Histogram().snapshot()
    expect(s).toMatchObject({ count: 0, min: 0, max: 0, mean: 0, stddev: 0 })
    expect(s.percentiles.every((p) => p.value === 0)).toBe(true)
  })

  it('rejects a bad precision and merging different precisions', () => {
    expect(() => new Histogram({ precisionBits: 0 })).toThrow(RangeError)
    expect(() => new Histogram({ precisionBits: 4 }).merge(new Histogram({ precisionBits: 5 }))).toThrow(RangeError)
  })
})
