import { channel } from 'node:diagnostics_channel'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChapChallengeCache, chapResponse } from './chap.js'
import { LOGIN_CHANNEL } from './diagnostics.js'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { TargetLoginNegotiation } from './target-login.js'
import { simpleTargetPolicy } from './testing.js'
import { buildText, parseText } from './text.js'
import type { AuthPolicy, LoginRequestFields, SessionParameters, TargetLoginStep, TextPair } from './types.js'
import { parseBinary } from './values.js'

const TARGET = 'iqn.2026-01.org.example:disk1'
const INITIATOR = 'iqn.2026-01.org.example:host1'

function text(pairs: Record<string, string> | TextPair[]): Buffer {
  return buildText(Array.isArray(pairs) ? pairs : Object.entries(pairs).map(([key, value]) => ({ key, value })))
}

function req(
  csg: number,
  transit: boolean,
  nsg: number,
  data: Record<string, string> | TextPair[] | Buffer = {},
  extra: Partial<LoginRequestFields> = {},
): LoginRequestFields {
  return { csg, nsg, transit, continue: false, data: Buffer.isBuffer(data) ? data : text(data), ...extra }
}

function kv(step: TargetLoginStep): Record<string, string> {
  return Object.fromEntries(parseText(step.data).map((p) => [p.key, p.value]))
}

function status(step: TargetLoginStep): number {
  return (step.statusClass << 8) | step.statusDetail
}

const chapAuth = (extra: Partial<NonNullable<AuthPolicy['chap']>> = {}): AuthPolicy => ({
  methods: ['CHAP'],
  chap: { lookup: (user) => (user === 'alice' ? 'alice-secret-1' : undefined), ...extra },
})

function target(auth?: AuthPolicy, more: Parameters<typeof simpleTargetPolicy>[1] = {}) {
  return new TargetLoginNegotiation(
    simpleTargetPolicy(
      [
        { name: TARGET, alias: 'disk one', portalGroupTag: 7, ...(auth === undefined ? {} : { auth }) },
        { name: 'iqn.2026-01.org.example:private', allow: ['iqn.2026-01.org.example:other'] },
      ],
      more,
    ),
  )
}

const first = { InitiatorName: INITIATOR, SessionType: 'Normal', TargetName: TARGET }

