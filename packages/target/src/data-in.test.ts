import { describe, expect, it } from 'vitest'
import { dataInSegments } from './data-in.js'

describe('dataInSegments', () => {
  it('cuts by MaxRecvDataSegmentLength and sets F at every MaxBurstLength boundary', () => {
    const segments = [...dataInSegments(10000, 3000, 4096)]
    expect(segments.map((s) => [s.offset, s.length, s.dataSN, s.final, s.last])).toEqual([
      [0, 3000, 0, false, false],
      [3000, 1096, 1, true, false],
      [4096, 3000, 2, false, false],
      [7096, 1096, 3, true, false],
      [8192, 1808, 4, true, true],
    ])
  })

  it('yields nothing for an empty transfer and continues DataSN after R2Ts', () => {
    expect([...dataInSegments(0, 8192, 8192)]).toEqual([])
    const [first] = [...dataInSegments(100, 8192, 8192, 3)]
    expect(first).toEqual({ offset: 0, length: 100, dataSN: 3, final: true, last: true })
  })

  it('covers every byte exactly once', () => {
    for (const [total, seg, burst] of [
      [1, 1, 1],
      [65536, 8192, 65536],
      [262145, 8192, 16384],
      [12345, 512, 4096],
    ] as const) {
      let expected = 0
      for (const s of dataInSegments(total, seg, burst)) {
        expect(s.offset).toBe(expected)
        expect(s.length).toBeLessThanOrEqual(seg)
        expected += s.length
      }
      expect(expected).toBe(total)
    }
  })
})
