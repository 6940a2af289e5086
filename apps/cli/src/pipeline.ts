// Keeping N commands in flight. iSCSI throughput comes from queue depth (RFC 7143 3.2.2.1 CmdSN window), so the
// long commands issue chunks from several workers at once instead of one after another.

/**
 * Run `task(i)` for i in 0..count-1 with at most `depth` in flight and yield the results in order of i.
 * The first failure rejects the iteration; tasks already started are left to settle on their own.
 */
export async function* ordered<T>(count: number, depth: number, task: (index: number) => Promise<T>): AsyncGenerator<T> {
  const window: Array<Promise<T>> = []
  let next = 0
  const launch = (): void => {
    const promise = task(next++)
    promise.catch(() => undefined) // observed when its turn comes; never an unhandled rejection
    window.push(promise)
  }
  while (next < count && window.length < depth) launch()
  while (window.length > 0) {
    const value = await window.shift()!
    if (next < count) launch()
    yield value
  }
}

/**
 * `depth` workers call `work()` until it returns false. The first error stops every worker from taking more work;
 * when all have finished, it is thrown.
 */
export async function workers(depth: number, work: (worker: number) => Promise<boolean>): Promise<void> {
  let failure: { error: unknown } | undefined
  const loop = async (worker: number): Promise<void> => {
    while (failure === undefined) {
      try {
        if (!(await work(worker))) return
      } catch (error) {
        failure ??= { error }
        return
      }
    }
  }
  await Promise.all(Array.from({ length: depth }, (_, i) => loop(i)))
  if (failure !== undefined) throw failure.error
}