describe('TargetLoginNegotiation: a login without authentication', () => {
  it('runs the security and operational stages into full feature phase', () => {
    const t = target()
    const r1 = t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    expect(status(r1)).toBe(0)
    expect(r1).toMatchObject({ transit: true, csg: 0, nsg: 1, done: false, continue: false })
    // RFC 7143 13.9: the first response carries TargetPortalGroupTag.
    expect(kv(r1)).toEqual({ TargetPortalGroupTag: '7', TargetAlias: 'disk one', AuthMethod: 'None' })
    expect(t.stage).toBe(1)

    const r2 = t.receive(
      req(1, true, 3, {
        MaxRecvDataSegmentLength: '65536',
        ImmediateData: 'Yes',
        InitialR2T: 'No',
        MaxBurstLength: '1048576',
        FirstBurstLength: '65536',
        HeaderDigest: 'CRC32C,None',
      }),
    )
    expect(r2).toMatchObject({ transit: true, csg: 1, nsg: 3, done: true, statusClass: 0 })
    expect(kv(r2)).toEqual({
      ImmediateData: 'Yes',
      InitialR2T: 'No',
      MaxBurstLength: '1048576',
      FirstBurstLength: '65536',
      HeaderDigest: 'CRC32C',
      MaxRecvDataSegmentLength: '262144',
    })
    const p = r2.parameters!
    expect(Object.isFrozen(p.session)).toBe(true)
    expect(Object.isFrozen(p.connection)).toBe(true)
    expect(p.session).toMatchObject({
      sessionType: 'Normal',
      initiatorName: INITIATOR,
      targetName: TARGET,
      targetAlias: 'disk one',
      targetPortalGroupTag: 7,
      immediateData: true,
      initialR2T: false,
      maxBurstLength: 1048576,
      firstBurstLength: 65536,
      maxConnections: 1,
      errorRecoveryLevel: 0,
    })
    // MaxRecvDataSegmentLength is declarative per direction (RFC 7143 13.12).
    expect(p.connection).toMatchObject({
      headerDigest: 'CRC32C',
      dataDigest: 'None',
      maxRecvDataSegmentLength: 262144,
      maxSendDataSegmentLength: 65536,
      authMethod: 'None',
    })
    expect(t.done).toBe(true)
  })

  it('accepts a login that starts in the operational stage when no authentication is required', () => {
    const t = target()
    const r = t.receive(req(1, true, 3, first))
    expect(r).toMatchObject({ transit: true, nsg: 3, done: true, statusClass: 0 })
    // The initiator declared nothing: we may send 8192 bytes (RFC 7143 13.12).
    expect(r.parameters!.connection.maxSendDataSegmentLength).toBe(8192)
  })

  it('takes the initiator from security straight to operational when it asked for full feature phase', () => {
    const t = target()
    const r = t.receive(req(0, true, 3, { ...first, AuthMethod: 'None' }))
    // Our MaxRecvDataSegmentLength must be declared, so we go through the operational stage (NSG <= asked).
    expect(r).toMatchObject({ transit: true, csg: 0, nsg: 1 })
  })

  it('holds the initiator back (T=0) when it did not ask to transit', () => {
    const t = target()
    const r = t.receive(req(0, false, 1, { ...first, AuthMethod: 'None' }))
    expect(r).toMatchObject({ transit: false, csg: 0 })
    const r2 = t.receive(req(0, true, 1))
    expect(r2).toMatchObject({ transit: true, nsg: 1 })
  })

  it('answers Reject to an out-of-range value and keeps the key at its current value (RFC 7143 6.2.2)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { MaxBurstLength: '100', ErrorRecoveryLevel: '9', MaxRecvDataSegmentLength: '1' }))
    expect(kv(r)).toMatchObject({ MaxBurstLength: 'Reject', ErrorRecoveryLevel: 'Reject', MaxRecvDataSegmentLength: 'Reject' })
    expect(r.parameters!.session.maxBurstLength).toBe(262144)
    expect(r.parameters!.session.errorRecoveryLevel).toBe(0)
    expect(r.parameters!.connection.maxSendDataSegmentLength).toBe(8192)
  })

  it('answers NotUnderstood to unknown keys and Reject to the obsolete markers (RFC 7143 6.2, 13.26)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { 'X-com.example.thing': '1', FooBar: 'x', OFMarker: 'No', IFMarkInt: '1~65535' }))
    expect(kv(r)).toMatchObject({
      'X-com.example.thing': 'NotUnderstood',
      FooBar: 'NotUnderstood',
      OFMarker: 'Reject',
      IFMarkInt: 'Reject',
    })
    expect(r.done).toBe(true)
  })

  it('clamps FirstBurstLength to MaxBurstLength (RFC 7143 13.14)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { FirstBurstLength: '262144', MaxBurstLength: '16384' }))
    expect(kv(r)).toMatchObject({ FirstBurstLength: '16384', MaxBurstLength: '16384' })
    expect(r.parameters!.session.firstBurstLength).toBe(16384)
  })

  it('answers FirstBurstLength Irrelevant when InitialR2T=Yes and ImmediateData=No (RFC 7143 13.14)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { InitialR2T: 'Yes', ImmediateData: 'No', FirstBurstLength: '4096' }))
    expect(kv(r)).toMatchObject({ InitialR2T: 'Yes', ImmediateData: 'No', FirstBurstLength: 'Irrelevant' })
  })

  it('proposes its own value when a default is unacceptable and transits only once answered', () => {
    const t = target(undefined, { limits: { maxBurstLength: 32768, immediateData: false } })
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { HeaderDigest: 'None' }))
    expect(r.transit).toBe(false)
    expect(kv(r)).toMatchObject({ ImmediateData: 'No', MaxBurstLength: '32768', FirstBurstLength: '32768' })
    const r2 = t.receive(req(1, true, 3, { ImmediateData: 'No', MaxBurstLength: '32768', FirstBurstLength: '16384' }))
    expect(r2).toMatchObject({ transit: true, done: true })
    expect(r2.parameters!.session).toMatchObject({ immediateData: false, maxBurstLength: 32768, firstBurstLength: 16384 })
  })

  it('fails when the initiator answers a proposal NotUnderstood (required key, RFC 7143 6.2)', () => {
    const t = target(undefined, { limits: { maxBurstLength: 32768 } })
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    t.receive(req(1, true, 3))
    const r = t.receive(req(1, true, 3, { MaxBurstLength: 'NotUnderstood', FirstBurstLength: '4096' }))
    expect(status(r)).toBe(0x0200)
    expect(r.error!.code).toBe(NegotiationErrorCode.RequiredKey)
  })
})

