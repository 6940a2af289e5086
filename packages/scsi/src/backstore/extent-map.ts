// An allocation map: which logical blocks are mapped, as sorted, disjoint, non-adjacent extents of mapped blocks.
// Marking and querying cost O(log n + k) for k extents touched, and the map stays small for the common case of a
// few large runs (a thin image that has been written sequentially, or fully written).
import type { AllocationExtent } from './backstore.js'

export class ExtentMap {
  /** Start LBAs of mapped extents, ascending. */
  private starts: number[] = []
  /** End LBAs (exclusive) of mapped extents; ends[i] < starts[i+1]. */
  private ends: number[] = []
  private count: number

  constructor(blockCount: number, allMapped: boolean) {
    this.count = blockCount
    if (allMapped && blockCount > 0) {
      this.starts = [0]
      this.ends = [blockCount]
    }
  }

  get blockCount(): number {
    return this.count
  }

  /** Number of mapped extents. */
  get size(): number {
    return this.starts.length
  }

  /** Index of the first extent whose end is after lba. */
  private firstEndingAfter(lba: number): number {
    let lo = 0
    let hi = this.ends.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.ends[mid]! <= lba) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Mark [lba, lba+blocks) mapped or deallocated. Returns whether anything changed. */
  set(lba: number, blocks: number, mapped: boolean): boolean {
    if (blocks <= 0) return false
    const end = lba + blocks
    if (mapped) {
      // Merge with every extent that overlaps or touches [lba, end).
      const i = this.firstEndingAfter(lba - 1)
      let j = i
      let start = lba
      let stop = end
      while (j < this.starts.length && this.starts[j]! <= end) {
        start = Math.min(start, this.starts[j]!)
        stop = Math.max(stop, this.ends[j]!)
        j++
      }
      if (j - i === 1 && this.starts[i] === start && this.ends[i] === stop) return false
      this.starts.splice(i, j - i, start)
      this.ends.splice(i, j - i, stop)
      return true
    }
    const i = this.firstEndingAfter(lba)
    let j = i
    const keepStarts: number[] = []
    const keepEnds: number[] = []
    while (j < this.starts.length && this.starts[j]! < end) {
      if (this.starts[j]! < lba) {
        keepStarts.push(this.starts[j]!)
        keepEnds.push(lba)
      }
      if (this.ends[j]! > end) {
        keepStarts.push(end)
        keepEnds.push(this.ends[j]!)
      }
      j++
    }
    if (j === i) return false
    this.starts.splice(i, j - i, ...keepStarts)
    this.ends.splice(i, j - i, ...keepEnds)
    return true
  }

  /** Whether every block of [lba, lba+blocks) is mapped. */
  isMapped(lba: number, blocks: number): boolean {
    if (blocks <= 0) return true
    const i = this.firstEndingAfter(lba)
    return i < this.starts.length && this.starts[i]! <= lba && this.ends[i]! >= lba + blocks
  }

  /** The mapped extents inside [lba, lba+blocks), clipped to it. */
  mappedWithin(lba: number, blocks: number): AllocationExtent[] {
    const end = lba + blocks
    const out: AllocationExtent[] = []
    for (let i = this.firstEndingAfter(lba); i < this.starts.length && this.starts[i]! < end; i++) {
      const start = Math.max(lba, this.starts[i]!)
      out.push({ lba: start, blocks: Math.min(end, this.ends[i]!) - start, mapped: true })
    }
    return out
  }

  /** Consecutive extents (mapped and deallocated) covering [lba, lba+blocks). */
  runs(lba: number, blocks: number): AllocationExtent[] {
    const out: AllocationExtent[] = []
    let cursor = lba
    const end = lba + blocks
    for (const extent of this.mappedWithin(lba, blocks)) {
      if (extent.lba > cursor) out.push({ lba: cursor, blocks: extent.lba - cursor, mapped: false })
      out.push(extent)
      cursor = extent.lba + extent.blocks
    }
    if (cursor < end) out.push({ lba: cursor, blocks: end - cursor, mapped: false })
    return out
  }

  /** Change the block count: a shrink forgets extents past the end; a grow adds deallocated blocks. */
  resize(blockCount: number): void {
    if (blockCount < this.count) this.set(blockCount, this.count - blockCount, false)
    this.count = blockCount
  }

  /** All mapped extents as [start, end) pairs. */
  extents(): Array<readonly [number, number]> {
    return this.starts.map((start, i) => [start, this.ends[i]!] as const)
  }

  /** Rebuild a map from mapped extents (as `extents()` returns them); throws RangeError when they are not sorted, disjoint and inside. */
  static fromExtents(blockCount: number, extents: ReadonlyArray<readonly [number, number]>): ExtentMap {
    const map = new ExtentMap(blockCount, false)
    let previous = -1
    for (const [start, end] of extents) {
      if (!(start > previous && end > start && end <= blockCount)) throw new RangeError(`extent ${start}-${end} is out of order or range`)
      map.starts.push(start)
      map.ends.push(end)
      previous = end
    }
    return map
  }
}
