import { describe, expect, it } from 'vitest'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { keyDefinition } from './keys.js'
import type { KeyStage } from './keys.js'
import { KeyNegotiator, acceptValue, resolveAnswer } from './negotiator.js'
import type { SessionTypeName } from './types.js'

const def = (name: string) => keyDefinition(name)!

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof NegotiationError ? error.code : 'not a NegotiationError'
  }
  return undefined
}

describe('acceptor: offer, our value -> answer and result (RFC 7143 6.2)', () => {
  it.each([
    // boolean AND (ImmediateData)
    ['ImmediateData', 'Yes', 'Yes', 'Yes', 'Yes'],
    ['ImmediateData', 'Yes', 'No', 'No', 'No'],
    ['ImmediateData', 'No', 'Yes', 'No', 'No'],
    ['ImmediateData', 'No', 'No', 'No', 'No'],
    // boolean OR (InitialR2T)
    ['InitialR2T', 'Yes', 'No', 'Yes', 'Yes'],
    ['InitialR2T', 'No', 'Yes', 'Yes', 'Yes'],
    ['InitialR2T', 'No', 'No', 'No', 'No'],
    ['DataPDUInOrder', 'No', 'Yes', 'Yes', 'Yes'],
    // numeric minimum
    ['MaxBurstLength', '262144', '65536', '65536', '65536'],
    ['MaxBurstLength', '4096', '65536', '4096', '4096'],
    ['MaxBurstLength', '0x1000', '65536', '4096', '4096'],
    ['ErrorRecoveryLevel', '2', '0', '0', '0'],
    ['MaxConnections', '8', '4', '4', '4'],
    ['DefaultTime2Retain', '0', '20', '0', '0'],
    // numeric maximum
    ['DefaultTime2Wait', '0', '2', '2', '2'],
    ['DefaultTime2Wait', '10', '2', '10', '10'],
    // first acceptable in the proposer's list
    ['HeaderDigest', 'CRC32C,None', 'None,CRC32C', 'CRC32C', 'CRC32C'],
    ['HeaderDigest', 'None,CRC32C', 'CRC32C,None', 'None', 'None'],
    ['HeaderDigest', 'CRC32C', 'None', 'Reject', undefined],
    ['HeaderDigest', 'MD5,CRC32C', 'CRC32C,None', 'CRC32C', 'CRC32C'], // unknown values ignored (6.2.1)
    ['AuthMethod', 'KRB5,CHAP,None', 'None,CHAP', 'CHAP', 'CHAP'],
    ['TaskReporting', 'FastAbort,RFC3720', 'RFC3720', 'RFC3720', 'RFC3720'],
    // out of range or malformed: Reject, key unchanged (RFC 7143 6.2.2)
    ['MaxBurstLength', '100', '65536', 'Reject', undefined],
    ['MaxBurstLength', '16777216', '65536', 'Reject', undefined],
    ['ErrorRecoveryLevel', '3', '2', 'Reject', undefined],
    ['DefaultTime2Wait', '3601', '2', 'Reject', undefined],
    ['MaxBurstLength', 'lots', '65536', 'Reject', undefined],
    ['ImmediateData', 'Maybe', 'Yes', 'Reject', undefined],
    ['ImmediateData', 'yes', 'Yes', 'Reject', undefined],
  ])('%s offered %s, ours %s -> %s', (name, offered, ours, answer, result) => {
    expect(acceptValue(def(name), offered, ours)).toEqual({ answer, result })
  })
})

