import { LoginRejectedError, parseText } from '@iscsi-ts/negotiation'
import { LogoutResponseCode, Opcode, RejectReason } from '@iscsi-ts/pdu'
import { LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import { afterEach, describe, expect, it } from 'vitest'
import type { IscsiTargetOptions } from './config.js'
import { IscsiTarget } from './target.js'
import { RawConnection } from './testing.js'

const ALICE = 'iqn.2026-11.io.iscsi-ts:alice'
const BOB = 'iqn.2026-11.io.iscsi-ts:bob'

const open: Array<{ close(): unknown }> = []
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close()
})

function unit(): LogicalUnit {
  return new LogicalUnit({ backstore: new MemoryBackstore({ size: 1024 * 1024 }) })
}

async function start(extra: Partial<IscsiTargetOptions> = {}): Promise<{ target: IscsiTarget; port: number }> {
  const target = new IscsiTarget({
    portalGroups: [{ tag: 1, portals: [{ host: '127.0.0.1', port: 0 }] }],
    targets: [
      { name: 'iqn.2026-11.io.iscsi-ts:open', portalGroups: [1], luns: new Map([[0, unit()]]) },
      { name: 'iqn.2026-11.io.iscsi-ts:alice-only', alias: 'for alice', portalGroups: [1], luns: new Map([[0, unit()]]), acls: [{ initiator: ALICE }] },
    ],
    ...extra,
  })
  const [bound] = await target.listen()
  open.push({ close: () => target.close() })
  return { target, port: bound!.port }
}

async function discovery(port: number, initiatorName: string, chap?: { user: string; secret: string }): Promise<RawConnection> {
  const c = await RawConnection.connect({ port })
  open.push({ close: () => c.destroy() })
  await c.login({ initiatorName, sessionType: 'Discovery', ...(chap !== undefined ? { chap } : {}) })
  return c
}

async function sendTargets(c: RawConnection, value = 'All'): Promise<Array<{ key: string; value: string }>> {
  const itt = c.nextItt()
  c.send({ opcode: 0x04, immediate: true, final: true, continue: false, lun: 0n, itt, ttt: 0xffffffff, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data: Buffer.from(`SendTargets=${value}\0`) })
  const response = await c.receiveOf(Opcode.TextResponse, 5000, (p) => p.itt === itt)
  expect(response.final).toBe(true)
  return parseText(response.data)
}

describe('discovery sessions (RFC 7143 4.3, appendix C)', () => {
  it('lists only the targets the initiator may log in to, with their portals', async () => {
    const { port } = await start()
    const alice = await discovery(port, ALICE)
    const forAlice = await sendTargets(alice)
    expect(forAlice.filter((p) => p.key === 'TargetName').map((p) => p.value).sort()).toEqual([
      'iqn.2026-11.io.iscsi-ts:alice-only',
      'iqn.2026-11.io.iscsi-ts:open',
    ])
    expect(forAlice.filter((p) => p.key === 'TargetAddress').map((p) => p.value)).toEqual([`127.0.0.1:${port},1`, `127.0.0.1:${port},1`])
    const bob = await discovery(port, BOB)
    const forBob = await sendTargets(bob)
    expect(forBob.filter((p) => p.key === 'TargetName').map((p) => p.value)).toEqual(['iqn.2026-11.io.iscsi-ts:open'])
  })

  it('rejects SCSI commands and task management as protocol errors, and keeps serving text', async () => {
    const { port } = await start()
    const c = await discovery(port, ALICE)
    c.sendCommand({ cdb: Buffer.alloc(6), immediate: true })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(RejectReason.ProtocolError)
    expect(reject.data[0]! & 0x3f).toBe(Opcode.ScsiCommand)
    expect((await sendTargets(c)).length).toBeGreaterThan(0)
  })

  it('rejects logout reason 2 as a protocol error (only "close the session" is accepted) and ends with reason 0', async () => {
    const { target, port } = await start()
    const c = await discovery(port, ALICE)
    expect(target.sessions()).toMatchObject([{ type: 'Discovery', initiatorName: ALICE }])
    c.send({ opcode: 0x06, immediate: true, reasonCode: 2, itt: c.nextItt(), cid: c.cid, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(RejectReason.ProtocolError)
    expect(reject.data[0]! & 0x3f).toBe(Opcode.LogoutRequest)
    expect((await c.logout(0)).response).toBe(LogoutResponseCode.Success)
    await c.waitClosed()
  })

  it('asks discovery sessions for CHAP when discoveryAuth is set', async () => {
    const chap = { user: 'discover', secret: 'discover-secret' }
    const { port } = await start({ discoveryAuth: { chap } })
    const ok = await discovery(port, ALICE, chap)
    expect((await sendTargets(ok)).length).toBeGreaterThan(0)
    const c = await RawConnection.connect({ port })
    open.push({ close: () => c.destroy() })
    const failure = await c.login({ initiatorName: BOB, sessionType: 'Discovery' }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(LoginRejectedError)
    expect([(failure as LoginRejectedError).statusClass, (failure as LoginRejectedError).statusDetail]).toEqual([2, 1])
  })

  it('reports only the session target to SendTargets in a normal session', async () => {
    const { port } = await start()
    const c = await RawConnection.connect({ port })
    open.push({ close: () => c.destroy() })
    await c.login({ initiatorName: ALICE, targetName: 'iqn.2026-11.io.iscsi-ts:alice-only' })
    const pairs = await sendTargets(c, '')
    expect(pairs.filter((p) => p.key === 'TargetName').map((p) => p.value)).toEqual(['iqn.2026-11.io.iscsi-ts:alice-only'])
  })
})
