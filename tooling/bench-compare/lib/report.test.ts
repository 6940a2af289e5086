// Medians, ratios, sizes and the table layout.
import { describe, expect, it } from 'vitest'
import { fmt, fmtRatio, median, parseSeconds, parseSize, ratio, renderTable } from './report.mjs'

describe('median', () => {
  it('takes the middle value, the mean of the middle two, and ignores missing ones', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([undefined, 5, Number.NaN])).toBe(5)
    expect(median([])).toBeUndefined()
  })
})

describe('ratio and formatting', () => {
  it('divides only positive, finite figures', () => {
    expect(ratio(3, 2)).toBe(1.5)
    expect(ratio(3, 0)).toBeUndefined()
    expect(ratio(undefined, 2)).toBeUndefined()
    expect(fmtRatio(1.2549)).toBe('1.25x')
    expect(fmtRatio(undefined)).toBe('-')
    expect(fmt(12345.678, 1)).toBe('12,345.7')
    expect(fmt(undefined)).toBe('-')
  })
})

describe('parseSize and parseSeconds', () => {
  it('reads binary sizes and durations, and rejects junk', () => {
    expect(parseSize('1G')).toBe(1024 ** 3)
    expect(parseSize('256M')).toBe(256 * 1024 ** 2)
    expect(parseSize('4k')).toBe(4096)
    expect(parseSize('512')).toBe(512)
    expect(parseSize('1GiB')).toBe(1024 ** 3)
    expect(parseSize('-1G')).toBeUndefined()
    expect(parseSize('lots')).toBeUndefined()
    expect(parseSeconds('5')).toBe(5)
    expect(parseSeconds('500ms')).toBe(0.5)
    expect(parseSeconds('0')).toBeUndefined()
  })
})

describe('renderTable', () => {
  it('aligns columns, draws rules and prints heading lines as they are', () => {
    const text = renderTable([{ title: 'side', align: 'left' }, { title: 'IOPS' }], ['heading line', ['ours', '1,000'], '-', ['tgt', '12']])
    expect(text.split('\n')).toEqual(['side   IOPS', '----  -----', 'heading line', 'ours  1,000', '----  -----', 'tgt      12'])
  })
})
