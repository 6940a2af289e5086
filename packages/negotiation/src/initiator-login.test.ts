import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChapChallengeCache } from './chap.js'
import { LoginRejectedError, NegotiationError, NegotiationErrorCode } from './errors.js'
import { InitiatorLoginNegotiation } from './initiator-login.js'
import { TargetLoginNegotiation } from './target-login.js'
import { loopbackParameters, runLoopbackLogin, simpleTargetPolicy } from './testing.js'
import { buildText, parseText } from './text.js'
import type {
  AuthPolicy,
  ChapAlgorithm,
  InitiatorLoginOptions,
  LoginRequestFields,
  LoginResponseFields,
  OperationalPreferences,
} from './types.js'

const TARGET = 'iqn.2026-01.org.example:disk1'
const INITIATOR = 'iqn.2026-01.org.example:host1'

function kv(request: LoginRequestFields): Record<string, string> {
  return Object.fromEntries(parseText(request.data).map((p) => [p.key, p.value]))
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof NegotiationError ? error.code : 'not a NegotiationError'
  }
  return undefined
}

const chapTarget = (algorithms?: ChapAlgorithm[], mutual = false): AuthPolicy => ({
  methods: ['CHAP'],
  chap: {
    lookup: (user) => (user === 'alice' ? 'alice-secret-1' : undefined),
    ...(mutual ? { mutual: { user: 'disk-target', secret: 'target-secret-2' } } : {}),
    ...(algorithms === undefined ? {} : { algorithms }),
  },
})

function login(
  initiatorOptions: Partial<InitiatorLoginOptions>,
  targetAuth?: AuthPolicy,
  limits?: OperationalPreferences,
  extra: Parameters<typeof simpleTargetPolicy>[1] = {},
) {
  const policy = simpleTargetPolicy(
    [{ name: TARGET, alias: 'Disk 1', portalGroupTag: 3, ...(targetAuth === undefined ? {} : { auth: targetAuth }) }],
    { ...extra, ...(limits === undefined ? {} : { limits }) },
  )
  const target = new TargetLoginNegotiation(policy)
  const initiator = new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET, ...initiatorOptions })
  return runLoopbackLogin(target, initiator)
}

