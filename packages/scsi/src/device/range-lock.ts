// A per-LU LBA range lock. Every path that modifies the medium takes the range it modifies, so COMPARE AND WRITE
// (SBC-3 5.2), ORWRITE and WRITE ATOMIC are atomic against every other writer, and two overlapping writes land in
// arrival order. Reads do not take it: they run concurrently with everything. Grants are FIFO among overlapping
// requests, so a long stream of small writes cannot starve a large one.

class Holder {
  readonly start: number
  readonly end: number
  #released: Promise<void> | undefined
  #resolve: (() => void) | undefined
  #done = false
  readonly #lock: RangeLock
  /** Leave the queue and let the requests waiting for this one go on (idempotent). */
  readonly release = (): void => {
    if (this.#done) return
    this.#done = true
    this.#lock.remove(this)
    this.#resolve?.()
  }

  constructor(lock: RangeLock, start: number, end: number) {
    this.#lock = lock
    this.start = start
    this.end = end
  }

  /** Resolves once released; made only for a request that waits on this one. */
  get released(): Promise<void> {
    if (this.#released === undefined) {
      this.#released = this.#done
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#resolve = resolve
          })
    }
    return this.#released
  }
}

export class RangeLock {
  /** Holders and waiters, oldest first. */
  private readonly queue: Holder[] = []

  /** Number of holders and waiters (for tests and diagnostics). */
  get pending(): number {
    return this.queue.length
  }

  /** @internal A holder released: it leaves the queue. */
  remove(holder: Holder): void {
    const queue = this.queue
    // Releases come mostly in grant order: look from the front.
    const index = queue.indexOf(holder)
    if (index === 0) queue.shift()
    else if (index > 0) queue.splice(index, 1)
  }

  /** Queue a request for [start, end); returns it and what it waits for (undefined: it holds the range now). */
  #enqueue(lba: number, blocks: number): { holder: Holder; blockers: Array<Promise<void>> | undefined } {
    const start = lba
    const end = blocks === Infinity ? Infinity : lba + Math.max(blocks, 1)
    let blockers: Array<Promise<void>> | undefined
    for (const other of this.queue) {
      if (other.start < end && start < other.end) (blockers ??= []).push(other.released)
    }
    const holder = new Holder(this, start, end)
    this.queue.push(holder)
    return { holder, blockers }
  }

  /**
   * Wait for every older overlapping request to release, then hold [lba, lba+blocks). Resolves to the release
   * function. If `signal` aborts while waiting, the request leaves the queue and the promise rejects with its reason.
   */
  async acquire(lba: number, blocks: number, signal?: AbortSignal): Promise<() => void> {
    const { holder, blockers } = this.#enqueue(lba, blocks)
    if (blockers !== undefined) await this.#wait(holder, blockers, signal)
    return holder.release
  }

  async #wait(holder: Holder, blockers: Array<Promise<void>>, signal: AbortSignal | undefined): Promise<void> {
    try {
      await abortable(Promise.all(blockers), signal)
    } catch (error) {
      holder.release()
      throw error
    }
  }

  /** Run work while holding [lba, lba+blocks). A range nobody holds is taken at once, without a wait. */
  async run<T>(lba: number, blocks: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { holder, blockers } = this.#enqueue(lba, blocks)
    if (blockers !== undefined) await this.#wait(holder, blockers, signal)
    try {
      return await work()
    } finally {
      holder.release()
    }
  }
}

/** Race a promise with an abort signal. */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
  })
}