describe('TargetLoginNegotiation: identity and policy failures (RFC 7143 11.13.5)', () => {
  it.each([
    ['missing InitiatorName -> 0x0207', { SessionType: 'Normal', TargetName: TARGET }, 0x0207],
    ['empty InitiatorName -> 0x0207', { InitiatorName: '', TargetName: TARGET }, 0x0207],
    ['missing InitiatorName in discovery -> 0x0207', { SessionType: 'Discovery' }, 0x0207],
    ['missing TargetName in a normal session -> 0x0207', { InitiatorName: INITIATOR }, 0x0207],
    ['unknown target -> 0x0203', { InitiatorName: INITIATOR, TargetName: 'iqn.2026-01.org.example:nope' }, 0x0203],
    ['ACL refuses the initiator -> 0x0202', { InitiatorName: INITIATOR, TargetName: 'iqn.2026-01.org.example:private' }, 0x0202],
    ['unknown session type -> 0x0209', { InitiatorName: INITIATOR, SessionType: 'Other', TargetName: TARGET }, 0x0209],
  ])('%s', (_name, pairs, expected) => {
    const t = target()
    const r = t.receive(req(0, true, 1, { ...pairs, AuthMethod: 'None' }))
    expect(status(r)).toBe(expected)
    expect(r.done).toBe(true)
    expect(r.transit).toBe(false)
    expect(r.data.length).toBe(0)
    expect(r.error).toBeInstanceOf(NegotiationError)
  })

  it('refuses a session type the policy does not serve -> 0x0209', () => {
    const t = new TargetLoginNegotiation(simpleTargetPolicy([{ name: TARGET }], { sessionTypes: ['Normal'] }))
    expect(status(t.receive(req(0, true, 1, { InitiatorName: INITIATOR, SessionType: 'Discovery' })))).toBe(0x0209)
  })

  it('refuses discovery to an initiator the policy does not allow -> 0x0202', () => {
    const t = new TargetLoginNegotiation(
      simpleTargetPolicy([{ name: TARGET }], { discovery: { allowed: (name) => name !== INITIATOR } }),
    )
    expect(status(t.receive(req(0, true, 1, { InitiatorName: INITIATOR, SessionType: 'Discovery' })))).toBe(0x0202)
  })

  it('redirects with TargetAddress (0x0101 temporary, 0x0102 permanent)', () => {
    for (const permanent of [false, true]) {
      const t = new TargetLoginNegotiation({
        resolveTarget: () => ({
          exists: true,
          allowed: true,
          auth: { methods: ['None'] },
          portalGroupTag: 1,
          redirect: { address: '[2001:db8::1]:3260,2', permanent },
        }),
      })
      const r = t.receive(req(0, true, 1, first))
      expect(status(r)).toBe(permanent ? 0x0102 : 0x0101)
      expect(kv(r)).toEqual({ TargetAddress: '[2001:db8::1]:3260,2' })
      expect(r.done).toBe(true)
    }
  })

  it('reports a throwing policy as a target error 0x0300', () => {
    const t = new TargetLoginNegotiation({
      resolveTarget: () => {
        throw new Error('database down')
      },
    })
    const r = t.receive(req(0, true, 1, first))
    expect(status(r)).toBe(0x0300)
    expect(r.error).toBeInstanceOf(NegotiationError)
  })

  it('refuses a connection for a session that does not exist -> 0x020a', () => {
    const t = target()
    expect(status(t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }, { tsih: 5 })))).toBe(0x020a)
  })

  it('adds a connection to an existing session, answering leading-only keys Reject (RFC 7143 13 "LO")', () => {
    const leading = target()
    leading.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const session: SessionParameters = leading.receive(req(1, true, 3, { MaxBurstLength: '65536' })).parameters!.session
    const t = new TargetLoginNegotiation(simpleTargetPolicy([{ name: TARGET }]), { session })
    t.receive(req(0, true, 1, { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'None' }, { tsih: 9 }))
    const r = t.receive(req(1, true, 3, { MaxBurstLength: '4096', HeaderDigest: 'CRC32C' }, { tsih: 9 }))
    expect(kv(r)).toMatchObject({ MaxBurstLength: 'Reject', HeaderDigest: 'CRC32C' })
    expect(r.parameters!.session).toBe(session)
    expect(r.parameters!.connection.headerDigest).toBe('CRC32C')
  })

  it('refuses a connection whose initiator does not match the session -> 0x0208', () => {
    const session = { sessionType: 'Normal', initiatorName: 'iqn.other', targetName: TARGET } as SessionParameters
    const t = new TargetLoginNegotiation(simpleTargetPolicy([{ name: TARGET }]), { session })
    expect(status(t.receive(req(0, true, 1, first, { tsih: 9 })))).toBe(0x0208)
  })
})

