// Shared setup of this package's integration tests (not exported): targets and raw connections that are closed
// after each test, and a recorder for diagnostics_channel events.
import diagnostics from 'node:diagnostics_channel'
import { afterEach } from 'vitest'
import { RawConnection, startTestTarget } from './testing.js'
import type { RawLoginOptions, TestTarget, TestTargetOptions } from './testing.js'

const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export async function target(options: TestTargetOptions = {}): Promise<TestTarget> {
  const t = await startTestTarget(options)
  cleanups.push(() => t.close())
  return t
}

export async function connect(t: TestTarget): Promise<RawConnection> {
  const c = await RawConnection.connect({ port: t.port, host: t.host })
  cleanups.push(() => c.destroy())
  return c
}

/**
 * Connect and log in to the test target, then send TEST UNIT READY until it is GOOD, so the unit attentions of a
 * new I_T nexus (SAM-5 6.3) are out of the way.
 */
export async function session(t: TestTarget, options: RawLoginOptions & { lun?: number } = {}): Promise<RawConnection> {
  const c = await connect(t)
  await c.login({ targetName: t.targetName, ...options })
  for (let i = 0; i < 8; i++) {
    const result = await c.command({ cdb: Buffer.alloc(6), lun: options.lun ?? 0 })
    if (result.status === 0) break
  }
  return c
}

/** Record the messages of a diagnostics channel until the end of the test. */
export function record<T>(name: string): T[] {
  const seen: T[] = []
  const listener = (message: unknown): void => {
    seen.push(message as T)
  }
  diagnostics.subscribe(name, listener)
  cleanups.push(() => diagnostics.unsubscribe(name, listener))
  return seen
}

/** Wait until `check` holds (polling), or fail after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
