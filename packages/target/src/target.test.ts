import { LoginRejectedError } from '@iscsi-ts/negotiation'
import { encodeLun } from '@iscsi-ts/pdu'
import { LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionEvent } from './channels.js'
import type { IscsiTargetOptions, TargetConfig } from './config.js'
import { TargetConfigError, TargetError, TargetErrorCode } from './errors.js'
import { IscsiTarget } from './target.js'
import { record, until } from './test-harness.js'
import { RawConnection, reportLuns } from './testing.js'

const NAME = 'iqn.2026-11.io.iscsi-ts:t1'
const open: Array<() => unknown> = []
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close()
})

function unit(): LogicalUnit {
  return new LogicalUnit({ backstore: new MemoryBackstore({ size: 1024 * 1024 }) })
}

function options(targets: TargetConfig[], port = 0): IscsiTargetOptions {
  return { portalGroups: [{ tag: 1, portals: [{ host: '127.0.0.1', port }] }], targets }
}

async function started(o: IscsiTargetOptions): Promise<{ target: IscsiTarget; port: number }> {
  const target = new IscsiTarget(o)
  const [bound] = await target.listen()
  open.push(() => target.close())
  return { target, port: bound!.port }
}

async function login(port: number, targetName: string, initiatorName?: string): Promise<RawConnection> {
  const c = await RawConnection.connect({ port })
  open.push(() => c.destroy())
  await c.login({ targetName, ...(initiatorName !== undefined ? { initiatorName } : {}) })
  return c
}

describe('IscsiTarget configuration', () => {
  it.each([
    ['no portal group', { portalGroups: [], targets: [] }],
    ['a bad tag', { portalGroups: [{ tag: 0, portals: [{ host: '127.0.0.1', port: 0 }] }], targets: [] }],
    ['a host that is not an address', { portalGroups: [{ tag: 1, portals: [{ host: 'localhost', port: 0 }] }], targets: [] }],
    ['a bad target name', options([{ name: 'not-an-iqn', portalGroups: [1], luns: new Map() }])],
    ['an unknown portal group', options([{ name: NAME, portalGroups: [7], luns: new Map() }])],
    ['a duplicate target', options([{ name: NAME, portalGroups: [1], luns: new Map() }, { name: NAME.toUpperCase(), portalGroups: [1], luns: new Map() }])],
    ['an ACL mapping a missing LUN', options([{ name: NAME, portalGroups: [1], luns: new Map(), acls: [{ initiator: '*', luns: { 0: 3 } }] }])],
    ['mutual CHAP without CHAP', options([{ name: NAME, portalGroups: [1], luns: new Map(), auth: { mutual: { user: 'a', secret: 'b' } } }])],
    ['firstBurstLength above maxBurstLength', { ...options([]), limits: { firstBurstLength: 65536, maxBurstLength: 8192 } }],
    ['maxBurstLength above 2^24-1', { ...options([]), limits: { maxBurstLength: 16 * 1024 * 1024 } }],
  ] as Array<[string, IscsiTargetOptions]>)('refuses %s', (_, bad) => {
    expect(() => new IscsiTarget(bad)).toThrow(TargetConfigError)
  })

  it('reports a portal it cannot bind', async () => {
    const { port } = await started(options([]))
    const second = new IscsiTarget(options([], port))
    const error = await second.listen().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TargetError)
    expect((error as TargetError).code).toBe(TargetErrorCode.Listen)
    await second.close()
    await expect(second.listen()).rejects.toThrow(/closed/)
  })

  it('publishes connection open and close events', async () => {
    const events = record<ConnectionEvent>('iscsi:target:connection')
    const { target, port } = await started(options([{ name: NAME, portalGroups: [1], luns: new Map([[0, unit()]]) }]))
    const c = await login(port, NAME)
    expect(target.stats).toEqual({ sessions: 1, connections: 1 })
    c.destroy()
    await until(() => target.stats.connections === 0)
    expect(events.map((e) => e.event)).toEqual(['open', 'close'])
    expect(events[1]).toMatchObject({ cid: 0 })
  })
})

describe('IscsiTarget.reload', () => {
  it('adds and removes targets, closing the sessions of removed ones', async () => {
    const first: TargetConfig = { name: NAME, portalGroups: [1], luns: new Map([[0, unit()]]) }
    const { target, port } = await started(options([first]))
    const c = await login(port, NAME)
    const second: TargetConfig = { name: 'iqn.2026-11.io.iscsi-ts:t2', portalGroups: [1], luns: new Map([[0, unit()]]) }
    await target.reload(options([first, second]))
    await login(port, second.name)
    expect(target.stats.sessions).toBe(2)
    await target.reload(options([second]))
    await c.waitClosed()
    await until(() => target.stats.sessions === 1)
    const gone = await RawConnection.connect({ port })
    open.push(() => gone.destroy())
    const error = await gone.login({ targetName: NAME }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LoginRejectedError)
    expect((error as LoginRejectedError).statusDetail).toBe(3)
  })

  it('closes sessions the new ACL refuses and applies new LUN mappings to the others', async () => {
    const luns = new Map([
      [0, unit()],
      [1, unit()],
    ])
    const alice = 'iqn.2026-11.io.iscsi-ts:alice'
    const bob = 'iqn.2026-11.io.iscsi-ts:bob'
    const config: TargetConfig = { name: NAME, portalGroups: [1], luns }
    const { target, port } = await started(options([config]))
    const a = await login(port, NAME, alice)
    const b = await login(port, NAME, bob)
    await target.reload(options([{ ...config, acls: [{ initiator: alice, luns: { 0: 1 } }] }]))
    await b.waitClosed()
    const listed = await a.command({ cdb: reportLuns(), read: true, expectedDataTransferLength: 4096 })
    expect(listed.data.readUInt32BE(0)).toBe(8)
    expect(listed.data.readBigUInt64BE(8)).toBe(encodeLun(0))
    expect(target.sessions().map((s) => s.initiatorName)).toEqual([alice])
  })

  it('moves a logical unit from one target to another', async () => {
    const shared = unit()
    const a: TargetConfig = { name: NAME, portalGroups: [1], luns: new Map([[0, shared]]) }
    const { target, port } = await started(options([a]))
    const b: TargetConfig = { name: 'iqn.2026-11.io.iscsi-ts:t2', portalGroups: [1], luns: new Map([[3, shared]]) }
    await target.reload(options([b]))
    const c = await login(port, b.name)
    const listed = await c.command({ cdb: reportLuns(), read: true, expectedDataTransferLength: 4096 })
    expect(listed.data.readBigUInt64BE(8)).toBe(encodeLun(3))
  })
})
