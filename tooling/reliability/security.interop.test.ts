// Security of the target: CHAP refusals (wrong secret, wrong user, replayed response, reflected and replayed mutual
// challenges, a target that cannot prove itself), rate limiting of failed logins per source, secrets absent from
// every diagnostics_channel message, ACLs at login and in SendTargets, LUN masking.
import diagnostics from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Session, discover } from '@iscsi-ts/initiator'
import type { InitiatorError, ScsiCommandError } from '@iscsi-ts/initiator'
import { LoginRejectedError } from '@iscsi-ts/negotiation'
import { LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import { IscsiTarget } from '@iscsi-ts/target'
import { RawConnection, startTestTarget } from '@iscsi-ts/target/testing'
import type { TestTarget } from '@iscsi-ts/target/testing'
import { ChapExchange, chapR } from './src/chap-exchange.js'
import { diagnosticsChannelNames } from './src/channel-names.js'

const INITIATOR = 'iqn.2026-11.io.iscsi-ts:security-initiator'
const USER = 'alice'
const SECRET = 'alice-long-secret-0123456789'
const TARGET_USER = 'disk1'
const TARGET_SECRET = 'target-long-secret-9876543210'

/** The login status a refused RawConnection.login ended with, as 0xCCDD. */
async function loginStatus(work: Promise<unknown>): Promise<number> {
  try {
    await work
    return 0
  } catch (error) {
    if (error instanceof LoginRejectedError) return (error.statusClass << 8) | error.statusDetail
    throw error
  }
}

const opened: RawConnection[] = []
async function raw(target: { host: string; port: number }): Promise<RawConnection> {
  const connection = await RawConnection.connect({ host: target.host, port: target.port })
  opened.push(connection)
  return connection
}
afterEach(() => {
  for (const c of opened.splice(0)) c.destroy()
})

describe('CHAP', () => {
  let target: TestTarget
  beforeAll(async () => {
    target = await startTestTarget({ auth: { chap: { user: USER, secret: SECRET }, mutual: { user: TARGET_USER, secret: TARGET_SECRET } }, luns: [1024 * 1024] })
  })
  afterAll(() => target.close())

  it('accepts the right user and secret, one-way and mutual', async () => {
    const a = await raw(target)
    const login = await a.login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: USER, secret: SECRET } })
    expect(login.tsih).toBeGreaterThan(0)
    const b = await raw(target)
    await b.login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: USER, secret: SECRET, mutual: { user: TARGET_USER, secret: TARGET_SECRET } } })
    expect(b.parameters?.connection.authMethod).toBe('CHAP')
  })

  it('refuses a wrong secret and a wrong user with 0x0201, and a login without CHAP too', async () => {
    expect(await loginStatus((await raw(target)).login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: USER, secret: 'wrong-secret-0123456' } }))).toBe(0x0201)
    expect(await loginStatus((await raw(target)).login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: 'mallory', secret: SECRET } }))).toBe(0x0201)
    expect(await loginStatus((await raw(target)).login({ targetName: target.targetName, initiatorName: INITIATOR }))).toBe(0x0201)
  })

  it('refuses a replayed CHAP response: every login gets a fresh challenge', async () => {
    const names = { initiatorName: INITIATOR, targetName: target.targetName }
    const first = new ChapExchange(await raw(target))
    const seen = await first.challenge(names)
    const response = chapR(seen, SECRET)
    const ok = await first.answer({ CHAP_N: USER, CHAP_R: response })
    expect(ok.response.statusClass).toBe(0)
    // An eavesdropper replays the captured CHAP_N/CHAP_R on a new connection.
    const replay = new ChapExchange(await raw(target))
    const fresh = await replay.challenge(names)
    expect(fresh.challenge.equals(seen.challenge)).toBe(false)
    const refused = await replay.answer({ CHAP_N: USER, CHAP_R: response })
    expect((refused.response.statusClass << 8) | refused.response.statusDetail).toBe(0x0201)
  })

  it('refuses a reflected challenge (mutual CHAP_C equal to the target\'s own) without answering it', async () => {
    const exchange = new ChapExchange(await raw(target))
    const challenge = await exchange.challenge({ initiatorName: INITIATOR, targetName: target.targetName })
    const step = await exchange.answer({
      CHAP_N: USER,
      CHAP_R: chapR(challenge, SECRET),
      CHAP_I: String(challenge.identifier),
      CHAP_C: `0x${challenge.challenge.toString('hex')}`,
    })
    expect((step.response.statusClass << 8) | step.response.statusDetail).toBe(0x0201)
    expect(step.keys.has('CHAP_R')).toBe(false)
  })

  it('refuses a mutual challenge used before (a replay of a recorded exchange)', async () => {
    const names = { initiatorName: INITIATOR, targetName: target.targetName }
    const mine = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    const first = new ChapExchange(await raw(target))
    const c1 = await first.challenge(names)
    const ok = await first.answer({ CHAP_N: USER, CHAP_R: chapR(c1, SECRET), CHAP_I: '9', CHAP_C: `0x${mine.toString('hex')}` })
    expect(ok.response.statusClass).toBe(0)
    expect(ok.keys.get('CHAP_N')).toBe(TARGET_USER)
    const again = new ChapExchange(await raw(target))
    const c2 = await again.challenge(names)
    const refused = await again.answer({ CHAP_N: USER, CHAP_R: chapR(c2, SECRET), CHAP_I: '9', CHAP_C: `0x${mine.toString('hex')}` })
    expect((refused.response.statusClass << 8) | refused.response.statusDetail).toBe(0x0201)
    expect(refused.keys.has('CHAP_R')).toBe(false)
  })

  it('our initiator refuses a target that proves itself with the wrong mutual secret (0x0201), and nothing is left on the target', async () => {
    const error = await Session.login({
      host: target.host,
      port: target.port,
      targetName: target.targetName,
      initiatorName: INITIATOR,
      chap: { user: USER, secret: SECRET },
      mutualChap: { user: TARGET_USER, secret: 'not-the-target-secret-42' },
      reconnect: false,
    }).then(
      () => undefined,
      (e: unknown) => e as InitiatorError & { statusClass?: number; statusDetail?: number },
    )
    expect(error?.code).toBe('ISCSI_ERR_LOGIN_AUTH')
    expect(error?.statusClass).toBe(2)
    expect(error?.statusDetail).toBe(1)
    await expect.poll(() => target.target.stats.sessions, { timeout: 5000 }).toBe(0)
    expect(target.target.sessions()).toEqual([])
  })
})

