import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ExtentMap } from './extent-map.js'

describe('ExtentMap', () => {
  it('merges, splits and reports runs', () => {
    const map = new ExtentMap(100, false)
    expect(map.set(10, 10, true)).toBe(true)
    expect(map.set(20, 5, true)).toBe(true) // touching: merges
    expect(map.extents()).toEqual([[10, 25]])
    expect(map.set(12, 3, true)).toBe(false) // already mapped
    expect(map.set(15, 2, false)).toBe(true) // split
    expect(map.extents()).toEqual([
      [10, 15],
      [17, 25],
    ])
    expect(map.runs(0, 30)).toEqual([
      { lba: 0, blocks: 10, mapped: false },
      { lba: 10, blocks: 5, mapped: true },
      { lba: 15, blocks: 2, mapped: false },
      { lba: 17, blocks: 8, mapped: true },
      { lba: 25, blocks: 5, mapped: false },
    ])
    expect(map.isMapped(10, 5)).toBe(true)
    expect(map.isMapped(10, 6)).toBe(false)
    map.resize(20)
    expect(map.extents()).toEqual([
      [10, 15],
      [17, 20],
    ])
    expect(() => ExtentMap.fromExtents(10, [[5, 3]])).toThrow(RangeError)
  })

  it('agrees with a per-block model under random marks', () => {
    const size = 64
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 40 }), (operations) => {
        const map = new ExtentMap(size, false)
        const model = new Array<boolean>(size).fill(false)
        for (const [lba, length, mapped] of operations) {
          const blocks = Math.min(length, size - lba)
          map.set(lba, blocks, mapped)
          for (let i = lba; i < lba + blocks; i++) model[i] = mapped
        }
        const runs = map.runs(0, size)
        const flat = runs.flatMap((run) => new Array<boolean>(run.blocks).fill(run.mapped))
        expect(flat).toEqual(model)
        // Runs alternate: no two neighbours share a status, and a round trip through extents keeps the map.
        for (let i = 1; i < runs.length; i++) expect(runs[i]!.mapped).not.toBe(runs[i - 1]!.mapped)
        expect(ExtentMap.fromExtents(size, map.extents()).runs(0, size)).toEqual(runs)
      }),
      { numRuns: 1000 },
    )
  })
})
