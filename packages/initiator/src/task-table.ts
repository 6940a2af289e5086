// The table of live tasks keyed by Initiator Task Tag. An ITT is unique within the session while its task lives
// (RFC 7143 11.2.1.8); 0xffffffff is reserved (RFC 7143 11.18.1). Tags are handed out increasingly (mod 2^32) so a
// late PDU for a finished task is not mistaken for a new task's for a long time after.
import { RESERVED_TAG } from '@iscsi-ts/pdu'

export class TaskTable<T> {
  readonly #tasks = new Map<number, T>()
  #next: number

  constructor(firstTag = 1) {
    this.#next = firstTag >>> 0
  }

  get size(): number {
    return this.#tasks.size
  }

  /** A free tag, not yet registered: the caller registers it with `set` once the task exists. */
  allocate(): number {
    for (let tries = 0; tries <= this.#tasks.size + 1; tries++) {
      const tag = this.#next
      this.#next = (this.#next + 1) >>> 0
      if (tag === RESERVED_TAG) continue
      if (!this.#tasks.has(tag)) return tag
    }
    // Unreachable with fewer than 2^32 - 1 live tasks; kept so a bug can't loop forever.
    throw new RangeError('no free initiator task tag')
  }

  set(tag: number, task: T): void {
    if (tag === RESERVED_TAG) throw new RangeError('0xffffffff is the reserved tag')
    this.#tasks.set(tag, task)
  }

  get(tag: number): T | undefined {
    return this.#tasks.get(tag)
  }

  delete(tag: number): boolean {
    return this.#tasks.delete(tag)
  }

  values(): IterableIterator<T> {
    return this.#tasks.values()
  }

  /** Removes and returns every task (session failure, logout). */
  drain(): T[] {
    const all = [...this.#tasks.values()]
    this.#tasks.clear()
    return all
  }
}