describe('TargetLoginNegotiation: stage and flag rules (RFC 7143 6.3, 11.12)', () => {
  it('refuses T and C both set -> 0x0200 (RFC 7143 11.12.2)', () => {
    const r = target().receive(req(0, true, 1, first, { continue: true }))
    expect(status(r)).toBe(0x0200)
    expect(r.error!.code).toBe(NegotiationErrorCode.StageTransition)
  })

  it.each([
    ['CSG 3 during login', 3, true, 3],
    ['CSG 2 (reserved)', 2, false, 0],
    ['NSG 2 (reserved)', 0, true, 2],
    ['NSG 0 backwards', 1, true, 0],
    ['NSG equal to CSG', 1, true, 1],
  ])('refuses %s -> 0x0200 (RFC 7143 11.12.3)', (_name, csg, transit, nsg) => {
    expect(status(target().receive(req(csg, transit, nsg, first)))).toBe(0x0200)
  })

  it('refuses a CSG that does not follow the stage -> 0x0200 (RFC 7143 6.3)', () => {
    const t = target()
    t.receive(req(0, false, 1, { ...first, AuthMethod: 'None' }))
    expect(status(t.receive(req(1, true, 3)))).toBe(0x0200)
  })

  it('refuses a changed NSG within a stage -> 0x0200 (RFC 7143 6.3)', () => {
    const t = target(chapAuth())
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'CHAP' }))
    expect(status(t.receive(req(0, true, 3, { CHAP_A: '5' })))).toBe(0x0200)
  })

  it('refuses operational keys in the security stage -> 0x0200 (RFC 7143 6.3)', () => {
    const r = target().receive(req(0, true, 1, { ...first, MaxBurstLength: '4096' }))
    expect(status(r)).toBe(0x0200)
    expect(r.error!.code).toBe(NegotiationErrorCode.WrongStage)
  })

  it('refuses security keys in the operational stage -> 0x0200 (RFC 7143 6.3)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    expect(status(t.receive(req(1, true, 3, { AuthMethod: 'None' })))).toBe(0x0200)
    const u = target()
    u.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    expect(status(u.receive(req(1, true, 3, { CHAP_A: '5' })))).toBe(0x0200)
  })

  it('refuses SendTargets during login -> 0x020b (RFC 7143 11.13.5)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const r = t.receive(req(1, true, 3, { SendTargets: 'All' }))
    expect(status(r)).toBe(0x020b)
  })

  it('refuses target-only keys sent by the initiator -> 0x0200 (RFC 7143 13 "Senders")', () => {
    expect(status(target().receive(req(0, true, 1, { ...first, TargetPortalGroupTag: '1' })))).toBe(0x0200)
  })

  it('refuses a key negotiated twice in one login -> 0x0200 (RFC 7143 6.2)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    t.receive(req(1, false, 3, { MaxBurstLength: '65536' }))
    const r = t.receive(req(1, true, 3, { MaxBurstLength: '65536' }))
    expect(status(r)).toBe(0x0200)
    expect(r.error!.code).toBe(NegotiationErrorCode.DuplicateKey)
  })

  it('refuses a key repeated within one request -> 0x0200 (RFC 7143 6.2)', () => {
    const data = text([...Object.entries(first).map(([key, value]) => ({ key, value })), { key: 'InitiatorName', value: 'x' }])
    expect(status(target().receive(req(0, true, 1, data)))).toBe(0x0200)
  })

  it('refuses a declaration repeated in a later stage -> 0x0200 (RFC 7143 6.2)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    expect(status(t.receive(req(1, true, 3, { InitiatorName: INITIATOR })))).toBe(0x0200)
  })

  it('refuses malformed text -> 0x0200 (RFC 7143 6.1)', () => {
    expect(status(target().receive(req(0, true, 1, Buffer.from('InitiatorName\0'))))).toBe(0x0200)
  })

  it('refuses anything after the login ended', () => {
    const t = target()
    t.receive(req(1, true, 3, first))
    expect(t.done).toBe(true)
    const r = t.receive(req(1, true, 3))
    expect(status(r)).toBe(0x0200)
    expect(r.error!.code).toBe(NegotiationErrorCode.Sequence)
  })
})

