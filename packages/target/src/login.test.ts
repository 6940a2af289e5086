import { LoginRejectedError } from '@iscsi-ts/negotiation'
import { Opcode } from '@iscsi-ts/pdu'
import type { LoginRequestPdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import type { LoginEvent } from './channels.js'
import { connect, record, session, target, until } from './test-harness.js'
import type { RawConnection } from './testing.js'

async function refused(promise: Promise<unknown>): Promise<[number, number]> {
  try {
    await promise
  } catch (error) {
    if (error instanceof LoginRejectedError) return [error.statusClass, error.statusDetail]
    throw error
  }
  throw new Error('the login succeeded')
}

/** One raw Login Request straight into operational negotiation, with the given text. */
function rawLogin(c: RawConnection, text: string, fields: Partial<LoginRequestPdu> = {}): void {
  c.send({
    opcode: 0x03,
    transit: true,
    continue: false,
    csg: 1,
    nsg: 3,
    versionMax: 0,
    versionMin: 0,
    isid: Buffer.from([0x80, 1, 2, 3, 4, 5]),
    tsih: 0,
    itt: 1,
    cid: 0,
    cmdSN: 1,
    expStatSN: 0,
    data: Buffer.from(text.split('\n').join('\0') + '\0'),
    ...fields,
  })
}

describe('login (RFC 7143 6.3, 11.12, 11.13)', () => {
  it('logs in and gives the TSIH only in the final response', async () => {
    const t = await target()
    const events = record<LoginEvent>('iscsi:target:login')
    const c = await connect(t)
    const result = await c.login({ targetName: t.targetName })
    expect(result.tsih).toBeGreaterThan(0)
    const last = result.responses.at(-1)!
    expect(last.tsih).toBe(result.tsih)
    for (const response of result.responses.slice(0, -1)) expect(response.tsih).toBe(0)
    // StatSN advances with every Login Response of the connection.
    const statSNs = result.responses.map((r) => r.statSN)
    statSNs.forEach((sn, i) => expect(sn).toBe((statSNs[0]! + i) >>> 0))
    expect(t.target.stats.sessions).toBe(1)
    expect(t.target.sessions()[0]).toMatchObject({ tsih: result.tsih, targetName: t.targetName, type: 'Normal', connections: 1 })
    expect(events.some((e) => e.event === 'success' && e.tsih === result.tsih && e.targetName === t.targetName)).toBe(true)
  })

  it('refuses an unsupported version with 0x0205 and closes the connection', async () => {
    const t = await target()
    const c = await connect(t)
    rawLogin(c, `InitiatorName=iqn.2026-11.io.iscsi-ts:v\nSessionType=Normal\nTargetName=${t.targetName}`, { versionMin: 1, versionMax: 2 })
    const response = await c.receiveOf(Opcode.LoginResponse)
    expect([response.statusClass, response.statusDetail]).toEqual([2, 5])
    await c.waitClosed()
  })

  it('refuses a missing InitiatorName with 0x0207', async () => {
    const t = await target()
    const c = await connect(t)
    rawLogin(c, `SessionType=Normal\nTargetName=${t.targetName}`)
    const response = await c.receiveOf(Opcode.LoginResponse)
    expect([response.statusClass, response.statusDetail]).toEqual([2, 7])
    await c.waitClosed()
  })

  it('refuses an unknown target with 0x0203', async () => {
    const t = await target()
    const events = record<LoginEvent>('iscsi:target:login')
    const c = await connect(t)
    expect(await refused(c.login({ targetName: 'iqn.2026-11.io.iscsi-ts:nobody' }))).toEqual([2, 3])
    await c.waitClosed()
    expect(events.some((e) => e.event === 'failure' && e.statusClass === 2 && e.statusDetail === 3)).toBe(true)
  })

  it('refuses an initiator the ACL does not list with 0x0202', async () => {
    const t = await target({ acls: [{ initiator: 'iqn.2026-11.io.iscsi-ts:allowed' }] })
    const c = await connect(t)
    expect(await refused(c.login({ targetName: t.targetName, initiatorName: 'iqn.2026-11.io.iscsi-ts:other' }))).toEqual([2, 2])
    const ok = await connect(t)
    await ok.login({ targetName: t.targetName, initiatorName: 'iqn.2026-11.io.iscsi-ts:allowed' })
    expect(t.target.stats.sessions).toBe(1)
  })

  it('authenticates with one-way and mutual CHAP and refuses a wrong secret with 0x0201', async () => {
    const chap = { user: 'alice', secret: 'alice-secret-1' }
    const mutual = { user: 'target', secret: 'target-secret-2' }
    const t = await target({ auth: { chap, mutual } })
    const good = await connect(t)
    await good.login({ targetName: t.targetName, chap: { ...chap, mutual: { user: mutual.user, secret: mutual.secret } } })
    const oneWay = await connect(t)
    await oneWay.login({ targetName: t.targetName, chap })
    const bad = await connect(t)
    expect(await refused(bad.login({ targetName: t.targetName, chap: { user: 'alice', secret: 'wrong-secret-3' } }))).toEqual([2, 1])
    const none = await connect(t)
    expect(await refused(none.login({ targetName: t.targetName }))).toEqual([2, 1])
    expect(t.target.stats.sessions).toBe(2)
  })

  it('uses the ACL CHAP policy over the target one', async () => {
    const t = await target({
      auth: { chap: { user: 'target-wide', secret: 'target-wide-1' } },
      acls: [{ initiator: 'iqn.2026-11.io.iscsi-ts:bob', auth: { chap: { user: 'bob', secret: 'bob-secret-12' } } }, { initiator: '*' }],
    })
    const bob = await connect(t)
    await bob.login({ targetName: t.targetName, initiatorName: 'iqn.2026-11.io.iscsi-ts:bob', chap: { user: 'bob', secret: 'bob-secret-12' } })
    const other = await connect(t)
    await other.login({ targetName: t.targetName, chap: { user: 'target-wide', secret: 'target-wide-1' } })
    const wrong = await connect(t)
    expect(
      await refused(wrong.login({ targetName: t.targetName, initiatorName: 'iqn.2026-11.io.iscsi-ts:bob', chap: { user: 'target-wide', secret: 'target-wide-1' } })),
    ).toEqual([2, 1])
  })

  it('refuses a session beyond maxSessions with 0x0302', async () => {
    const t = await target({ limits: { maxSessions: 1 } })
    await session(t)
    const c = await connect(t)
    expect(await refused(c.login({ targetName: t.targetName }))).toEqual([3, 2])
  })

  it('refuses connections beyond maxConnectionsPerInitiatorAddress with 0x0302', async () => {
    const t = await target({ limits: { maxConnectionsPerInitiatorAddress: 1 } })
    await session(t)
    const c = await connect(t)
    expect(await refused(c.login({ targetName: t.targetName }))).toEqual([3, 2])
  })

  it('refuses a connection for a session that does not exist with 0x020a', async () => {
    const t = await target()
    const c = await connect(t)
    expect(await refused(c.login({ targetName: t.targetName, tsih: 999, isid: Buffer.from([0x80, 9, 9, 9, 9, 9]) }))).toEqual([2, 10])
  })

  it('refuses a connection beyond MaxConnections with 0x0206', async () => {
    const t = await target({ limits: { maxConnections: 2 } })
    const first = await session(t, { operational: { maxConnections: 2 } })
    const second = await connect(t)
    await second.login({ targetName: t.targetName, tsih: first.tsih, isid: first.isid, cid: 1, operational: { maxConnections: 2 } })
    const third = await connect(t)
    expect(await refused(third.login({ targetName: t.targetName, tsih: first.tsih, isid: first.isid, cid: 2, operational: { maxConnections: 2 } }))).toEqual([2, 6])
    expect(t.target.sessions()[0]?.connections).toBe(2)
  })

  it('drops a login that does not finish within loginTimeoutMs', async () => {
    const t = await target({ limits: { loginTimeoutMs: 150 } })
    const c = await connect(t)
    const started = Date.now()
    await c.waitClosed(3000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    await until(() => t.target.stats.connections === 0)
  })

  it('closes a connection that sends another PDU before logging in, and serves the others', async () => {
    const t = await target()
    const bystander = await session(t)
    const c = await connect(t)
    c.send({ opcode: 0x00, immediate: true, lun: 0n, itt: 1, ttt: 0xffffffff, cmdSN: 0, expStatSN: 0, data: Buffer.alloc(0) })
    await c.waitClosed()
    const ping = await bystander.command({ cdb: Buffer.alloc(6) })
    expect(ping.status).toBe(0)
  })

  it('reinstates a session logged in again with the same InitiatorName and ISID', async () => {
    const t = await target()
    const isid = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a])
    const old = await session(t, { isid })
    const oldTsih = old.tsih
    const fresh = await session(t, { isid })
    expect(fresh.tsih).not.toBe(oldTsih)
    await old.waitClosed()
    expect(t.target.sessions().map((s) => s.tsih)).toEqual([fresh.tsih])
    const ok = await fresh.command({ cdb: Buffer.alloc(6) })
    expect(ok.status).not.toBeUndefined()
  })

  it('reinstates a connection logged in again with the same CID', async () => {
    const t = await target({ limits: { maxConnections: 2 } })
    const first = await session(t, { operational: { maxConnections: 2 } })
    const again = await connect(t)
    await again.login({ targetName: t.targetName, tsih: first.tsih, isid: first.isid, cid: first.cid, operational: { maxConnections: 2 } })
    await first.waitClosed()
    expect(t.target.sessions()).toMatchObject([{ tsih: first.tsih, connections: 1 }])
    const ok = await again.command({ cdb: Buffer.alloc(6) })
    expect(ok.response).toBeDefined()
  })
})

