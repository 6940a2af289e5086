// Login edges (RFC 7143 6.2, 6.3, 11.12, 11.13): the TSIH only in the final Login Response, a key declared twice,
// a key RFC 7143 requires answered NotUnderstood, and private X- keys inside a continued (C=1) login text.
import { Opcode, RESERVED_TAG } from '@iscsi-ts/pdu'
import type { LoginRequestPdu, LoginResponsePdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { connect, until } from '../test-harness.js'
import type { RawConnection, TestTarget } from '../testing.js'
import { INITIATOR, loginRequest, pairsOf, ping, quietTarget, text } from './edge-harness.js'

const ISID = Buffer.from([0x80, 1, 2, 3, 4, 5])

/** Send one Login Request and return the Login Response to it. */
async function exchange(c: RawConnection, request: LoginRequestPdu): Promise<LoginResponsePdu> {
  c.send(request)
  const response = await c.receiveOf(Opcode.LoginResponse)
  expect(response.itt).toBe(request.itt)
  expect(response.isid.equals(request.isid)).toBe(true)
  return response
}

/** The names every first Login Request of a normal session carries. */
function names(t: TestTarget): string[] {
  return [`InitiatorName=${INITIATOR}`, `TargetName=${t.targetName}`, 'SessionType=Normal']
}

/**
 * A Login reject with "Initiator error" (0x0200, RFC 7143 11.13.5): one Login Response with the status, no TSIH, no
 * text, the connection's next StatSN; then the target closes the connection.
 */
async function expectInitiatorError(c: RawConnection, response: LoginResponsePdu, statSN: number): Promise<void> {
  expect([response.statusClass, response.statusDetail]).toEqual([0x02, 0x00])
  expect([response.transit, response.continue]).toEqual([false, false])
  expect(response.tsih).toBe(0)
  expect(response.statSN).toBe(statSN)
  expect(response.data.length).toBe(0)
  await c.waitClosed()
}

describe('the TSIH (RFC 7143 11.13.3: "ONLY return it in the Login Final-Response")', () => {
  it('is 0 in every Login Response of a multi-PDU login with mutual CHAP, and set only in the final one', async () => {
    const chap = { user: 'edge-user', secret: 'edge-secret-0123' }
    const mutual = { user: 'edge-target', secret: 'target-secret-4567' }
    const t = await quietTarget({ auth: { chap, mutual } })
    const c = await connect(t)
    const result = await c.login({ targetName: t.targetName, initiatorName: INITIATOR, chap: { ...chap, mutual: { secret: mutual.secret } } })
    const responses = result.responses
    // AuthMethod, CHAP_A, CHAP_N/CHAP_R + mutual challenge, operational stage: at least four exchanges.
    expect(responses.length).toBeGreaterThanOrEqual(4)
    for (const response of responses.slice(0, -1)) {
      expect(response.tsih).toBe(0)
      expect(response.transit && response.nsg === 3).toBe(false)
    }
    const final = responses.at(-1)!
    expect(final.tsih).toBe(result.tsih)
    expect(final.tsih).not.toBe(0)
    expect([final.transit, final.nsg]).toEqual([true, 3])
    expect(responses.map((r) => r.statusClass)).toEqual(responses.map(() => 0))
    // One StatSN per Login Response (RFC 7143 11.13.4).
    responses.forEach((r, i) => expect(r.statSN).toBe((responses[0]!.statSN + i) >>> 0))
    await ping(c)
  })
})

describe('a key declared or negotiated twice (RFC 7143 6.3: "the target MUST respond with Login reject (initiator error)")', () => {
  it('in two Login Requests: MaxBurstLength, then MaxBurstLength again', async () => {
    const t = await quietTarget()
    const c = await connect(t)
    const first = await exchange(c, loginRequest({ isid: ISID, text: text(...names(t), 'MaxBurstLength=65536') }))
    expect([first.statusClass, first.transit, first.tsih]).toEqual([0, false, 0])
    expect(pairsOf(first.data)).toContainEqual(['MaxBurstLength', '65536'])
    const again = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, text: text('MaxBurstLength=32768') }))
    await expectInitiatorError(c, again, (first.statSN + 1) >>> 0)
  })

  it('in two Login Requests: ImmediateData=No, then ImmediateData=Yes', async () => {
    const t = await quietTarget()
    const c = await connect(t)
    const first = await exchange(c, loginRequest({ isid: ISID, text: text(...names(t), 'ImmediateData=No') }))
    expect(first.statusClass).toBe(0)
    const again = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, text: text('ImmediateData=Yes') }))
    await expectInitiatorError(c, again, (first.statSN + 1) >>> 0)
  })

  it('twice in one Login Request: DataDigest=None and DataDigest=CRC32C', async () => {
    const t = await quietTarget()
    const c = await connect(t)
    const request = loginRequest({ isid: ISID, transit: true, nsg: 3, expStatSN: 7, text: text(...names(t), 'DataDigest=None', 'DataDigest=CRC32C') })
    const response = await exchange(c, request)
    // RFC 7143 11.13.4 lets the target pick the connection's first StatSN; this target starts at the ExpStatSN sent.
    await expectInitiatorError(c, response, 7)
  })
})

