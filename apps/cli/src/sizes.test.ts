import { describe, expect, it } from 'vitest'
import { UsageError } from './errors.js'
import { formatBytes, formatMicros, formatRate, parseCount, parseDuration, parseSize } from './sizes.js'

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['4k', 4096],
    ['4K', 4096],
    ['4KiB', 4096],
    ['4kib', 4096],
    ['1M', 1048576],
    ['1.5M', 1572864],
    ['1GiB', 1073741824],
    ['2g', 2147483648],
    ['1T', 1099511627776],
    ['10MB', 10_000_000],
    ['4kB', 4000],
    ['4KB', 4000],
    ['100b', 100],
    ['0x1000', 4096],
    [' 8k ', 8192],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each(['', 'k', '-1', '1.5', '4x', '4 kibibytes', '1e3', '0.3k', '99999999999P'])('rejects %j', (text) => {
    expect(() => parseSize(text, '--bs')).toThrow(UsageError)
  })

  it('names the option in the message', () => {
    expect(() => parseSize('12q', '--length')).toThrow(/--length.*unknown unit 'q'/)
  })
})

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['2min', 120_000],
    ['1.5h', 5_400_000],
    ['3', 3000],
    ['0.25s', 250],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', 's', '10 seconds', '-1s', '1d'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError)
  })
})

describe('parseCount', () => {
  it('accepts whole numbers in range', () => {
    expect(parseCount('32', '--qd')).toBe(32)
    expect(parseCount('1', '--qd', { max: 4 })).toBe(1)
  })
  it('rejects zero, out of range and junk', () => {
    expect(() => parseCount('0', '--qd')).toThrow(/between 1 and/)
    expect(() => parseCount('5', '--qd', { max: 4 })).toThrow(/between 1 and 4/)
    expect(() => parseCount('3.5', '--qd')).toThrow(/whole number/)
  })
})

describe('formatting', () => {
  it('formats bytes with binary units, exact values without decimals', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(4096)).toBe('4 KiB')
    expect(formatBytes(1572864)).toBe('1.5 MiB')
    expect(formatBytes(1073741824n)).toBe('1 GiB')
    expect(formatBytes(268435456)).toBe('256 MiB')
    expect(formatBytes(1000)).toBe('1000 B')
    expect(formatBytes(123456789)).toBe('118 MiB')
    expect(formatBytes(12345678)).toBe('11.8 MiB')
  })
  it('formats rates in decimal MB/s', () => {
    expect(formatRate(412_345_678)).toBe('412 MB/s')
    expect(formatRate(12_345_678)).toBe('12.3 MB/s')
    expect(formatRate(1_234_567)).toBe('1.23 MB/s')
  })
  it('formats microseconds with a fitting unit', () => {
    expect(formatMicros(87.23)).toBe('87.2 us')
    expect(formatMicros(5.5)).toBe('5.50 us')
    expect(formatMicros(1250)).toBe('1.25 ms')
    expect(formatMicros(123_400)).toBe('123 ms')
    expect(formatMicros(2_100_000)).toBe('2.10 s')
  })
})