describe('TargetLoginNegotiation: C=1 continuation (RFC 7143 11.12.2, 11.13.3)', () => {
  it('joins a request split across PDUs at every byte, answering each part with an empty response', () => {
    const data = text({ ...first, AuthMethod: 'None' })
    for (const size of [1, 3, 10, 40]) {
      const t = target()
      let response: TargetLoginStep | undefined
      for (let offset = 0; offset < data.length; offset += size) {
        const last = offset + size >= data.length
        response = t.receive(req(0, last, 1, data.subarray(offset, offset + size), { continue: !last }))
        if (!last) {
          expect(response).toMatchObject({ transit: false, continue: false, statusClass: 0 })
          expect(response.data.length).toBe(0)
        }
      }
      expect(response).toMatchObject({ transit: true, nsg: 1, statusClass: 0 })
      expect(kv(response!).AuthMethod).toBe('None')
    }
  })

  it('answers NotUnderstood for unknown keys that arrived in continued PDUs (RFC 7143 6.2)', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const data = text({ 'X-com.example.split-across-pdus': 'v', MaxBurstLength: '65536', Unknown: 'u' })
    t.receive(req(1, false, 3, data.subarray(0, 15), { continue: true }))
    const r = t.receive(req(1, true, 3, data.subarray(15)))
    expect(kv(r)).toMatchObject({ 'X-com.example.split-across-pdus': 'NotUnderstood', Unknown: 'NotUnderstood' })
    expect(r.done).toBe(true)
  })

  it('sends a long answer as several responses with C=1, each acknowledged by an empty request', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const unknown = Array.from({ length: 200 }, (_, i) => ({ key: `Unknown-key-number-${i}-${'x'.repeat(30)}`, value: 'v' }))
    const data = text(unknown)
    // The request is longer than 8192 bytes, so it arrives with C=1 too.
    expect(data.length).toBeGreaterThan(8192)
    t.receive(req(1, false, 3, data.subarray(0, 8192), { continue: true }))
    let r = t.receive(req(1, true, 3, data.subarray(8192)))
    const parts: Buffer[] = []
    let rounds = 0
    while (r.continue) {
      expect(r.transit).toBe(false)
      expect(r.data.length).toBeLessThanOrEqual(8192)
      parts.push(r.data)
      r = t.receive(req(1, false, 3))
      rounds++
    }
    parts.push(r.data)
    expect(rounds).toBeGreaterThanOrEqual(1)
    expect(r).toMatchObject({ transit: true, nsg: 3, done: true })
    const answers = parseText(Buffer.concat(parts))
    expect(answers.filter((p) => p.value === 'NotUnderstood')).toHaveLength(200)
  })

  it('refuses data while its own response continues -> 0x0200', () => {
    const t = target()
    t.receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    const unknown = Array.from({ length: 200 }, (_, i) => ({ key: `Unknown-${i}-${'y'.repeat(40)}`, value: 'v' }))
    const data = text(unknown)
    t.receive(req(1, false, 3, data.subarray(0, 8192), { continue: true }))
    const r = t.receive(req(1, true, 3, data.subarray(8192)))
    expect(r.continue).toBe(true)
    expect(status(t.receive(req(1, true, 3, { MaxBurstLength: '4096' })))).toBe(0x0200)
  })

  it('refuses a text beyond the size limit -> 0x0200', () => {
    const t = new TargetLoginNegotiation(simpleTargetPolicy([{ name: TARGET }], { maxTextLength: 1024 }))
    const r1 = t.receive(req(0, false, 1, Buffer.alloc(1000, 0x41), { continue: true }))
    expect(status(r1)).toBe(0)
    const r2 = t.receive(req(0, false, 1, Buffer.alloc(1000, 0x41), { continue: true }))
    expect(status(r2)).toBe(0x0200)
    expect(r2.error!.code).toBe(NegotiationErrorCode.TextTooLong)
  })
})