describe('whole logins, initiator engine <-> target engine', () => {
  it('normal session without authentication', () => {
    const result = login({})
    const { initiator, target } = loopbackParameters(result)
    expect(initiator.session).toEqual(target.session)
    expect(initiator.session).toMatchObject({
      sessionType: 'Normal',
      targetName: TARGET,
      targetAlias: 'Disk 1',
      targetPortalGroupTag: 3,
      immediateData: true,
      initialR2T: false,
      maxBurstLength: 16776192,
      firstBurstLength: 262144,
    })
    // Declarative per direction: each side's send limit is the other's receive limit (RFC 7143 13.12).
    expect(initiator.connection.maxSendDataSegmentLength).toBe(target.connection.maxRecvDataSegmentLength)
    expect(target.connection.maxSendDataSegmentLength).toBe(initiator.connection.maxRecvDataSegmentLength)
    expect(result.exchanges).toHaveLength(2)
    expect(result.initiator.kind === 'done' && result.initiator.tsih).toBe(1)
  })

  it('discovery session: only digests and MaxRecvDataSegmentLength are negotiated', () => {
    const result = login({ sessionType: 'Discovery', targetName: undefined })
    const { initiator, target } = loopbackParameters(result)
    expect(initiator.session.sessionType).toBe('Discovery')
    expect(initiator.session.targetName).toBeUndefined()
    expect(target.session.sessionType).toBe('Discovery')
    const operational = kv(result.exchanges[1]!.request)
    expect(Object.keys(operational).sort()).toEqual(['DataDigest', 'HeaderDigest', 'MaxRecvDataSegmentLength'])
  })

  it('digests: CRC32C when both want it, None when the target only accepts None', () => {
    const both = loopbackParameters(login({ operational: { headerDigest: ['CRC32C', 'None'], dataDigest: ['CRC32C', 'None'] } }))
    expect(both.initiator.connection).toMatchObject({ headerDigest: 'CRC32C', dataDigest: 'CRC32C' })
    const none = loopbackParameters(
      login({ operational: { headerDigest: ['CRC32C', 'None'] } }, undefined, { headerDigest: ['None'] }),
    )
    expect(none.initiator.connection.headerDigest).toBe('None')
    expect(none.target.connection.headerDigest).toBe('None')
  })

  it('the target proposes keys whose defaults it cannot accept, and the initiator answers', () => {
    const limits = { maxBurstLength: 16384, firstBurstLength: 8192, immediateData: false, headerDigest: ['CRC32C'] } as const
    const result = login({ operational: { maxBurstLength: 65536 } }, undefined, limits)
    const { initiator, target } = loopbackParameters(result)
    expect(initiator.session).toEqual(target.session)
    expect(initiator.session).toMatchObject({ maxBurstLength: 16384, firstBurstLength: 8192, immediateData: false })
    // RFC 7143 13.1: the initiator offered only None, the target only accepts CRC32C: Reject, digest stays None.
    expect(initiator.connection.headerDigest).toBe('None')
  })

  it('one-way CHAP', () => {
    const result = login({ auth: { chap: { user: 'alice', secret: 'alice-secret-1' } } }, chapTarget())
    const { initiator, target } = loopbackParameters(result)
    expect(initiator.connection).toMatchObject({ authMethod: 'CHAP', chapUser: 'alice' })
    expect(target.connection).toMatchObject({ authMethod: 'CHAP', chapUser: 'alice' })
  })

  it.each([5, 6, 7, 8] as const)('mutual CHAP with CHAP_A=%s', (algorithm) => {
    const result = login(
      {
        auth: {
          chap: {
            user: 'alice',
            secret: 'alice-secret-1',
            mutual: { user: 'disk-target', secret: 'target-secret-2' },
            algorithms: [algorithm],
          },
        },
      },
      chapTarget([algorithm], true),
    )
    expect(loopbackParameters(result).initiator.connection.authMethod).toBe('CHAP')
    const chapA = result.exchanges.map((e) => parseText(e.response.data).find((p) => p.key === 'CHAP_A')?.value)
    expect(chapA).toContain(String(algorithm))
  })

  it.each([5, 6, 7, 8] as const)('one-way CHAP with CHAP_A=%s chosen from the initiator list', (algorithm) => {
    const result = login({ auth: { chap: { user: 'alice', secret: 'alice-secret-1' } } }, chapTarget([algorithm]))
    expect(loopbackParameters(result).target.connection.chapUser).toBe('alice')
  })

  it('always offers MD5 so that an MD5-only target works', () => {
    const result = login({ auth: { chap: { user: 'alice', secret: 'alice-secret-1', algorithms: [7] } } }, chapTarget([5]))
    expect(kv(result.exchanges[1]!.request)).toEqual({ CHAP_A: '7,5' })
    expect(result.initiator.kind).toBe('done')
  })

  it('CHAP,None offered to a target that allows None ends up with CHAP', () => {
    const result = login(
      { auth: { methods: ['CHAP', 'None'], chap: { user: 'alice', secret: 'alice-secret-1' } } },
      { ...chapTarget(), methods: ['CHAP', 'None'] },
    )
    expect(loopbackParameters(result).initiator.connection.authMethod).toBe('CHAP')
  })

  it('discovery session with CHAP', () => {
    const result = login(
      { sessionType: 'Discovery', targetName: undefined, auth: { chap: { user: 'alice', secret: 'alice-secret-1' } } },
      undefined,
      undefined,
      { discovery: { auth: chapTarget() } },
    )
    expect(loopbackParameters(result).target.session.sessionType).toBe('Discovery')
  })

  it('C=1 continuation on both sides: long requests and long answers', () => {
    const extensionKeys = Array.from({ length: 150 }, (_, i) => ({
      key: `X-com.example.vendor-key-${String(i).padStart(3, '0')}-${'k'.repeat(20)}`,
      value: 'v'.repeat(100),
    }))
    const result = login({ extensionKeys, auth: { chap: { user: 'alice', secret: 'alice-secret-1' } } }, chapTarget())
    const { initiator, target } = loopbackParameters(result)
    expect(initiator.session).toEqual(target.session)
    const continuedRequests = result.exchanges.filter((e) => e.request.continue)
    const continuedResponses = result.exchanges.filter((e) => e.response.continue)
    expect(continuedRequests.length).toBeGreaterThanOrEqual(2)
    expect(continuedResponses.length).toBeGreaterThanOrEqual(1)
    for (const e of result.exchanges) {
      expect(e.request.data.length).toBeLessThanOrEqual(8192)
      expect(e.response.data.length).toBeLessThanOrEqual(8192)
      expect(e.request.transit && e.request.continue).toBe(false)
    }
  })

  it('a connection joining an existing session', () => {
    const first = loopbackParameters(login({ operational: { maxConnections: 2 } }))
    const policy = simpleTargetPolicy([{ name: TARGET }])
    const target = new TargetLoginNegotiation(policy, { session: first.target.session })
    const initiator = new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET, tsih: 1 })
    const result = runLoopbackLogin(target, initiator)
    const second = loopbackParameters(result)
    expect(second.target.session).toBe(first.target.session)
    // Leading-only keys are not offered on a second connection (RFC 7143 13 "LO").
    const keys = result.exchanges.flatMap((e) => parseText(e.request.data).map((p) => p.key))
    expect(keys).not.toContain('MaxBurstLength')
    expect(keys).not.toContain('SessionType')
    expect(keys).toContain('HeaderDigest')
  })
})

