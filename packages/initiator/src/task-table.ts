// The table of live tasks keyed by Initiator Task Tag. An ITT is unique within the session while its task lives
// (RFC 7143 11.2.1.8); 0xffffffff is reserved (RFC 7143 11.18.1). Tags are handed out increasingly (mod 2^32) so a
// late PDU for a finished task is not mistaken for a new task's for a long time after.
//
// The table is an array indexed by the tag's low bits: a lookup is one index and one compare, and registering or
// removing a task allocates nothing (a Map churns its hash table with every insert and delete). A tag whose slot is
// taken by a live task is skipped when tags are handed out; the array doubles when half full, or when two live
// tags would share a slot.
import { RESERVED_TAG } from '@iscsi-ts/pdu'

const INITIAL_CAPACITY = 64

export class TaskTable<T> {
  #entries: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined)
  /** The tag of each occupied slot (-1 when free). */
  #tags: number[] = new Array<number>(INITIAL_CAPACITY).fill(-1)
  #mask = INITIAL_CAPACITY - 1
  #size = 0
  #next: number

  constructor(firstTag = 1) {
    this.#next = firstTag >>> 0
  }

  get size(): number {
    return this.#size
  }

  /** A free tag, not yet registered: the caller registers it with `set` once the task exists. */
  allocate(): number {
    for (;;) {
      for (let tries = 0; tries <= this.#entries.length; tries++) {
        const tag = this.#next
        this.#next = (this.#next + 1) >>> 0
        if (tag !== RESERVED_TAG && this.#tags[tag & this.#mask] === -1) return tag
      }
      // Every slot tried is taken (only possible when the table is full): make room and go on.
      this.#grow()
    }
  }

  set(tag: number, task: T): void {
    if (tag === RESERVED_TAG) throw new RangeError('0xffffffff is the reserved tag')
    if (tag >>> 0 !== tag) throw new RangeError(`an initiator task tag is a 32-bit number, not ${tag}`)
    while (this.#tags[tag & this.#mask] !== -1 && this.#tags[tag & this.#mask] !== tag) this.#grow()
    const i = tag & this.#mask
    if (this.#tags[i] === -1) this.#size++
    this.#tags[i] = tag
    this.#entries[i] = task
    if (this.#size * 2 > this.#entries.length) this.#grow()
  }

  get(tag: number): T | undefined {
    const i = tag & this.#mask
    return this.#tags[i] === tag ? this.#entries[i] : undefined
  }

  delete(tag: number): boolean {
    const i = tag & this.#mask
    if (this.#tags[i] !== tag) return false
    this.#tags[i] = -1
    this.#entries[i] = undefined
    this.#size--
    return true
  }

  /** The live tasks (in slot order; callers that need an order sort by CmdSN). */
  *values(): IterableIterator<T> {
    const entries = this.#entries
    const tags = this.#tags
    for (let i = 0; i < entries.length; i++) if (tags[i] !== -1) yield entries[i] as T
  }

  /** Removes and returns every task (session failure, logout). */
  drain(): T[] {
    const all = [...this.values()]
    this.#tags.fill(-1)
    this.#entries.fill(undefined)
    this.#size = 0
    return all
  }

  /** Doubles the array until every live tag has a slot of its own. */
  #grow(): void {
    const oldTags = this.#tags
    const oldEntries = this.#entries
    for (let capacity = oldTags.length * 2; ; capacity *= 2) {
      const mask = capacity - 1
      const tags = new Array<number>(capacity).fill(-1)
      const entries = new Array<T | undefined>(capacity).fill(undefined)
      let clash = false
      for (let i = 0; i < oldTags.length && !clash; i++) {
        const tag = oldTags[i]!
        if (tag === -1) continue
        const j = tag & mask
        if (tags[j] !== -1) clash = true
        tags[j] = tag
        entries[j] = oldEntries[i]
      }
      if (clash) continue
      this.#tags = tags
      this.#entries = entries
      this.#mask = mask
      return
    }
  }
}