describe('failed logins are rate-limited per source address', () => {
  let target: TestTarget
  beforeAll(async () => {
    target = await startTestTarget({ auth: { chap: { user: USER, secret: SECRET } }, luns: [1024 * 1024] })
  })
  afterAll(() => target.close())

  it('slows down or refuses a source after repeated CHAP failures (online guessing)', async () => {
    // 30 wrong guesses from one address. Without limiting, each costs a round trip (about a millisecond here), so an
    // attacker tries thousands of secrets a second. A limited target delays its answers or refuses the source for a
    // while: the guesses after the tenth must not be answered at full speed with plain authentication failures.
    const timings: Array<{ status: number | 'closed'; ms: number }> = []
    for (let i = 0; i < 30; i++) {
      const started = performance.now()
      let status: number | 'closed'
      try {
        const connection = await raw(target)
        status = await loginStatus(connection.login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: USER, secret: `guess-${i}-0123456789` } }))
      } catch {
        status = 'closed'
      }
      timings.push({ status, ms: performance.now() - started })
    }
    const late = timings.slice(10)
    const refusedOutright = late.some((t) => t.status !== 0x0201)
    const slowedMs = late.reduce((sum, t) => sum + t.ms, 0)
    expect(
      refusedOutright || slowedMs >= 5000,
      `20 guesses after the first 10 were answered in ${slowedMs.toFixed(0)} ms, all with 0x0201: no rate limiting`,
    ).toBe(true)
  })
})