describe('initiator failures against the target engine', () => {
  it('wrong secret: LoginRejectedError 0x0201', () => {
    try {
      login({ auth: { chap: { user: 'alice', secret: 'wrong' } } }, chapTarget())
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(LoginRejectedError)
      expect(error).toMatchObject({ statusClass: 2, statusDetail: 1, code: NegotiationErrorCode.LoginRejected })
    }
  })

  it('the target fails mutual authentication: AuthenticationFailed (RFC 7143 12.1.3)', () => {
    expect(
      codeOf(() =>
        login(
          { auth: { chap: { user: 'alice', secret: 'alice-secret-1', mutual: { secret: 'not-the-target-secret' } } } },
          chapTarget(undefined, true),
        ),
      ),
    ).toBe(NegotiationErrorCode.ChapResponse)
  })

  it('the target answers with an unexpected CHAP_N: AuthenticationFailed', () => {
    expect(
      codeOf(() =>
        login(
          { auth: { chap: { user: 'alice', secret: 'alice-secret-1', mutual: { user: 'someone-else', secret: 'target-secret-2' } } } },
          chapTarget(undefined, true),
        ),
      ),
    ).toBe(NegotiationErrorCode.ChapResponse)
  })

  it('unknown target: 0x0203; not allowed: 0x0202; missing parameter never leaves the constructor', () => {
    const run = (targetName: string, allow?: string[]) => {
      const t = new TargetLoginNegotiation(simpleTargetPolicy([{ name: TARGET, ...(allow ? { allow } : {}) }]))
      return runLoopbackLogin(t, new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName }))
    }
    expect(() => run('iqn.nope')).toThrow(expect.objectContaining({ statusClass: 2, statusDetail: 3 }))
    expect(() => run(TARGET, ['iqn.somebody'])).toThrow(expect.objectContaining({ statusClass: 2, statusDetail: 2 }))
    expect(() => new InitiatorLoginNegotiation({ initiatorName: INITIATOR })).toThrow(NegotiationError)
    expect(() => new InitiatorLoginNegotiation({ initiatorName: '', targetName: TARGET })).toThrow(NegotiationError)
    expect(() => new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET, auth: { methods: ['CHAP'] } })).toThrow(
      NegotiationError,
    )
  })

  it('the same secret for both directions is refused before any exchange (RFC 7143 12.1.3)', () => {
    expect(
      codeOf(
        () =>
          new InitiatorLoginNegotiation({
            initiatorName: INITIATOR,
            targetName: TARGET,
            auth: { chap: { user: 'a', secret: 'same-secret', mutual: { secret: 'same-secret' } } },
          }),
      ),
    ).toBe(NegotiationErrorCode.ChapSecretReuse)
  })

  it('redirect: returns the TargetAddress (0x0101 / 0x0102)', () => {
    const target = new TargetLoginNegotiation({
      resolveTarget: () => ({
        exists: true,
        allowed: true,
        auth: { methods: ['None'] },
        portalGroupTag: 1,
        redirect: { address: '[2001:db8::7]:3261,4', permanent: true },
      }),
    })
    const result = runLoopbackLogin(target, new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET }))
    expect(result.initiator).toEqual({
      kind: 'redirect',
      permanent: true,
      targetAddress: '[2001:db8::7]:3261,4',
      address: { host: '2001:db8::7', port: 3261, portalGroupTag: 4 },
    })
  })
})