describe('login failure rate limiting per source address (login-throttle.ts)', () => {
  const chap = { user: 'alice', secret: 'alice-secret-1' }

  it('refuses logins that must authenticate with 0x0301 after loginFailureLimit failed CHAP responses', async () => {
    const t = await target({ auth: { chap }, limits: { loginFailureLimit: 3, loginLockoutMs: 60_000 } })
    for (let i = 0; i < 3; i++) {
      expect(await refused((await connect(t)).login({ targetName: t.targetName, chap: { user: 'alice', secret: `guess-${i}-0123456` } }))).toEqual([2, 1])
    }
    // Locked out: even the right secret is refused, with service unavailable rather than an answer to the guess.
    expect(await refused((await connect(t)).login({ targetName: t.targetName, chap }))).toEqual([3, 1])
    // Discovery needs no authentication here: there is no secret to guess, so it goes on.
    const discovery = await connect(t)
    await expect(discovery.login({ sessionType: 'Discovery' })).resolves.toBeDefined()
  })

  it('counts only CHAP responses that fail to verify, and is off with loginFailureLimit 0', async () => {
    const t = await target({ auth: { chap }, limits: { loginFailureLimit: 2 } })
    // Logins that offer no CHAP at all fail with 0x0201 but guess nothing.
    for (let i = 0; i < 5; i++) expect(await refused((await connect(t)).login({ targetName: t.targetName }))).toEqual([2, 1])
    await expect((await connect(t)).login({ targetName: t.targetName, chap })).resolves.toBeDefined()
    const off = await target({ auth: { chap }, limits: { loginFailureLimit: 0 } })
    for (let i = 0; i < 8; i++) {
      expect(await refused((await connect(off)).login({ targetName: off.targetName, chap: { user: 'alice', secret: `guess-${i}-0123456` } }))).toEqual([2, 1])
    }
    await expect((await connect(off)).login({ targetName: off.targetName, chap })).resolves.toBeDefined()
  })
})
