import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { parseSendTargetsAnswer } from './send-targets.js'
import { runLoopbackText } from './testing.js'
import { InitiatorTextNegotiation, TargetTextNegotiation } from './text-negotiation.js'
import { buildText, parseText } from './text.js'
import { RESERVED_TAG } from './types.js'
import type {
  ConnectionParameters,
  SessionParameters,
  TargetListing,
  TargetTextStep,
  TextRequestFields,
  TextResponseFields,
} from './types.js'

const INITIATOR = 'iqn.2026-01.org.example:host1'

const connection: ConnectionParameters = Object.freeze({
  headerDigest: 'None',
  dataDigest: 'None',
  maxRecvDataSegmentLength: 262144,
  maxSendDataSegmentLength: 8192,
  authMethod: 'None',
  chapUser: undefined,
})

function session(sessionType: 'Normal' | 'Discovery', targetName?: string): SessionParameters {
  return Object.freeze({
    sessionType,
    initiatorName: INITIATOR,
    targetName,
    initiatorAlias: undefined,
    targetAlias: undefined,
    targetPortalGroupTag: 1,
    initialR2T: true,
    immediateData: true,
    maxBurstLength: 262144,
    firstBurstLength: 65536,
    maxConnections: 1,
    defaultTime2Wait: 2,
    defaultTime2Retain: 20,
    maxOutstandingR2T: 1,
    dataPDUInOrder: true,
    dataSequenceInOrder: true,
    errorRecoveryLevel: 0,
    taskReporting: 'RFC3720',
    iscsiProtocolLevel: 1,
  })
}

const listing = (count: number): TargetListing[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `iqn.2026-01.org.example:storage.disk-${String(i).padStart(4, '0')}`,
    addresses: [
      { host: '192.0.2.10', port: 3260, portalGroupTag: 1 },
      { host: '2001:db8::10', port: 3260, portalGroupTag: 2 },
    ],
  }))

function targetFor(kind: 'Normal' | 'Discovery', targets = listing(3), targetName?: string) {
  return new TargetTextNegotiation({
    session: session(kind, targetName),
    connection,
    listTargets: (initiatorName) => (initiatorName === INITIATOR ? targets : []),
  })
}

function request(pairs: Record<string, string>, extra: Partial<TextRequestFields> = {}): TextRequestFields {
  return {
    final: true,
    continue: false,
    targetTransferTag: RESERVED_TAG,
    data: buildText(Object.entries(pairs).map(([key, value]) => ({ key, value }))),
    ...extra,
  }
}

function response(step: TargetTextStep): TextResponseFields {
  if (step.kind !== 'response') throw new Error(`expected a response, got a reject: ${step.error.message}`)
  return step.response
}

function kv(r: TextResponseFields): Record<string, string> {
  return Object.fromEntries(parseText(r.data).map((p) => [p.key, p.value]))
}

