// A log-bucketed latency histogram: bucket b holds values in [GROWTH^b, GROWTH^(b+1)) microseconds, so percentiles
// are within 2% of the truth whatever the spread, in a few hundred buckets. Histograms merge by adding counts, and
// travel between processes as [bucket, count] pairs.
const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)

export class Histogram {
  constructor() {
    this.counts = new Map()
    this.count = 0
    this.sum = 0
    this.max = 0
  }

  /** Record one value in microseconds. */
  record(us) {
    const value = Math.max(us, 1)
    const bucket = Math.floor(Math.log(value) / LOG_GROWTH)
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1)
    this.count += 1
    this.sum += value
    if (value > this.max) this.max = value
  }

  /** The value below which `p` percent of the values lie (the upper edge of its bucket, capped at the max). */
  percentile(p) {
    if (this.count === 0) return undefined
    const rank = Math.ceil((p / 100) * this.count)
    let seen = 0
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)
      if (seen >= rank) return Math.min(GROWTH ** (bucket + 1), this.max)
    }
    return this.max
  }

  mean() {
    return this.count === 0 ? undefined : this.sum / this.count
  }

  toJSON() {
    return { buckets: [...this.counts.entries()], count: this.count, sum: this.sum, max: this.max }
  }

  /** Add the counts of a histogram or of its toJSON() form. */
  merge(other) {
    const data = other instanceof Histogram ? other.toJSON() : other
    for (const [bucket, count] of data.buckets) this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count)
    this.count += data.count
    this.sum += data.sum
    if (data.max > this.max) this.max = data.max
    return this
  }
}
