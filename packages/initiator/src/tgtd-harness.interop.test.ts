// The tgtd harness itself (tooling/interop/tgtd.ts): it starts a configured daemon and leaves nothing behind.
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startTgtd, tgtdAvailable } from '../../../tooling/interop/tgtd.js'

const run = tgtdAvailable() || process.env.CI === 'true' || process.env.CI === '1'

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe.skipIf(!run)('tgtd harness', () => {
  it('configures the three targets, restarts on the same port, and cleans up on stop', async () => {
    const tgt = await startTgtd({ lunSize: 8 * 1024 * 1024 })
    expect(tgt).toBeDefined()
    if (tgt === undefined) return
    try {
      const show = await tgt.tgtadm(['--op', 'show', '--mode', 'target'])
      for (const target of [tgt.plain, tgt.chap, tgt.digest]) expect(show).toContain(target.name)
      expect(show).toContain(tgt.chap.user)
      expect(await reachable(tgt.port)).toBe(true)
      await tgt.kill()
      expect(await reachable(tgt.port)).toBe(false)
      await tgt.start()
      expect(await reachable(tgt.port)).toBe(true)
      expect(existsSync(tgt.plain.backingFile)).toBe(true)
    } finally {
      await tgt.stop()
    }
    expect(await reachable(tgt.port)).toBe(false)
    expect(existsSync(tgt.plain.backingFile)).toBe(false)
    expect(existsSync(`/var/run/tgtd/socket.${tgt.controlPort}`)).toBe(false)
    // Idempotent.
    await tgt.stop()
  })
})