describe('SendTargets (RFC 7143 appendix C)', () => {
  it('All in a discovery session lists every visible target with its addresses', () => {
    const initiator = new InitiatorTextNegotiation({ connection })
    const result = runLoopbackText(targetFor('Discovery'), initiator, [{ key: 'SendTargets', value: 'All' }])
    const discovered = parseSendTargetsAnswer(result.pairs)
    expect(discovered).toHaveLength(3)
    expect(discovered[0]).toEqual({
      name: 'iqn.2026-01.org.example:storage.disk-0000',
      addresses: [
        { host: '192.0.2.10', port: 3260, tpgt: 1 },
        { host: '2001:db8::10', port: 3260, tpgt: 2 },
      ],
    })
    expect(parseText(buildText(result.pairs)).some((p) => p.value === '[2001:db8::10]:3260,2')).toBe(true)
  })

  it('filters by initiator name through the policy callback', () => {
    const target = new TargetTextNegotiation({
      session: { ...session('Discovery'), initiatorName: 'iqn.other' },
      connection,
      listTargets: (name) => (name === INITIATOR ? listing(3) : []),
    })
    const r = response(target.receive(request({ SendTargets: 'All' })))
    expect(r.data.length).toBe(0)
    expect(r.final).toBe(true)
  })

  it('a specific name returns that target only', () => {
    const r = response(targetFor('Discovery').receive(request({ SendTargets: 'iqn.2026-01.org.example:storage.disk-0001' })))
    expect(parseSendTargetsAnswer(parseText(r.data)).map((t) => t.name)).toEqual(['iqn.2026-01.org.example:storage.disk-0001'])
  })

  it('an empty value in a normal session returns the current target only', () => {
    const t = targetFor('Normal', listing(3), 'iqn.2026-01.org.example:storage.disk-0002')
    const r = response(t.receive(request({ SendTargets: '' })))
    expect(parseSendTargetsAnswer(parseText(r.data)).map((x) => x.name)).toEqual(['iqn.2026-01.org.example:storage.disk-0002'])
  })

  it('All in a normal session is answered SendTargets=Reject, not a disconnect (RFC 7143 appendix C)', () => {
    const step = targetFor('Normal', listing(3), 'iqn.2026-01.org.example:storage.disk-0002').receive(request({ SendTargets: 'All' }))
    expect(step.kind).toBe('response')
    expect(kv(response(step))).toEqual({ SendTargets: 'Reject' })
  })

  it('refuses other keys in a discovery session: Reject for known keys, NotUnderstood for unknown (RFC 7143 4.3)', () => {
    const r = response(targetFor('Discovery').receive(request({ MaxRecvDataSegmentLength: '65536', FooKey: 'x', SendTargets: 'All' })))
    const pairs = parseText(r.data)
    expect(pairs[0]).toEqual({ key: 'MaxRecvDataSegmentLength', value: 'Reject' })
    expect(pairs[1]).toEqual({ key: 'FooKey', value: 'NotUnderstood' })
    expect(pairs.filter((p) => p.key === 'TargetName')).toHaveLength(3)
  })

  it('sends a large answer over several PDUs with C=1 and a Target Transfer Tag (RFC 7143 11.11.2)', () => {
    const targets = listing(200)
    const target = targetFor('Discovery', targets)
    const initiator = new InitiatorTextNegotiation({ connection })
    let req = initiator.sendTargets()
    const tags = new Set<number>()
    let exchanges = 0
    for (;;) {
      exchanges++
      const r = response(target.receive(req))
      expect(r.data.length).toBeLessThanOrEqual(connection.maxSendDataSegmentLength)
      if (r.continue) {
        expect(r.final).toBe(false)
        expect(r.targetTransferTag).not.toBe(RESERVED_TAG)
        tags.add(r.targetTransferTag)
      }
      const next = initiator.receive(r)
      if (next.kind === 'done') {
        expect(r.final).toBe(true)
        expect(r.targetTransferTag).toBe(RESERVED_TAG)
        expect(parseSendTargetsAnswer(next.pairs)).toHaveLength(200)
        break
      }
      // Continuation requests carry the target's tag and no data.
      expect(next.request.targetTransferTag).toBe(r.targetTransferTag)
      expect(next.request.data.length).toBe(0)
      req = next.request
    }
    expect(exchanges).toBeGreaterThan(2)
    expect(tags.size).toBe(exchanges - 1)
  })

  it('restarts when the initiator sends 0xffffffff in the middle of a long answer (RFC 7143 11.10.4)', () => {
    const target = targetFor('Discovery', listing(200))
    const first = response(target.receive(request({ SendTargets: 'All' })))
    expect(first.continue).toBe(true)
    const restarted = response(target.receive(request({ SendTargets: 'iqn.2026-01.org.example:storage.disk-0005' })))
    expect(restarted.final).toBe(true)
    expect(parseSendTargetsAnswer(parseText(restarted.data)).map((t) => t.name)).toEqual([
      'iqn.2026-01.org.example:storage.disk-0005',
    ])
    // The old tag is no longer valid.
    const stale = target.receive({ final: true, continue: false, targetTransferTag: first.targetTransferTag, data: Buffer.alloc(0) })
    expect(stale.kind).toBe('reject')
  })
})

