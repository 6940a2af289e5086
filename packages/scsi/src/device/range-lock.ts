// A per-LU LBA range lock. Every path that modifies the medium takes the range it modifies, so COMPARE AND WRITE
// (SBC-3 5.2), ORWRITE and WRITE ATOMIC are atomic against every other writer, and two overlapping writes land in
// arrival order. Reads do not take it: they run concurrently with everything. Grants are FIFO among overlapping
// requests, so a long stream of small writes cannot starve a large one.

interface Holder {
  readonly start: number
  readonly end: number
  readonly released: Promise<void>
  readonly release: () => void
}

export class RangeLock {
  /** Holders and waiters, oldest first. */
  private readonly queue: Holder[] = []

  /** Number of holders and waiters (for tests and diagnostics). */
  get pending(): number {
    return this.queue.length
  }

  /**
   * Wait for every older overlapping request to release, then hold [lba, lba+blocks). Resolves to the release
   * function. If `signal` aborts while waiting, the request leaves the queue and the promise rejects with its reason.
   */
  async acquire(lba: number, blocks: number, signal?: AbortSignal): Promise<() => void> {
    const start = lba
    const end = blocks === Infinity ? Infinity : lba + Math.max(blocks, 1)
    const blockers = this.queue.filter((other) => other.start < end && start < other.end).map((other) => other.released)
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    const holder: Holder = {
      start,
      end,
      released,
      release: () => {
        const index = this.queue.indexOf(holder)
        if (index >= 0) this.queue.splice(index, 1)
        release()
      },
    }
    this.queue.push(holder)
    if (blockers.length === 0) return holder.release
    try {
      await abortable(Promise.all(blockers), signal)
    } catch (error) {
      holder.release()
      throw error
    }
    return holder.release
  }

  /** Run work while holding [lba, lba+blocks). */
  async run<T>(lba: number, blocks: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(lba, blocks, signal)
    try {
      return await work()
    } finally {
      release()
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