describe('proposer: proposal, answer -> result (RFC 7143 6.2)', () => {
  it.each([
    ['ImmediateData', 'Yes', 'No', 'No'],
    ['ImmediateData', 'Yes', 'Yes', 'Yes'],
    ['InitialR2T', 'No', 'Yes', 'Yes'],
    ['MaxBurstLength', '262144', '65536', '65536'],
    ['MaxBurstLength', '262144', '0x10000', '65536'],
    ['DefaultTime2Wait', '2', '5', '5'],
    ['HeaderDigest', 'CRC32C,None', 'None', 'None'],
    ['MaxBurstLength', '262144', 'Reject', undefined],
    ['MaxBurstLength', '262144', 'Irrelevant', undefined],
    ['TaskReporting', 'ResponseFence', 'NotUnderstood', undefined], // optional key (RFC 7144)
  ])('%s proposed %s, answered %s -> %s', (name, proposed, answer, result) => {
    expect(resolveAnswer(def(name), proposed, answer)).toBe(result)
  })

  it.each([
    ['ImmediateData', 'No', 'Yes', 'AND cannot turn No into Yes (RFC 7143 6.2.2)'],
    ['InitialR2T', 'Yes', 'No', 'OR cannot turn Yes into No (RFC 7143 6.2.2)'],
    ['MaxBurstLength', '65536', '262144', 'a minimum above the offer (RFC 7143 6.2.2)'],
    ['DefaultTime2Wait', '5', '2', 'a maximum below the offer (RFC 7143 6.2.2)'],
    ['HeaderDigest', 'None', 'CRC32C', 'a value not in the list (RFC 7143 6.2.1)'],
    ['MaxBurstLength', '65536', '100', 'an answer out of range (RFC 7143 13.13)'],
    ['ImmediateData', 'Yes', 'Perhaps', 'a non-boolean (RFC 7143 6.2.2)'],
  ])('%s proposed %s answered %s is a protocol error: %s', (name, proposed, answer) => {
    expect(codeOf(() => resolveAnswer(def(name), proposed, answer))).toBe(NegotiationErrorCode.BadAnswer)
  })

  it('fails when a required key is answered NotUnderstood (RFC 7143 6.2)', () => {
    expect(codeOf(() => resolveAnswer(def('MaxBurstLength'), '65536', 'NotUnderstood'))).toBe(
      NegotiationErrorCode.RequiredKey,
    )
  })
})

function negotiator(
  options: { role?: 'initiator' | 'target'; sessionType?: SessionTypeName; leading?: boolean; prefs?: [string, string][] } = {},
) {
  return new KeyNegotiator({
    role: options.role ?? 'target',
    preferences: new Map(options.prefs ?? [['MaxBurstLength', '65536'], ['ImmediateData', 'Yes']]),
    privateKeys: { 'X-com.example.echo': (offered) => offered.toUpperCase() },
    sessionType: () => options.sessionType ?? 'Normal',
    leading: options.leading ?? true,
  })
}