describe('TargetTextNegotiation rules (RFC 7143 11.10, 11.11)', () => {
  it('answers F=0 with a tag when the initiator sent F=0, and F=1 only after the initiator does', () => {
    const t = targetFor('Normal', listing(1), 'iqn.2026-01.org.example:storage.disk-0000')
    const r1 = response(t.receive(request({ MaxRecvDataSegmentLength: '16384' }, { final: false })))
    expect(r1.final).toBe(false)
    expect(r1.targetTransferTag).not.toBe(RESERVED_TAG)
    const r2 = response(t.receive(request({ SendTargets: '' }, { targetTransferTag: r1.targetTransferTag })))
    expect(r2.final).toBe(true)
    expect(r2.targetTransferTag).toBe(RESERVED_TAG)
  })

  it('joins a Text Request sent with C=1, answering each part empty with a tag', () => {
    const t = targetFor('Discovery')
    const data = buildText([{ key: 'SendTargets', value: 'All' }])
    const r1 = response(t.receive({ final: false, continue: true, targetTransferTag: RESERVED_TAG, data: data.subarray(0, 5) }))
    expect(r1).toMatchObject({ final: false, continue: false })
    expect(r1.data.length).toBe(0)
    const r2 = response(t.receive({ final: true, continue: false, targetTransferTag: r1.targetTransferTag, data: data.subarray(5) }))
    expect(parseSendTargetsAnswer(parseText(r2.data))).toHaveLength(3)
  })

  it('renegotiates MaxRecvDataSegmentLength, the one key allowed in full feature phase (RFC 7143 13.12)', () => {
    const t = targetFor('Normal', [], 'x')
    const step = t.receive(request({ MaxRecvDataSegmentLength: '16384' }))
    expect(response(step).data.length).toBe(0)
    expect(step.kind === 'response' && step.connection?.maxSendDataSegmentLength).toBe(16384)
    expect(t.connection.maxSendDataSegmentLength).toBe(16384)
    expect(t.connection.maxRecvDataSegmentLength).toBe(262144)
  })

  it('answers Reject to login-only keys and NotUnderstood to unknown keys', () => {
    const t = targetFor('Normal', [], 'x')
    const r = response(
      t.receive(request({ MaxBurstLength: '4096', HeaderDigest: 'CRC32C', InitiatorName: 'iqn.x', 'X-com.example.a': '1', MaxRecvDataSegmentLength: '1' })),
    )
    expect(kv(r)).toEqual({
      MaxBurstLength: 'Reject',
      HeaderDigest: 'Reject',
      InitiatorName: 'Reject',
      'X-com.example.a': 'NotUnderstood',
      MaxRecvDataSegmentLength: 'Reject',
    })
    expect(t.connection.maxSendDataSegmentLength).toBe(8192)
  })

  it('rejects F and C both set with a Reject PDU, protocol error (RFC 7143 11.10.2)', () => {
    const step = targetFor('Discovery').receive(request({ SendTargets: 'All' }, { continue: true }))
    expect(step.kind === 'reject' && step.reason).toBe(0x04)
  })

  it('rejects an unknown Target Transfer Tag with Invalid PDU field (RFC 7143 11.10.4)', () => {
    const step = targetFor('Discovery').receive(request({ SendTargets: 'All' }, { targetTransferTag: 77 }))
    expect(step.kind).toBe('reject')
    if (step.kind === 'reject') {
      expect(step.reason).toBe(0x09)
      expect(step.error.code).toBe(NegotiationErrorCode.Sequence)
    }
  })

  it('rejects malformed text and a key given twice with a protocol-error Reject (RFC 7143 6.1, 6.2)', () => {
    const bad = targetFor('Discovery').receive({ final: true, continue: false, targetTransferTag: RESERVED_TAG, data: Buffer.from('garbage\0') })
    expect(bad.kind === 'reject' && bad.reason).toBe(0x04)
    expect(bad.kind === 'reject' && bad.error.reaction).toEqual({ kind: 'reject', reason: 0x04 })
    const twice = targetFor('Discovery').receive({
      final: true,
      continue: false,
      targetTransferTag: RESERVED_TAG,
      data: Buffer.from('SendTargets=All\0SendTargets=All\0'),
    })
    expect(twice.kind === 'reject' && twice.error.code).toBe(NegotiationErrorCode.DuplicateKey)
  })

  it('rejects data sent while its answer continues', () => {
    const t = targetFor('Discovery', listing(200))
    const first = response(t.receive(request({ SendTargets: 'All' })))
    const step = t.receive(request({ SendTargets: 'All' }, { targetTransferTag: first.targetTransferTag }))
    expect(step.kind).toBe('reject')
  })

  it('never throws for random requests, only responses or typed rejects', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            final: fc.boolean(),
            continue: fc.boolean(),
            targetTransferTag: fc.constantFrom(RESERVED_TAG, 0, 1, 2),
            data: fc.oneof(
              fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
              fc
                .array(fc.constantFrom('SendTargets=All', 'SendTargets=', 'MaxRecvDataSegmentLength=512', 'X=1', 'a'), {
                  maxLength: 4,
                })
                .map((items) => Buffer.from(items.map((i) => `${i}\0`).join(''))),
            ),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (requests) => {
          const t = targetFor('Discovery', listing(60))
          for (const r of requests) {
            const step = t.receive(r)
            if (step.kind === 'reject') expect(step.error).toBeInstanceOf(NegotiationError)
            else expect(step.response.data.length).toBeLessThanOrEqual(8192)
          }
        },
      ),
      { interruptAfterTimeLimit: 1500, numRuns: 2000 },
    )
  })
})

