import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { formatSize, parseDuration, parseSize } from './units.js'

describe('parseSize', () => {
  it.each([
    ['4096', 4096],
    ['4096B', 4096],
    ['1K', 1024],
    ['512M', 512 * 2 ** 20],
    ['512MiB', 512 * 2 ** 20],
    ['1G', 2 ** 30],
    ['1g', 2 ** 30],
    ['10GB', 10 * 2 ** 30],
    ['1.5T', 1.5 * 2 ** 40],
    [' 2 G ', 2 * 2 ** 30],
    [65536, 65536],
  ] as const)('%s is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes)
  })

  it.each(['', 'G', '1X', '-1G', '1 GG', 'ten', '1e3', '0x10', '1.5', '9999999P'])('rejects %j', (input) => {
    expect(parseSize(input)).toBeUndefined()
  })

  it('rejects fractional and negative numbers', () => {
    expect(parseSize(1.5)).toBeUndefined()
    expect(parseSize(-1)).toBeUndefined()
  })

  it('formatSize gives back a spelling parseSize reads as the same size', () => {
    expect(formatSize(2 ** 30)).toBe('1G')
    expect(formatSize(1536)).toBe('1536')
    expect(formatSize(3 * 2 ** 20)).toBe('3M')
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (bytes) => parseSize(formatSize(bytes)) === bytes),
      { numRuns: 2000 },
    )
  })
})

describe('parseDuration', () => {
  it.each([
    ['15s', 15_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
    ['1.5s', 1500],
    [0, 0],
  ] as const)('%s is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['', 's', '5x', '-1s', '1d'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined()
  })
})