describe('KeyNegotiator as acceptor', () => {
  const op: KeyStage = 'operational'

  it('answers offers and records results', () => {
    const n = negotiator()
    expect(n.process('MaxBurstLength', '262144', op)).toEqual({ key: 'MaxBurstLength', value: '65536' })
    expect(n.result('MaxBurstLength')).toBe('65536')
  })

  it('keeps the current value after a Reject (RFC 7143 6.2.2)', () => {
    const n = negotiator()
    expect(n.process('MaxBurstLength', '1', op)).toEqual({ key: 'MaxBurstLength', value: 'Reject' })
    expect(n.result('MaxBurstLength')).toBeUndefined()
    expect(n.effective('MaxBurstLength')).toBe('262144')
  })

  it('tolerates a peer echoing our Reject of a leading-only key on a non-leading connection (tgt does)', () => {
    const n = negotiator({ leading: false })
    expect(n.process('MaxConnections', '1', op)).toEqual({ key: 'MaxConnections', value: 'Reject' })
    expect(n.process('MaxConnections', 'Reject', op)).toBeUndefined()
    // A real second offer is still a protocol error (RFC 7143 6.2).
    expect(() => n.process('MaxConnections', '2', op)).toThrow(/more than once/)
  })

  it('answers NotUnderstood to unknown keys and unconfigured X- keys (RFC 7143 6.2)', () => {
    const n = negotiator()
    expect(n.process('FancyKey', '1', op)).toEqual({ key: 'FancyKey', value: 'NotUnderstood' })
    expect(n.process('X-com.example.other', 'a', op)).toEqual({ key: 'X-com.example.other', value: 'NotUnderstood' })
  })

  it('answers configured X- keys through their handler', () => {
    expect(negotiator().process('X-com.example.echo', 'abc', op)).toEqual({ key: 'X-com.example.echo', value: 'ABC' })
  })

  it('answers Irrelevant for session keys of a discovery session (RFC 7143 13)', () => {
    const n = negotiator({ sessionType: 'Discovery' })
    expect(n.process('MaxBurstLength', '4096', op)).toEqual({ key: 'MaxBurstLength', value: 'Irrelevant' })
    expect(n.process('HeaderDigest', 'None', op)).toEqual({ key: 'HeaderDigest', value: 'None' })
  })

  it('answers the obsolete markers Reject (RFC 7143 13.26)', () => {
    const n = negotiator()
    expect(n.process('OFMarker', 'No', op)).toEqual({ key: 'OFMarker', value: 'Reject' })
    expect(n.process('IFMarkInt', '2048~8192', op)).toEqual({ key: 'IFMarkInt', value: 'Reject' })
  })

  it('answers leading-only keys Reject on a connection joining a session (RFC 7143 13 "LO")', () => {
    const n = negotiator({ leading: false })
    expect(n.process('MaxBurstLength', '4096', op)).toEqual({ key: 'MaxBurstLength', value: 'Reject' })
    expect(n.process('HeaderDigest', 'None', op)).toEqual({ key: 'HeaderDigest', value: 'None' })
  })

  it('records declarations without answering, and rejects bad ones', () => {
    const n = negotiator()
    expect(n.process('MaxRecvDataSegmentLength', '65536', op)).toBeUndefined()
    expect(n.declared('MaxRecvDataSegmentLength')).toBe('65536')
    const m = negotiator()
    expect(m.process('MaxRecvDataSegmentLength', '100', op)).toEqual({ key: 'MaxRecvDataSegmentLength', value: 'Reject' })
    expect(m.declared('MaxRecvDataSegmentLength')).toBeUndefined()
  })

  it('treats a key negotiated twice as a protocol error 0x0200 (RFC 7143 6.2)', () => {
    const n = negotiator()
    n.process('MaxBurstLength', '4096', op)
    try {
      n.process('MaxBurstLength', '4096', op)
      expect.unreachable()
    } catch (error) {
      expect((error as NegotiationError).code).toBe(NegotiationErrorCode.DuplicateKey)
      expect((error as NegotiationError).loginStatus).toEqual({ statusClass: 2, statusDetail: 0 })
    }
  })

  it('refuses a key in the wrong stage (RFC 7143 6.3) and SendTargets during login (0x020b)', () => {
    expect(codeOf(() => negotiator().process('MaxBurstLength', '4096', 'security'))).toBe(NegotiationErrorCode.WrongStage)
    try {
      negotiator().process('SendTargets', 'All', 'operational')
      expect.unreachable()
    } catch (error) {
      expect((error as NegotiationError).loginStatus).toEqual({ statusClass: 2, statusDetail: 0x0b })
    }
  })

  it('refuses a key from the wrong side during login (RFC 7143 13 "Senders")', () => {
    expect(codeOf(() => negotiator().process('TargetPortalGroupTag', '1', 'security'))).toBe(NegotiationErrorCode.Protocol)
    expect(codeOf(() => negotiator({ role: 'initiator' }).process('InitiatorName', 'iqn.x', 'security'))).toBe(
      NegotiationErrorCode.Protocol,
    )
  })

  it('answers Reject for login-only keys in full feature phase', () => {
    const n = negotiator()
    expect(n.process('MaxBurstLength', '4096', 'full-feature')).toEqual({ key: 'MaxBurstLength', value: 'Reject' })
    expect(n.process('HeaderDigest', 'CRC32C', 'full-feature')).toEqual({ key: 'HeaderDigest', value: 'Reject' })
    expect(n.process('MaxRecvDataSegmentLength', '4096', 'full-feature')).toBeUndefined()
  })

  it('makes FirstBurstLength Irrelevant when InitialR2T=Yes and ImmediateData=No (RFC 7143 13.14)', () => {
    const n = negotiator({ prefs: [['ImmediateData', 'No'], ['InitialR2T', 'Yes'], ['FirstBurstLength', '65536']] })
    const answers = [n.process('ImmediateData', 'Yes', op)!, n.process('FirstBurstLength', '4096', op)!]
    expect(n.reconcile(answers)).toEqual([
      { key: 'ImmediateData', value: 'No' },
      { key: 'FirstBurstLength', value: 'Irrelevant' },
    ])
    expect(n.result('FirstBurstLength')).toBeUndefined()
  })

  it('keeps FirstBurstLength at or below MaxBurstLength (RFC 7143 13.14)', () => {
    const n = negotiator({ prefs: [['MaxBurstLength', '8192'], ['FirstBurstLength', '262144']] })
    const answers = [n.process('FirstBurstLength', '131072', op)!, n.process('MaxBurstLength', '65536', op)!]
    expect(n.reconcile(answers)).toEqual([
      { key: 'FirstBurstLength', value: '8192' },
      { key: 'MaxBurstLength', value: '8192' },
    ])
  })
})