describe('InitiatorTextNegotiation', () => {
  it('declares a new MaxRecvDataSegmentLength and updates its connection when done', () => {
    const target = targetFor('Normal', [], 'x')
    const initiator = new InitiatorTextNegotiation({ connection })
    const result = runLoopbackText(target, initiator, [{ key: 'MaxRecvDataSegmentLength', value: '32768' }])
    expect(result.connection?.maxRecvDataSegmentLength).toBe(32768)
    expect(initiator.connection.maxRecvDataSegmentLength).toBe(32768)
    expect(target.connection.maxSendDataSegmentLength).toBe(32768)
    expect(() => initiator.declareMaxRecvDataSegmentLength(100)).toThrow(RangeError)
  })

  it('sends a long request with C=1 using the target tags', () => {
    const target = targetFor('Normal', [], 'x')
    const initiator = new InitiatorTextNegotiation({ connection })
    const pairs = Array.from({ length: 120 }, (_, i) => ({ key: `X-com.example.key-${i}`, value: 'v'.repeat(100) }))
    const first = initiator.start(pairs)
    expect(first).toMatchObject({ continue: true, final: false, targetTransferTag: RESERVED_TAG })
    const result = runLoopbackText(target, initiator, pairs)
    expect(result.pairs).toHaveLength(120)
    expect(result.pairs.every((p) => p.value === 'NotUnderstood')).toBe(true)
    expect(result.exchanges).toBeGreaterThan(1)
  })

  it('refuses responses that break the F/C/TTT rules (RFC 7143 11.11)', () => {
    const initiator = new InitiatorTextNegotiation({ connection })
    expect(() => initiator.receive({ final: true, continue: false, targetTransferTag: RESERVED_TAG, data: Buffer.alloc(0) })).toThrow(
      NegotiationError,
    )
    initiator.sendTargets()
    expect(() => initiator.receive({ final: true, continue: true, targetTransferTag: 1, data: Buffer.alloc(0) })).toThrow(NegotiationError)
    initiator.sendTargets()
    expect(() => initiator.receive({ final: false, continue: false, targetTransferTag: RESERVED_TAG, data: Buffer.alloc(0) })).toThrow(
      NegotiationError,
    )
  })
})