describe('a key RFC 7143 requires answered NotUnderstood (RFC 7143 6.2: "these keys MUST NOT be answered with NotUnderstood")', () => {
  it('TargetPortalGroupTag=NotUnderstood from the initiator: the login fails with 0x0200', async () => {
    const t = await quietTarget()
    const c = await connect(t)
    const first = await exchange(c, loginRequest({ isid: ISID, text: text(...names(t)) }))
    expect(pairsOf(first.data)).toContainEqual(['TargetPortalGroupTag', '1'])
    const answer = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, text: text('TargetPortalGroupTag=NotUnderstood') }))
    await expectInitiatorError(c, answer, (first.statSN + 1) >>> 0)
    await until(() => t.target.stats.sessions === 0)
  })

  it('a target proposal (MaxBurstLength) answered NotUnderstood: the login fails with 0x0200', async () => {
    const t = await quietTarget({ limits: { maxBurstLength: 65536, firstBurstLength: 65536 } })
    const c = await connect(t)
    const first = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, text: text(...names(t)) }))
    // The target cannot take the default 262144, so it proposes its value and does not move on yet.
    expect(first.transit).toBe(false)
    expect(pairsOf(first.data)).toContainEqual(['MaxBurstLength', '65536'])
    const answer = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, text: text('MaxBurstLength=NotUnderstood', 'FirstBurstLength=65536') }))
    await expectInitiatorError(c, answer, (first.statSN + 1) >>> 0)
    expect(t.target.stats.sessions).toBe(0)
  })
})

describe('private X- keys in a continued login text (RFC 7143 6.2 NotUnderstood; 11.12.2 C bit; 13.22 private keys)', () => {
  it('answers the C=1 part with an empty response and every X- key of the whole text with NotUnderstood', async () => {
    const t = await quietTarget()
    const c = await connect(t)
    const whole = text(...names(t), 'X-com.example.alpha=on', 'X-com.example.beta=2')
    const cut = whole.indexOf('alpha') + 2
    // The first part ends inside the first private key.
    const part = await exchange(c, loginRequest({ isid: ISID, continue: true, expStatSN: 0, text: whole.slice(0, cut) }))
    expect([part.statusClass, part.transit, part.continue, part.tsih, part.data.length]).toEqual([0, false, false, 0, 0])
    const rest = await exchange(c, loginRequest({ isid: ISID, transit: true, nsg: 3, expStatSN: 1, text: whole.slice(cut) }))
    expect(rest.statusClass).toBe(0)
    const pairs = pairsOf(rest.data)
    expect(pairs).toContainEqual(['X-com.example.alpha', 'NotUnderstood'])
    expect(pairs).toContainEqual(['X-com.example.beta', 'NotUnderstood'])
    // The login goes on to full feature phase: the keys were not understood, not refused.
    expect([rest.transit, rest.nsg]).toEqual([true, 3])
    expect(rest.tsih).not.toBe(0)
    expect(rest.statSN).toBe((part.statSN + 1) >>> 0)
    c.cmdSN = rest.expCmdSN
    c.expStatSN = (rest.statSN + 1) >>> 0
    c.send({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 0x42, ttt: RESERVED_TAG, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
    const nopIn = await c.receiveOf(Opcode.NopIn)
    expect([nopIn.itt, nopIn.statSN]).toEqual([0x42, (rest.statSN + 1) >>> 0])
  })
})
