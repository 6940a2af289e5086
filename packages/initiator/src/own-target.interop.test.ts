// The initiator's smoke suite against our own target (@iscsi-ts/target's `startTestTarget`). The target package is
// loaded at run time by path, so this package keeps no dependency on it; when it cannot start a target yet, the
// tests skip and say why.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AbortError, ScsiCommandError } from './errors.js'
import { discover } from './discovery.js'
import { Session } from './session.js'

interface TestTarget {
  readonly targetName: string
  readonly host: string
  readonly port: number
  close(): Promise<void>
}
type StartTestTarget = (options?: { luns?: number[]; blockSize?: number }) => Promise<TestTarget>

// A path in a variable: neither the type checker nor the bundler follows it into the target package's sources.
const TARGET_TESTING = '../../target/src/testing.ts'

async function loadTarget(): Promise<{ target?: TestTarget; why?: string }> {
  try {
    const module = (await import(/* @vite-ignore */ TARGET_TESTING)) as { startTestTarget?: StartTestTarget }
    if (typeof module.startTestTarget !== 'function') return { why: '@iscsi-ts/target/testing exports no startTestTarget yet' }
    return { target: await module.startTestTarget({ luns: [64 * 1024 * 1024], blockSize: 512 }) }
  } catch (error) {
    return { why: `@iscsi-ts/target cannot start a test target yet: ${(error as Error).message}` }
  }
}

describe('initiator against our own target (@iscsi-ts/target)', () => {
  let target: TestTarget | undefined
  let why = ''
  const sessions: Session[] = []

  beforeAll(async () => {
    const loaded = await loadTarget()
    target = loaded.target
    why = loaded.why ?? ''
  })

  afterAll(async () => {
    for (const session of sessions) await session.close()
    await target?.close()
  })

  const open = async (): Promise<Session> => {
    const session = await Session.login({ host: target!.host, port: target!.port, targetName: target!.targetName })
    sessions.push(session)
    return session
  }

  it('discovers, logs in and identifies the LU', async (context) => {
    if (target === undefined) return context.skip(why)
    const targets = await discover({ host: target.host, port: target.port })
    expect(targets.map((t) => t.name)).toContain(target.targetName)
    const session = await open()
    const inquiry = await session.inquiry(0)
    expect(inquiry.peripheralDeviceType).toBe(0)
    const capacity = await session.readCapacity(0)
    expect(capacity).toMatchObject({ blockSize: 512, blockCount: BigInt((64 * 1024 * 1024) / 512) })
    expect(await session.reportLuns()).toEqual([0])
    await session.testUnitReady(0)
    expect(await session.ping()).toBeGreaterThanOrEqual(0)
    await session.logout()
  })

  it('writes and reads back 16 MiB pipelined, identical by hash', async (context) => {
    if (target === undefined) return context.skip(why)
    const session = await open()
    const chunk = 512 * 1024
    const datas = Array.from({ length: 32 }, (_, i) => {
      const data = Buffer.alloc(chunk)
      for (let j = 0; j < chunk; j += 4) data.writeUInt32LE((j * 2654435761 + i) >>> 0, j)
      return data
    })
    await Promise.all(datas.map((data, i) => session.write(0, (i * chunk) / 512, data, { fua: i % 2 === 0 })))
    const back = await Promise.all(datas.map((_, i) => session.read(0, (i * chunk) / 512, chunk / 512)))
    const hash = (list: Buffer[]): string => list.reduce((h, b) => h.update(b), createHash('sha256')).digest('hex')
    expect(hash(back)).toBe(hash(datas))
    await session.syncCache(0)
    await session.logout()
  })

  it('opens several connections (MC/S) and spreads commands over them', async (context) => {
    if (target === undefined) return context.skip(why)
    const session = await Session.login({ host: target.host, port: target.port, targetName: target.targetName, maxConnections: 2 })
    sessions.push(session)
    expect(session.parameters.maxConnections).toBeGreaterThanOrEqual(2)
    expect(session.parameters.connections).toBe(2)
    const block = Buffer.alloc(4096, 0x3c)
    await Promise.all(Array.from({ length: 16 }, (_, i) => session.write(0, 1000 + i * 8, block)))
    const back = await Promise.all(Array.from({ length: 16 }, (_, i) => session.read(0, 1000 + i * 8, 8)))
    for (const data of back) expect(data.equals(block)).toBe(true)
    await session.logout()
  })

  it('reports errors as ScsiCommandError and aborts through AbortSignal', async (context) => {
    if (target === undefined) return context.skip(why)
    const session = await open()
    const error = await session.read(0, (64 * 1024 * 1024) / 512, 1).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ScsiCommandError)
    expect(error).toMatchObject({ status: 2, senseKey: 5 })
    const controller = new AbortController()
    controller.abort()
    await expect(session.read(0, 0, 1, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError)
    await session.lunReset(0)
    await session.testUnitReady(0)
    await session.logout()
  })
})