describe('secrets never reach diagnostics_channel', () => {
  it('no message on any iscsi:* channel carries a CHAP secret, in any encoding', async () => {
    const names = diagnosticsChannelNames()
    expect(names).toEqual(expect.arrayContaining(['iscsi:target:login', 'iscsi:target:error', 'iscsi:negotiation:login', 'iscsi:pdu:receive', 'iscsi:initiator:login']))
    const messages: Array<{ channel: string; text: string }> = []
    const serialize = (message: unknown): string => {
      const json = JSON.stringify(message, (_key, value: unknown) => {
        if (typeof value === 'bigint') return value.toString()
        if (value instanceof Uint8Array) {
          const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
          return `${b.toString('hex')} ${b.toString('base64')} ${b.toString('latin1')}`
        }
        if (value instanceof Error) return { message: value.message, stack: value.stack, cause: value.cause }
        return value
      })
      return `${json}\n${inspect(message, { depth: 12, maxArrayLength: 64, maxStringLength: 100_000 })}`
    }
    const handlers = names.map((name) => {
      const handler = (message: unknown): void => {
        messages.push({ channel: name, text: serialize(message) })
      }
      diagnostics.subscribe(name, handler)
      return [name, handler] as const
    })
    const target = await startTestTarget({
      auth: { chap: { user: USER, secret: SECRET }, mutual: { user: TARGET_USER, secret: TARGET_SECRET } },
      discoveryAuth: { chap: { user: USER, secret: SECRET } },
      luns: [1024 * 1024],
    })
    try {
      const base = { host: target.host, port: target.port, targetName: target.targetName, initiatorName: INITIATOR, reconnect: false as const }
      const good = await Session.login({ ...base, chap: { user: USER, secret: SECRET }, mutualChap: { user: TARGET_USER, secret: TARGET_SECRET } })
      await good.testUnitReady(0).catch(() => undefined)
      await good.logout()
      await Session.login({ ...base, chap: { user: USER, secret: 'wrong-secret-0123456' } }).catch(() => undefined)
      await Session.login({ ...base, chap: { user: USER, secret: SECRET }, mutualChap: { user: TARGET_USER, secret: 'wrong-target-secret-01' } }).catch(() => undefined)
      await discover({ host: target.host, port: target.port }, { initiatorName: INITIATOR, chap: { user: USER, secret: SECRET } })
      const rawConnection = await raw(target)
      await rawConnection.login({ targetName: target.targetName, initiatorName: INITIATOR, chap: { user: USER, secret: SECRET, mutual: { user: TARGET_USER, secret: TARGET_SECRET } } })
      await rawConnection.logout()
    } finally {
      await target.close()
      for (const [name, handler] of handlers) diagnostics.unsubscribe(name, handler)
    }
    const forms = (secret: string): string[] => {
      const bytes = Buffer.from(secret, 'utf8')
      return [secret, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')]
    }
    const secrets = [...forms(SECRET), ...forms(TARGET_SECRET), ...forms('wrong-secret-0123456'), ...forms('wrong-target-secret-01')]
    const channels = new Set(messages.map((m) => m.channel))
    expect([...channels]).toEqual(expect.arrayContaining(['iscsi:target:login', 'iscsi:negotiation:login', 'iscsi:initiator:login']))
    const leaks = messages.filter((m) => secrets.some((s) => m.text.includes(s))).map((m) => `${m.channel}: ${m.text.slice(0, 300)}`)
    expect(leaks).toEqual([])
    expect(messages.length).toBeGreaterThan(20)
  })
})

describe('ACLs and LUN masking', () => {
  const OPEN = 'iqn.2026-11.io.iscsi-ts:open'
  const CLOSED = 'iqn.2026-11.io.iscsi-ts:closed'
  const ALLOWED = 'iqn.2026-11.io.iscsi-ts:allowed'
  const OUTSIDER = 'iqn.2026-11.io.iscsi-ts:outsider'
  const BLOCK = 512
  const stores = [0, 1, 2].map(() => new MemoryBackstore({ size: 64 * BLOCK, blockSize: BLOCK }))
  let target: IscsiTarget
  let port = 0

  beforeAll(async () => {
    // Each LUN of the closed target holds its own number in every byte of block 0.
    for (const [i, store] of stores.entries()) await store.write(0, Buffer.alloc(BLOCK, 0xa0 + i))
    target = new IscsiTarget({
      portalGroups: [{ tag: 1, portals: [{ host: '127.0.0.1', port: 0 }] }],
      targets: [
        { name: OPEN, portalGroups: [1], luns: new Map([[0, new LogicalUnit({ backstore: new MemoryBackstore({ size: 64 * BLOCK }), serial: 'open-0' })]]) },
        {
          name: CLOSED,
          portalGroups: [1],
          luns: new Map(stores.map((backstore, i) => [i, new LogicalUnit({ backstore, serial: `closed-${i}` })])),
          // ALLOWED sees target LUN 2 as its LUN 0 and target LUN 0 as its LUN 5; LUN 1 is masked.
          acls: [{ initiator: ALLOWED, luns: { 0: 2, 5: 0 } }],
        },
      ],
    })
    const [bound] = await target.listen()
    port = bound!.port
  })
  afterAll(() => target.close())

  it('refuses an initiator that is not in the ACL with 0x0202', async () => {
    const connection = await raw({ host: '127.0.0.1', port })
    expect(await loginStatus(connection.login({ targetName: CLOSED, initiatorName: OUTSIDER }))).toBe(0x0202)
    const error = await Session.login({ host: '127.0.0.1', port, targetName: CLOSED, initiatorName: OUTSIDER, reconnect: false }).catch((e: unknown) => e as InitiatorError)
    expect(error).toMatchObject({ code: 'ISCSI_ERR_LOGIN_AUTHORIZATION' })
  })

  it('hides the target from SendTargets for initiators outside its ACL', async () => {
    const outsider = await discover({ host: '127.0.0.1', port }, { initiatorName: OUTSIDER })
    expect(outsider.map((t) => t.name)).toEqual([OPEN])
    const allowed = await discover({ host: '127.0.0.1', port }, { initiatorName: ALLOWED })
    expect(allowed.map((t) => t.name).sort()).toEqual([CLOSED, OPEN].sort())
  })

  it('holds LUN masking for REPORT LUNS, for reads, and for commands to unmapped LUNs', async () => {
    const session = await Session.login({ host: '127.0.0.1', port, targetName: CLOSED, initiatorName: ALLOWED, reconnect: false })
    try {
      expect((await session.reportLuns()).sort((a, b) => a - b)).toEqual([0, 5])
      // Visible LUN 0 is target LUN 2, visible LUN 5 is target LUN 0.
      expect((await session.read(0, 0, 1)).equals(Buffer.alloc(BLOCK, 0xa2))).toBe(true)
      expect((await session.read(5, 0, 1)).equals(Buffer.alloc(BLOCK, 0xa0))).toBe(true)
      for (const lun of [1, 2, 3]) {
        const error = (await session.read(lun, 0, 1).then(
          () => undefined,
          (e: unknown) => e,
        )) as ScsiCommandError | undefined
        expect(error?.status, `LUN ${lun}`).toBe(0x02)
        expect(error?.sense).toMatchObject({ key: 0x05, asc: 0x25, ascq: 0x00 })
        const written = (await session.write(lun, 0, Buffer.alloc(BLOCK, 0xee)).then(
          () => undefined,
          (e: unknown) => e,
        )) as ScsiCommandError | undefined
        expect(written?.sense).toMatchObject({ key: 0x05, asc: 0x25, ascq: 0x00 })
      }
      // INQUIRY of a masked LUN: peripheral qualifier 011b, no device (SPC-4 6.6.2).
      const inquiry = await session.execute(1, Buffer.from([0x12, 0, 0, 0, 36, 0]), { dataInLength: 36 })
      expect(inquiry.data?.[0]).toBe(0x7f)
      // The masked LUN 1 of the target was never written.
      const check = Buffer.alloc(BLOCK)
      await stores[1]!.read(0, 1, check)
      expect(check.equals(Buffer.alloc(BLOCK, 0xa1))).toBe(true)
    } finally {
      await session.logout()
    }
  })
})
