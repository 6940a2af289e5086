// Setup shared by the in-process reliability tests: test targets and raw connections closed after each test, a
// logged-in raw session with the unit attentions of a new I_T nexus cleared, polling helpers, a resource census.
import { readdirSync } from 'node:fs'
import { afterEach } from 'vitest'
import { RawConnection, startTestTarget } from '@iscsi-ts/target/testing'
import type { RawLoginOptions, TestTarget, TestTargetOptions } from '@iscsi-ts/target/testing'

const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Run `cleanup` after the current test. */
export function defer(cleanup: () => unknown): void {
  cleanups.push(cleanup)
}

export async function target(options: TestTargetOptions = {}): Promise<TestTarget> {
  const t = await startTestTarget(options)
  cleanups.push(() => t.close())
  return t
}

export async function connect(t: { host: string; port: number }): Promise<RawConnection> {
  const c = await RawConnection.connect({ port: t.port, host: t.host })
  cleanups.push(() => c.destroy())
  return c
}

/** Log in and send TEST UNIT READY until GOOD (SAM-5 6.3: a new I_T nexus first sees unit attentions). */
export async function session(t: TestTarget, options: RawLoginOptions & { lun?: number } = {}): Promise<RawConnection> {
  const c = await connect(t)
  await c.login({ targetName: t.targetName, ...options })
  for (let i = 0; i < 8; i++) {
    const result = await c.command({ cdb: Buffer.alloc(6), lun: options.lun ?? 0 })
    if (result.status === 0) break
  }
  return c
}

/** Wait until `check` holds (polling every 10 ms), or throw after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Milliseconds until the target closes `c` (throws when it stays open past `timeoutMs`). */
export async function closesWithin(c: RawConnection, timeoutMs: number): Promise<number> {
  const started = performance.now()
  await c.waitClosed(timeoutMs)
  return performance.now() - started
}

export interface Census {
  /** Open file descriptors of this process. */
  readonly fds: number
  /** process.getActiveResourcesInfo() by kind. */
  readonly active: Readonly<Record<string, number>>
}

/** What this process holds right now. */
export function census(): Census {
  const active: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) active[kind] = (active[kind] ?? 0) + 1
  return { fds: readdirSync('/proc/self/fd').length, active }
}
