// A latency histogram in the manner of HdrHistogram: values below 2^bits are counted exactly; above, each power of
// two is split into 2^bits linear sub-buckets, so any recorded value is known to within 1/2^bits of itself
// (0.8 % with the default 7 bits) in constant memory, whatever the range (1 ns .. 2^53 ns).

export interface HistogramSnapshot {
  readonly count: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly stddev: number
  /** Percentile (0..100) to value, each the highest value equivalent to the bucket that holds it, capped at max. */
  readonly percentiles: ReadonlyArray<{ readonly percentile: number; readonly value: number }>
}

export class Histogram {
  readonly #bits: number
  readonly #sub: number
  #counts: Float64Array
  #count = 0
  #min = Number.POSITIVE_INFINITY
  #max = 0
  #sum = 0
  #sumSquares = 0

  constructor(options: { precisionBits?: number } = {}) {
    const bits = options.precisionBits ?? 7
    if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError('precisionBits must be 1..16')
    this.#bits = bits
    this.#sub = 2 ** bits
    // Exact range [0, sub) plus one run of `sub` buckets for each exponent bits..52.
    this.#counts = new Float64Array(this.#sub * (54 - bits))
  }

  get count(): number {
    return this.#count
  }

  /** Index of the bucket that holds `value` (a non-negative integer). */
  #index(value: number): number {
    if (value < this.#sub) return value
    if (value <= 0xffffffff) {
      // Below 2^32 (4.3 s in ns, every latency in practice): exact integer bit arithmetic, no log2 or pow.
      const shift = 31 - Math.clz32(value) - this.#bits
      return this.#sub + shift * this.#sub + ((value >>> shift) - this.#sub)
    }
    const exponent = Math.floor(Math.log2(value))
    // Math.log2 may be off by one ulp near powers of two; settle the exponent exactly.
    const e = 2 ** exponent > value ? exponent - 1 : 2 ** (exponent + 1) <= value ? exponent + 1 : exponent
    const shift = e - this.#bits
    const mantissa = Math.floor(value / 2 ** shift) // in [sub, 2*sub)
    return this.#sub + shift * this.#sub + (mantissa - this.#sub)
  }

  /** Lowest and highest value that fall in bucket `index`. */
  #range(index: number): [number, number] {
    if (index < this.#sub) return [index, index]
    const shift = Math.floor((index - this.#sub) / this.#sub)
    const mantissa = this.#sub + ((index - this.#sub) % this.#sub)
    const low = mantissa * 2 ** shift
    return [low, low + 2 ** shift - 1]
  }

  /** Record one value (rounded to an integer, clamped to 0 .. 2^53-1). */
  record(value: number, count = 1): void {
    const v = Math.min(Math.max(0, Math.round(value)), Number.MAX_SAFE_INTEGER)
    this.#counts[this.#index(v)]! += count
    this.#count += count
    this.#sum += v * count
    this.#sumSquares += v * v * count
    if (v < this.#min) this.#min = v
    if (v > this.#max) this.#max = v
  }

  /** Add every value of another histogram of the same precision. */
  merge(other: Histogram): void {
    if (other.#bits !== this.#bits) throw new RangeError('cannot merge histograms of different precision')
    for (let i = 0; i < other.#counts.length; i++) this.#counts[i]! += other.#counts[i]!
    this.#count += other.#count
    this.#sum += other.#sum
    this.#sumSquares += other.#sumSquares
    this.#min = Math.min(this.#min, other.#min)
    this.#max = Math.max(this.#max, other.#max)
  }

  /** The value at percentile `p` (0..100): the smallest recorded value v such that p % of values are <= v. */
  valueAt(p: number): number {
    if (this.#count === 0) return 0
    if (p <= 0) return this.#min
    const rank = Math.max(1, Math.ceil((Math.min(p, 100) / 100) * this.#count))
    let seen = 0
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!
      if (seen >= rank) {
        const [, high] = this.#range(i)
        return Math.max(this.#min, Math.min(this.#max, high))
      }
    }
    return this.#max
  }

  snapshot(percentiles: readonly number[] = [50, 90, 99, 99.9]): HistogramSnapshot {
    const mean = this.#count === 0 ? 0 : this.#sum / this.#count
    const variance = this.#count === 0 ? 0 : Math.max(0, this.#sumSquares / this.#count - mean * mean)
    return {
      count: this.#count,
      min: this.#count === 0 ? 0 : this.#min,
      max: this.#max,
      mean,
      stddev: Math.sqrt(variance),
      percentiles: percentiles.map((percentile) => ({ percentile, value: this.valueAt(percentile) })),
    }
  }
}