describe('TargetLoginNegotiation: authentication (RFC 7143 12)', () => {
  function chapStart(t: TargetLoginNegotiation, algorithms = '5') {
    const r1 = t.receive(req(0, false, 1, { ...first, AuthMethod: 'CHAP,None' }))
    expect(kv(r1).AuthMethod).toBe('CHAP')
    const r2 = t.receive(req(0, false, 1, { CHAP_A: algorithms }))
    const keys = kv(r2)
    return { algorithm: Number(keys.CHAP_A), id: Number(keys.CHAP_I), challenge: parseBinary(keys.CHAP_C!) }
  }

  it('authenticates one-way CHAP and records the user', () => {
    const t = target(chapAuth())
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
    const r = t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}` }))
    expect(r).toMatchObject({ transit: true, nsg: 1, statusClass: 0 })
    const done = t.receive(req(1, true, 3))
    expect(done.parameters!.connection).toMatchObject({ authMethod: 'CHAP', chapUser: 'alice' })
  })

  it('accepts CHAP_R in base64 (RFC 7143 6.1)', () => {
    const t = target(chapAuth())
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('base64')
    expect(t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0b${response}` })).statusClass).toBe(0)
  })

  it('picks the first algorithm of the initiator list that it accepts', () => {
    const t = target(chapAuth({ algorithms: [5, 7] }))
    expect(chapStart(t, '8,7,6,5').algorithm).toBe(7)
  })

  it('issues challenges of at least 16 bytes and the digest length', () => {
    expect(chapStart(target(chapAuth()), '5').challenge.length).toBe(16)
    expect(chapStart(target(chapAuth()), '7').challenge.length).toBe(32)
  })

  it('fails with 0x0201 on a wrong secret (RFC 7143 12.1.3)', () => {
    const t = target(chapAuth())
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'wrong-secret', c.challenge).toString('hex')
    const r = t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}` }))
    expect(status(r)).toBe(0x0201)
    expect(r.error!.code).toBe(NegotiationErrorCode.ChapResponse)
    expect(r.error!.message).not.toContain('alice-secret-1')
  })

  it('fails with 0x0201 on an unknown user', () => {
    const t = target(chapAuth())
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
    expect(status(t.receive(req(0, true, 1, { CHAP_N: 'mallory', CHAP_R: `0x${response}` })))).toBe(0x0201)
  })

  it('fails with 0x0201 on a CHAP_R of the wrong length', () => {
    const t = target(chapAuth())
    chapStart(t)
    expect(status(t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: '0x0102' })))).toBe(0x0201)
  })

  it('fails with 0x0200 on a malformed CHAP_R (RFC 7143 12.1.3)', () => {
    const t = target(chapAuth())
    chapStart(t)
    expect(status(t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: 'not-binary' })))).toBe(0x0200)
  })

  it('fails with 0x0201 when no CHAP_A is acceptable', () => {
    const t = target(chapAuth({ algorithms: [7] }))
    t.receive(req(0, false, 1, { ...first, AuthMethod: 'CHAP' }))
    const r = t.receive(req(0, false, 1, { CHAP_A: '5,6' }))
    expect(status(r)).toBe(0x0201)
    expect(r.error!.code).toBe(NegotiationErrorCode.ChapAlgorithm)
  })

  it('fails with 0x0200 on CHAP keys before AuthMethod=CHAP (RFC 7143 12.1.3)', () => {
    const t = target(chapAuth())
    expect(status(t.receive(req(0, false, 1, { ...first, CHAP_A: '5' })))).toBe(0x0200)
  })

  it('fails with 0x0201 when no authentication method is acceptable', () => {
    const r = target(chapAuth()).receive(req(0, true, 1, { ...first, AuthMethod: 'None' }))
    expect(status(r)).toBe(0x0201)
  })

  it('fails with 0x0201 when authentication is required but the initiator skips it', () => {
    expect(status(target(chapAuth()).receive(req(1, true, 3, first)))).toBe(0x0201)
    expect(status(target(chapAuth()).receive(req(0, true, 1, first)))).toBe(0x0201)
  })

  it('does not transit while CHAP is unfinished (T=0)', () => {
    const t = target(chapAuth())
    const r = t.receive(req(0, true, 1, { ...first, AuthMethod: 'CHAP' }))
    expect(r).toMatchObject({ transit: false, statusClass: 0 })
  })

  it('requires discovery authentication when the policy says so', () => {
    const t = new TargetLoginNegotiation(simpleTargetPolicy([], { discovery: { auth: chapAuth() } }))
    expect(status(t.receive(req(0, true, 1, { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'None' })))).toBe(
      0x0201,
    )
  })

  it('refuses a mutual challenge equal to its own (reflection) with 0x0201 (RFC 7143 12.1.3)', () => {
    const t = target(chapAuth({ mutual: { user: 'target', secret: 'target-secret-2' } }))
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
    const r = t.receive(
      req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}`, CHAP_I: String(c.id), CHAP_C: `0x${c.challenge.toString('hex')}` }),
    )
    expect(status(r)).toBe(0x0201)
    expect(r.error!.code).toBe(NegotiationErrorCode.ChapReflection)
  })

  it('refuses a replayed mutual challenge across logins with 0x0201 (RFC 7143 12.1.3)', () => {
    const policy = simpleTargetPolicy(
      [{ name: TARGET, auth: chapAuth({ mutual: { user: 'target', secret: 'target-secret-2' } }) }],
      {},
    )
    // One cache shared by every login of the target.
    const cache = new ChapChallengeCache()
    const run = (mutualChallenge: string) => {
      const t = new TargetLoginNegotiation({ ...policy, replayCache: cache })
      const c = chapStart(t)
      const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
      return t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}`, CHAP_I: '1', CHAP_C: mutualChallenge }))
    }
    const challenge = `0x${'5a'.repeat(16)}`
    expect(status(run(challenge))).toBe(0)
    const replay = run(challenge)
    expect(status(replay)).toBe(0x0201)
    expect(replay.error!.code).toBe(NegotiationErrorCode.ChapReplay)
  })

  it('refuses the same secret in both directions with 0x0201 (RFC 7143 12.1.3)', () => {
    const t = target(chapAuth({ mutual: { user: 'target', secret: 'alice-secret-1' } }))
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
    const r = t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}`, CHAP_I: '3', CHAP_C: `0x${'11'.repeat(16)}` }))
    expect(status(r)).toBe(0x0201)
    expect(r.error!.code).toBe(NegotiationErrorCode.ChapSecretReuse)
  })

  it('refuses mutual CHAP when it has no mutual secret, and CHAP_I without CHAP_C', () => {
    const t = target(chapAuth())
    const c = chapStart(t)
    const response = chapResponse(5, c.id, 'alice-secret-1', c.challenge).toString('hex')
    expect(status(t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}`, CHAP_I: '3', CHAP_C: '0x1234' })))).toBe(0x0201)
    const u = target(chapAuth())
    chapStart(u)
    expect(status(u.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}`, CHAP_I: '3' })))).toBe(0x0200)
  })

  it('never publishes a secret or challenge in its events', () => {
    const seen: unknown[] = []
    const listener = (message: unknown) => seen.push(message)
    channel(LOGIN_CHANNEL).subscribe(listener)
    try {
      const t = target(chapAuth())
      const c = chapStart(t)
      const response = chapResponse(5, c.id, 'wrong', c.challenge).toString('hex')
      t.receive(req(0, true, 1, { CHAP_N: 'alice', CHAP_R: `0x${response}` }))
    } finally {
      channel(LOGIN_CHANNEL).unsubscribe(listener)
    }
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ role: 'target', event: 'failure', statusClass: 2, statusDetail: 1 })
    const json = JSON.stringify(seen)
    expect(json).not.toContain('alice-secret-1')
    expect(json).not.toContain('0x')
  })
})