// A scripted target: answers each request with the next response built from it.
function scripted(options: Partial<InitiatorLoginOptions>, responses: ((request: LoginRequestFields) => LoginResponseFields)[]) {
  const initiator = new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET, ...options })
  let request = initiator.start()
  for (const make of responses) {
    const step = initiator.receive(make(request))
    if (step.kind !== 'request') return step
    request = step.request
  }
  return { kind: 'pending' as const, request }
}

const ok = (csg: number, transit: boolean, nsg: number, pairs: Record<string, string> = {}, more = false): LoginResponseFields => ({
  csg,
  nsg,
  transit,
  continue: more,
  statusClass: 0,
  statusDetail: 0,
  data: buildText(Object.entries(pairs).map(([key, value]) => ({ key, value }))),
})

describe('initiator protocol checks against a scripted target', () => {
  const toOperational = () => ok(0, true, 1, { AuthMethod: 'None' })

  it('refuses a target that transits when not asked (RFC 7143 6.3)', () => {
    const chap = { auth: { chap: { user: 'alice', secret: 'alice-secret-1' } } }
    expect(codeOf(() => scripted(chap, [() => ok(0, true, 1, { AuthMethod: 'CHAP' })]))).toBe(
      NegotiationErrorCode.StageTransition,
    )
  })

  it('refuses a response NSG beyond what was asked (RFC 7143 11.13.3)', () => {
    expect(codeOf(() => scripted({}, [() => ok(0, true, 3, { AuthMethod: 'None' })]))).toBe(
      NegotiationErrorCode.StageTransition,
    )
  })

  it('refuses T and C both set and a wrong CSG (RFC 7143 11.13)', () => {
    expect(codeOf(() => scripted({}, [() => ({ ...toOperational(), continue: true })]))).toBe(
      NegotiationErrorCode.StageTransition,
    )
    expect(codeOf(() => scripted({}, [() => ok(1, false, 3)]))).toBe(NegotiationErrorCode.StageTransition)
  })

  it('refuses an answer the result function does not allow (RFC 7143 6.2.2)', () => {
    expect(
      codeOf(() => scripted({ operational: { maxBurstLength: 65536 } }, [toOperational, (r) => ok(1, true, 3, { ...answerAll(r), MaxBurstLength: '262144' })])),
    ).toBe(NegotiationErrorCode.BadAnswer)
  })

  it('fails when a required key is answered NotUnderstood (RFC 7143 6.2)', () => {
    expect(
      codeOf(() => scripted({}, [toOperational, (r) => ok(1, true, 3, { ...answerAll(r), ImmediateData: 'NotUnderstood' })])),
    ).toBe(NegotiationErrorCode.RequiredKey)
  })

  it('accepts NotUnderstood for the optional RFC 7144 keys', () => {
    const step = scripted({ operational: { taskReporting: ['ResponseFence'], iscsiProtocolLevel: 2 } }, [
      toOperational,
      (r) => ok(1, true, 3, { ...answerAll(r), TaskReporting: 'NotUnderstood', iSCSIProtocolLevel: 'NotUnderstood' }),
    ])
    expect(step.kind).toBe('done')
    if (step.kind === 'done') expect(step.parameters.session).toMatchObject({ taskReporting: 'RFC3720', iscsiProtocolLevel: 1 })
  })

  it('keeps the current value when a key is answered Reject', () => {
    const step = scripted({}, [toOperational, (r) => ok(1, true, 3, { ...answerAll(r), MaxBurstLength: 'Reject' })])
    expect(step.kind === 'done' && step.parameters.session.maxBurstLength).toBe(262144)
  })

  it('fails when the target leaves a proposal unanswered (RFC 7143 6.2)', () => {
    expect(
      codeOf(() =>
        scripted({}, [
          toOperational,
          (r) => {
            const answers = answerAll(r)
            delete answers.MaxBurstLength
            return ok(1, true, 3, answers)
          },
        ]),
      ),
    ).toBe(NegotiationErrorCode.BadAnswer)
  })

  it('accepts the optional missing answers of RFC 7143 6.2.2 (AND with No, OR with Yes)', () => {
    const step = scripted({ operational: { immediateData: false, initialR2T: true } }, [
      toOperational,
      (r) => {
        const answers = answerAll(r)
        delete answers.ImmediateData
        delete answers.InitialR2T
        delete answers.FirstBurstLength
        return ok(1, true, 3, { ...answers, FirstBurstLength: 'Irrelevant' })
      },
    ])
    expect(step.kind === 'done' && step.parameters.session).toMatchObject({ immediateData: false, initialR2T: true })
  })

  it('fails when the answers make FirstBurstLength exceed MaxBurstLength (RFC 7143 13.14)', () => {
    expect(
      codeOf(() =>
        scripted({}, [toOperational, (r) => ok(1, true, 3, { ...answerAll(r), MaxBurstLength: '16384', FirstBurstLength: '65536' })]),
      ),
    ).toBe(NegotiationErrorCode.BurstLength)
  })

  it('answers a target that continues its response (C=1) with empty requests', () => {
    const body = buildText([{ key: 'AuthMethod', value: 'None' }, { key: 'TargetAlias', value: 'a'.repeat(200) }])
    const step = scripted({}, [
      () => ({ ...ok(0, false, 1), continue: true, data: body.subarray(0, 10) }),
      (r) => {
        expect(r).toMatchObject({ continue: false, transit: false, csg: 0 })
        expect(r.data.length).toBe(0)
        return { ...ok(0, true, 1), data: body.subarray(10) }
      },
      (r) => {
        expect(r.csg).toBe(1)
        return ok(1, true, 3, answerAll(r))
      },
    ])
    expect(step.kind === 'done' && step.parameters.session.targetAlias).toBe('a'.repeat(200))
  })

  it('answers NotUnderstood to unknown keys from the target, also in continued responses', () => {
    const body = buildText([{ key: 'AuthMethod', value: 'None' }, { key: 'X-vendor-thing', value: '1' }])
    const step = scripted({}, [
      () => ({ ...ok(0, false, 1), continue: true, data: body.subarray(0, 20) }),
      () => ({ ...ok(0, false, 1), data: body.subarray(20) }),
    ])
    expect(step.kind).toBe('pending')
    if (step.kind === 'pending') expect(kv(step.request)).toEqual({ 'X-vendor-thing': 'NotUnderstood' })
  })

  it('throws LoginRejectedError with readable text on a failure status', () => {
    try {
      scripted({}, [() => ({ ...ok(0, false, 0), statusClass: 3, statusDetail: 1 })])
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(LoginRejectedError)
      expect((error as LoginRejectedError).message).toMatch(/not currently operational/)
      expect((error as LoginRejectedError).loginStatus).toEqual({ statusClass: 3, statusDetail: 1 })
    }
  })

  it('refuses a redirect without TargetAddress', () => {
    expect(() => scripted({}, [() => ({ ...ok(0, false, 0), statusClass: 1, statusDetail: 1 })])).toThrow(LoginRejectedError)
  })

  it('refuses a target that skips CHAP after choosing it', () => {
    const chap = { auth: { methods: ['CHAP', 'None'] as const, chap: { user: 'alice', secret: 'alice-secret-1' } } }
    expect(codeOf(() => scripted(chap, [() => ok(0, true, 1, { AuthMethod: 'CHAP' })]))).toBe(
      NegotiationErrorCode.AuthenticationFailed,
    )
  })

  it('refuses a CHAP_A it did not offer', () => {
    const chap = { auth: { chap: { user: 'alice', secret: 'alice-secret-1', algorithms: [7] as ChapAlgorithm[] } } }
    expect(
      codeOf(() =>
        scripted(chap, [
          () => ok(0, false, 1, { AuthMethod: 'CHAP' }),
          () => ok(0, false, 1, { CHAP_A: '6', CHAP_I: '1', CHAP_C: `0x${'00'.repeat(16)}` }),
        ]),
      ),
    ).toBe(NegotiationErrorCode.ChapAlgorithm)
  })

  it('refuses a target that lets it through before answering the mutual challenge (RFC 7143 12.1.3)', () => {
    const chap = {
      auth: { chap: { user: 'alice', secret: 'alice-secret-1', mutual: { secret: 'target-secret-2' } } },
    }
    expect(
      codeOf(() =>
        scripted(chap, [
          () => ok(0, false, 1, { AuthMethod: 'CHAP' }),
          () => ok(0, false, 1, { CHAP_A: '5', CHAP_I: '1', CHAP_C: `0x${'00'.repeat(16)}` }),
          () => ok(0, true, 1),
        ]),
      ),
    ).toBe(NegotiationErrorCode.ChapResponse)
  })

  it('refuses responses after the login ended', () => {
    const initiator = new InitiatorLoginNegotiation({ initiatorName: INITIATOR, targetName: TARGET })
    expect(() => initiator.receive(ok(0, true, 1))).toThrow(NegotiationError)
    initiator.start()
    expect(() => initiator.start()).toThrow(NegotiationError)
  })

  it('gives up on a target that never lets it through', () => {
    const responses = Array.from({ length: 40 }, () => (r: LoginRequestFields) => ok(r.csg, false, r.nsg))
    expect(codeOf(() => scripted({}, [toOperational, ...responses]))).toBe(NegotiationErrorCode.Sequence)
  })
})

