// Log-bucketed latency histogram: percentiles within the bucket width, merging across processes.
import { describe, expect, it } from 'vitest'
import { Histogram } from './histogram.mjs'

describe('Histogram', () => {
  it('gives percentiles within 2% of the exact ones', () => {
    const h = new Histogram()
    for (let us = 1; us <= 10_000; us++) h.record(us)
    for (const [p, exact] of [[50, 5000], [99, 9900], [99.9, 9990]] as const) {
      const value = h.percentile(p)!
      expect(value).toBeGreaterThanOrEqual(exact * 0.98)
      expect(value).toBeLessThanOrEqual(exact * 1.02)
    }
    expect(h.percentile(100)).toBe(10_000)
    expect(h.mean()).toBeCloseTo(5000.5, 6)
  })

  it('merges the JSON form of another histogram', () => {
    const a = new Histogram()
    const b = new Histogram()
    for (let i = 0; i < 99; i++) a.record(100)
    b.record(50_000)
    const merged = new Histogram().merge(a).merge(JSON.parse(JSON.stringify(b)) as ReturnType<Histogram['toJSON']>)
    expect(merged.count).toBe(100)
    expect(merged.percentile(50)).toBeLessThanOrEqual(102)
    expect(merged.percentile(100)).toBe(50_000)
    expect(new Histogram().percentile(50)).toBeUndefined()
  })
})