describe('TargetLoginNegotiation: random input', () => {
  it('never throws and only reports NegotiationErrors for random requests', () => {
    const policy = simpleTargetPolicy([{ name: TARGET, auth: chapAuth() }])
    const pairArb = fc.oneof(
      fc.constantFrom(
        'InitiatorName=iqn.x',
        `TargetName=${TARGET}`,
        'SessionType=Discovery',
        'AuthMethod=CHAP,None',
        'CHAP_A=5',
        'CHAP_N=alice',
        'CHAP_R=0x00',
        'CHAP_I=1',
        'CHAP_C=0x01',
        'MaxBurstLength=512',
        'HeaderDigest=CRC32C',
        'SendTargets=All',
      ),
      fc.string({ maxLength: 20 }),
    )
    const requestArb = fc.record({
      csg: fc.integer({ min: 0, max: 3 }),
      nsg: fc.integer({ min: 0, max: 3 }),
      transit: fc.boolean(),
      continue: fc.boolean(),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.array(pairArb, { maxLength: 8 }).map((items) => Buffer.from(items.map((i) => `${i}\0`).join(''))),
      ),
      tsih: fc.constantFrom(0, 0, 1),
    })
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 8 }), (requests) => {
        const t = new TargetLoginNegotiation(policy)
        for (const request of requests) {
          const r = t.receive(request)
          expect([0, 1, 2, 3]).toContain(r.statusClass)
          if (r.error !== undefined) expect(r.error).toBeInstanceOf(NegotiationError)
          if (r.statusClass !== 0) expect(r.done).toBe(true)
          expect(r.data.length).toBeLessThanOrEqual(8192)
        }
      }),
      { interruptAfterTimeLimit: 2000, numRuns: 3000 },
    )
  })
})
