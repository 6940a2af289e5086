// A table keyed by 32-bit tags (ITT, RFC 7143 11.2.1.8): the session's task table and a connection's recently ended
// ITTs. Open addressing with linear probing over a Uint32Array of keys and backward-shift deletion (no tombstones).
// It grows by doubling and never shrinks, so the steady add/delete traffic of a command stream allocates nothing:
// a Map re-hashes as deleted entries pile up, and boxes tags of 2^30 and above as heap numbers.

const MIN_CAPACITY = 16
/** Knuth's multiplicative hash constant (2^32 / phi). */
const GOLDEN = 0x9e3779b1

export class TagTable<T> {
  #keys: Uint32Array
  #values: Array<T | undefined>
  #used: Uint8Array
  #mask: number
  #shift: number
  #size = 0

  constructor(capacity = MIN_CAPACITY) {
    let slots = MIN_CAPACITY
    while (slots < capacity * 2) slots *= 2
    this.#keys = new Uint32Array(slots)
    this.#values = new Array<T | undefined>(slots).fill(undefined)
    this.#used = new Uint8Array(slots)
    this.#mask = slots - 1
    this.#shift = 32 - Math.log2(slots)
  }

  get size(): number {
    return this.#size
  }

  #home(key: number): number {
    return Math.imul(key, GOLDEN) >>> this.#shift
  }

  /** The slot holding `key`, or -1. */
  #find(key: number): number {
    const keys = this.#keys
    const used = this.#used
    const mask = this.#mask
    let i = this.#home(key)
    while (used[i] === 1) {
      if (keys[i] === key) return i
      i = (i + 1) & mask
    }
    return -1
  }

  has(tag: number): boolean {
    return this.#find(tag >>> 0) >= 0
  }

  get(tag: number): T | undefined {
    const i = this.#find(tag >>> 0)
    return i < 0 ? undefined : this.#values[i]
  }

  set(tag: number, value: T): this {
    const key = tag >>> 0
    const found = this.#find(key)
    if (found >= 0) {
      this.#values[found] = value
      return this
    }
    // Keep the load factor at most 1/2 so probe runs stay short.
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow()
    this.#insert(key, value)
    this.#size++
    return this
  }

  delete(tag: number): boolean {
    let hole = this.#find(tag >>> 0)
    if (hole < 0) return false
    const keys = this.#keys
    const values = this.#values
    const used = this.#used
    const mask = this.#mask
    // Backward-shift: move later entries of the probe run into the hole when their home allows it.
    let i = (hole + 1) & mask
    while (used[i] === 1) {
      const home = this.#home(keys[i]!)
      // The entry at i may fill the hole when its home is not in the cyclic range (hole, i].
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        keys[hole] = keys[i]!
        values[hole] = values[i]
        hole = i
      }
      i = (i + 1) & mask
    }
    used[hole] = 0
    values[hole] = undefined
    this.#size--
    return true
  }

  clear(): void {
    this.#used.fill(0)
    this.#values.fill(undefined)
    this.#size = 0
  }

  /** The values, in slot order (a snapshot: changing the table while iterating is safe). */
  values(): IterableIterator<T> {
    const out: T[] = []
    const used = this.#used
    for (let i = 0; i < used.length; i++) if (used[i] === 1) out.push(this.#values[i]!)
    return out.values()
  }

  #insert(key: number, value: T): void {
    const mask = this.#mask
    let i = this.#home(key)
    while (this.#used[i] === 1) i = (i + 1) & mask
    this.#keys[i] = key
    this.#values[i] = value
    this.#used[i] = 1
  }

  #grow(): void {
    const keys = this.#keys
    const values = this.#values
    const used = this.#used
    const slots = keys.length * 2
    this.#keys = new Uint32Array(slots)
    this.#values = new Array<T | undefined>(slots).fill(undefined)
    this.#used = new Uint8Array(slots)
    this.#mask = slots - 1
    this.#shift -= 1
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.#insert(keys[i]!, values[i] as T)
  }
}
