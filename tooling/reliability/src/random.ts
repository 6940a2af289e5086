// A seeded random source (xoshiro128**) so that every fuzz run, kill schedule and I/O mix can be replayed from the
// seed it prints. Not for secrets.

export class Random {
  #s0: number
  #s1: number
  #s2: number
  #s3: number
  readonly seed: number

  constructor(seed: number) {
    this.seed = seed >>> 0
    // splitmix32 expands the seed into the four state words (never all zero).
    let x = this.seed
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#s0 = next()
    this.#s1 = next()
    this.#s2 = next()
    this.#s3 = next() | 1
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.#s1 << 9) >>> 0
    this.#s2 ^= this.#s0
    this.#s3 ^= this.#s1
    this.#s1 ^= this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    this.#s0 >>>= 0
    this.#s1 >>>= 0
    this.#s2 >>>= 0
    return result
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / 0x1_0000_0000
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`empty range ${min}..${max}`)
    return min + Math.floor(this.float() * (max - min + 1))
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[this.int(0, items.length - 1)] as T
  }

  /** One of the entries, chosen with probability proportional to its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    let total = 0
    for (const [, weight] of entries) total += weight
    let at = this.float() * total
    for (const [value, weight] of entries) {
      at -= weight
      if (at < 0) return value
    }
    const last = entries[entries.length - 1]
    if (last === undefined) throw new RangeError('weighted pick from an empty list')
    return last[0]
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length)
    let i = 0
    for (; i + 4 <= length; i += 4) out.writeUInt32LE(this.uint32(), i)
    if (i < length) {
      const last = this.uint32()
      for (let k = 0; i < length; i++, k++) out[i] = (last >>> (8 * k)) & 0xff
    }
    return out
  }

  /** A new independent source derived from this one. */
  fork(): Random {
    return new Random(this.uint32())
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** A seed from the environment variable, or a fresh one (printed by the callers so a failure can be replayed). */
export function seedFrom(value: string | undefined): number {
  if (value !== undefined && value !== '') {
    const n = Number(value)
    if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n
    throw new RangeError(`seed must be an integer in 0..2^32-1, got ${value}`)
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0
}
