import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { snAdd, snDistance, snGt, snInWindow, snLt, snLte } from './serial.js'

describe('RFC 1982 serial arithmetic', () => {
  it('orders numbers across the 2^32 wrap', () => {
    expect(snLt(0xfffffffe, 1)).toBe(true)
    expect(snGt(1, 0xfffffffe)).toBe(true)
    expect(snLt(5, 5)).toBe(false)
    expect(snLte(5, 5)).toBe(true)
    expect(snAdd(0xffffffff, 1)).toBe(0)
    expect(snDistance(0xffffffff, 2)).toBe(3)
  })

  it('leaves pairs exactly 2^31 apart unordered (RFC 1982 3.2)', () => {
    expect(snLt(0, 0x80000000)).toBe(false)
    expect(snGt(0, 0x80000000)).toBe(false)
  })

  it('treats high = low - 1 as an empty window', () => {
    expect(snInWindow(10, 10, 9)).toBe(false)
    expect(snInWindow(9, 10, 9)).toBe(false)
    expect(snInWindow(10, 10, 10)).toBe(true)
    expect(snInWindow(0, 0xfffffffe, 1)).toBe(true)
    expect(snInWindow(2, 0xfffffffe, 1)).toBe(false)
  })

  it('a + n is greater than a for 0 < n < 2^31 (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (a, n) => {
        expect(snLt(a, snAdd(a, n))).toBe(true)
        expect(snGt(snAdd(a, n), a)).toBe(true)
        expect(snInWindow(snAdd(a, n - 1), a, snAdd(a, n - 1))).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})