/** Answer every proposal of a request by echoing it (a permissive target). */
function answerAll(request: LoginRequestFields): Record<string, string> {
  const out: Record<string, string> = {}
  for (const { key, value } of parseText(request.data)) {
    if (key === 'MaxRecvDataSegmentLength') continue
    out[key] = value.split(',')[0]!
  }
  return out
}

describe('shared replay cache', () => {
  it('lets a fresh mutual challenge through on every login', () => {
    const cache = new ChapChallengeCache()
    const policy = { ...simpleTargetPolicy([{ name: TARGET, auth: chapTarget(undefined, true) }]), replayCache: cache }
    for (let i = 0; i < 3; i++) {
      const result = runLoopbackLogin(
        new TargetLoginNegotiation(policy),
        new InitiatorLoginNegotiation({
          initiatorName: INITIATOR,
          targetName: TARGET,
          auth: { chap: { user: 'alice', secret: 'alice-secret-1', mutual: { secret: 'target-secret-2' } } },
        }),
      )
      expect(result.initiator.kind).toBe('done')
    }
    // Each login remembers the target's challenge and the initiator's.
    expect(cache.size).toBe(6)
  })
})

describe('InitiatorLoginNegotiation: random responses', () => {
  it('only ever throws NegotiationError', () => {
    const responseArb = fc.record({
      csg: fc.integer({ min: 0, max: 3 }),
      nsg: fc.integer({ min: 0, max: 3 }),
      transit: fc.boolean(),
      continue: fc.boolean(),
      statusClass: fc.constantFrom(0, 0, 0, 1, 2, 3),
      statusDetail: fc.integer({ min: 0, max: 11 }),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc
          .array(
            fc.constantFrom(
              'AuthMethod=CHAP',
              'AuthMethod=None',
              'CHAP_A=5',
              'CHAP_I=7',
              'CHAP_C=0x0011',
              'CHAP_N=t',
              'CHAP_R=0x00',
              'TargetAddress=[::1]:3260,1',
              'MaxBurstLength=512',
              'ImmediateData=Yes',
              'TargetPortalGroupTag=1',
              'X-a=b',
            ),
            { maxLength: 6 },
          )
          .map((items) => Buffer.from(items.map((i) => `${i}\0`).join(''))),
      ),
    })
    fc.assert(
      fc.property(fc.array(responseArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (responses, withChap) => {
        const initiator = new InitiatorLoginNegotiation({
          initiatorName: INITIATOR,
          targetName: TARGET,
          ...(withChap ? { auth: { chap: { user: 'u', secret: 's-1', mutual: { secret: 's-2' } } } } : {}),
        })
        initiator.start()
        try {
          for (const response of responses) {
            const step = initiator.receive(response)
            if (step.kind !== 'request') break
            expect(step.request.data.length).toBeLessThanOrEqual(8192)
          }
        } catch (error) {
          expect(error).toBeInstanceOf(NegotiationError)
        }
      }),
      { interruptAfterTimeLimit: 1500, numRuns: 3000 },
    )
  })
})