describe('KeyNegotiator as proposer', () => {
  it('proposes configured keys once and resolves the answers', () => {
    const n = negotiator({ role: 'initiator', prefs: [['MaxBurstLength', '262144'], ['InitialR2T', 'No']] })
    expect(n.propose(['MaxBurstLength', 'InitialR2T', 'MaxConnections'])).toEqual([
      { key: 'MaxBurstLength', value: '262144' },
      { key: 'InitialR2T', value: 'No' },
    ])
    expect(n.propose(['MaxBurstLength'])).toEqual([])
    expect(n.outstanding).toEqual(['MaxBurstLength', 'InitialR2T'])
    expect(n.process('MaxBurstLength', '65536', 'operational')).toBeUndefined()
    expect(n.result('MaxBurstLength')).toBe('65536')
    expect(n.outstanding).toEqual(['InitialR2T'])
  })

  it('accepts a missing answer only where RFC 7143 6.2.2 makes it optional', () => {
    const n = negotiator({ role: 'initiator', prefs: [['ImmediateData', 'No'], ['InitialR2T', 'Yes']] })
    n.propose(['ImmediateData', 'InitialR2T'])
    n.settleUnanswered()
    expect(n.result('ImmediateData')).toBe('No')
    expect(n.result('InitialR2T')).toBe('Yes')

    const m = negotiator({ role: 'initiator', prefs: [['MaxBurstLength', '4096']] })
    m.propose(['MaxBurstLength'])
    expect(codeOf(() => m.settleUnanswered())).toBe(NegotiationErrorCode.BadAnswer)
  })

  it('detects FirstBurstLength above MaxBurstLength in the answers (RFC 7143 13.14)', () => {
    const n = negotiator({ role: 'initiator', prefs: [['MaxBurstLength', '262144'], ['FirstBurstLength', '262144']] })
    n.propose(['MaxBurstLength', 'FirstBurstLength'])
    n.process('MaxBurstLength', '8192', 'operational')
    n.process('FirstBurstLength', '65536', 'operational')
    expect(codeOf(() => n.checkBurstLengths())).toBe(NegotiationErrorCode.BurstLength)
  })

  it('offers extension keys and accepts NotUnderstood for them', () => {
    const n = negotiator({ role: 'initiator' })
    expect(n.proposeExtensions([{ key: 'X-com.example.a', value: '1' }])).toEqual([{ key: 'X-com.example.a', value: '1' }])
    expect(n.process('X-com.example.a', 'NotUnderstood', 'operational')).toBeUndefined()
    expect(n.outstanding).toEqual([])
    expect(() => n.proposeExtensions([{ key: 'MaxBurstLength', value: '1' }])).toThrow(RangeError)
  })
})
