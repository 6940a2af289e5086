// Text Requests that real targets answer by dropping the connection: F=0 with MaxRecvDataSegmentLength in a normal
// session (a continued exchange), keys other than SendTargets in a discovery session, SendTargets with an empty
// value and with All in a normal session, and a Text Request with C=1. Each is answered as RFC 7143 says, and the
// connection keeps working (a NOP-Out is answered afterwards).
import { Opcode, RESERVED_TAG, RejectReason } from '@iscsi-ts/pdu'
import type { TextRequestPdu, TextResponsePdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { connect } from '../test-harness.js'
import { read10 } from '../testing.js'
import type { RawConnection, TestTarget } from '../testing.js'
import { INITIATOR, normalSession, pairsOf, ping, quietTarget, receiveTextResponse, sendText, text } from './edge-harness.js'

const DEPTH = 16

async function discoverySession(t: TestTarget): Promise<RawConnection> {
  const c = await connect(t)
  await c.login({ initiatorName: INITIATOR, sessionType: 'Discovery' })
  return c
}

/** The response answers `request`: its ITT, the next StatSN, the window past the request when it used a CmdSN. */
function expectAnswers(response: TextResponsePdu, request: TextRequestPdu, statSN: number): void {
  expect(response.opcode).toBe(Opcode.TextResponse)
  expect(response.itt).toBe(request.itt)
  expect(response.statSN).toBe(statSN)
  const expCmdSN = request.immediate ? request.cmdSN : (request.cmdSN + 1) >>> 0
  expect(response.expCmdSN).toBe(expCmdSN)
  expect(response.maxCmdSN).toBe((expCmdSN + DEPTH - 1) >>> 0)
}

describe('Text Request with F=0 in a normal session (RFC 7143 11.10.1, 11.11.1: the target answers F=0 with a TTT until the initiator sets F)', () => {
  it('renegotiates MaxRecvDataSegmentLength across a continued exchange and cuts Data-In by the new value', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    // Before: the initiator's login declaration (256 KiB) lets a 4 KiB read come in one Data-In.
    expect(c.parameters?.connection.maxRecvDataSegmentLength).toBe(262144)
    const before = await c.command({ cdb: read10(0, 8), read: true, expectedDataTransferLength: 4096 })
    expect(before.dataIn.map((p) => p.data.length)).toEqual([4096])
    // First request: F=0, the declaration (RFC 7143 13.12, the one key that may change in full feature phase).
    let statSN = c.expStatSN
    const first = sendText(c, { final: false, text: text('MaxRecvDataSegmentLength=1024') })
    const answer = await receiveTextResponse(c, first.itt)
    expectAnswers(answer, first, statSN)
    // "A Text Response with the F bit set to 1 in response to a Text Request with the F bit set to 0 is a protocol
    // error" (RFC 7143 11.11.1): F=0, and a TTT other than 0xffffffff to continue with (RFC 7143 11.11.4).
    expect([answer.final, answer.continue]).toEqual([false, false])
    expect(answer.ttt).not.toBe(RESERVED_TAG)
    expect(pairsOf(answer.data)).toEqual([])
    // Second request: same ITT, the target's TTT, F=1 and nothing more to say: the target ends the exchange.
    statSN = c.expStatSN
    const second = sendText(c, { itt: first.itt, ttt: answer.ttt, final: true })
    const end = await receiveTextResponse(c, first.itt)
    expectAnswers(end, second, statSN)
    expect([end.final, end.continue, end.ttt]).toEqual([true, false, RESERVED_TAG])
    expect(end.data.length).toBe(0)
    // The new limit holds: a 4 KiB read comes in Data-In PDUs of at most 1024 bytes.
    const read = await c.command({ cdb: read10(0, 8), read: true, expectedDataTransferLength: 4096 })
    expect(read.status).toBe(0)
    expect(read.dataIn.map((p) => p.data.length)).toEqual([1024, 1024, 1024, 1024])
    await ping(c)
  })
})

describe('Text Request with C=1 (RFC 7143 11.10.2; 6.2: "MUST answer with a Text Response with no data segment")', () => {
  it('answers each C=1 part with an empty F=0 response and a TTT, then answers the whole text', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    let statSN = c.expStatSN
    // "SendTargets=" split in the middle of the key.
    const first = sendText(c, { final: false, continue: true, text: 'SendTar' })
    const partial = await receiveTextResponse(c, first.itt)
    expectAnswers(partial, first, statSN)
    expect([partial.final, partial.continue, partial.data.length]).toEqual([false, false, 0])
    expect(partial.ttt).not.toBe(RESERVED_TAG)
    statSN = c.expStatSN
    const last = sendText(c, { itt: first.itt, ttt: partial.ttt, final: true, text: 'gets=\0' })
    const whole = await receiveTextResponse(c, first.itt)
    expectAnswers(whole, last, statSN)
    expect([whole.final, whole.continue, whole.ttt]).toEqual([true, false, RESERVED_TAG])
    expect(pairsOf(whole.data)).toEqual([
      ['TargetName', t.targetName],
      ['TargetAddress', `127.0.0.1:${t.port},1`],
    ])
    await ping(c)
  })
})

describe('SendTargets in a normal session (RFC 7143 appendix C)', () => {
  it('"SendTargets=" (nothing) answers with the session target only; "SendTargets=All" is not supported there', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    // <nothing>: "MUST be supported on operational sessions".
    let statSN = c.expStatSN
    let request = sendText(c, { text: text('SendTargets=') })
    let response = await receiveTextResponse(c, request.itt)
    expectAnswers(response, request, statSN)
    expect([response.final, response.continue, response.ttt]).toEqual([true, false, RESERVED_TAG])
    expect(pairsOf(response.data)).toEqual([
      ['TargetName', t.targetName],
      ['TargetAddress', `127.0.0.1:${t.port},1`],
    ])
    // All: "MUST NOT be supported on an operational session": the key is answered Reject (RFC 7143 6.2), and the
    // connection stays.
    statSN = c.expStatSN
    request = sendText(c, { immediate: true, text: text('SendTargets=All') })
    response = await receiveTextResponse(c, request.itt)
    expectAnswers(response, request, statSN)
    expect([response.final, response.continue, response.ttt]).toEqual([true, false, RESERVED_TAG])
    expect(pairsOf(response.data)).toEqual([['SendTargets', 'Reject']])
    await ping(c)
    // Still a working session.
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  })
})

describe('Text Requests in a discovery session (RFC 7143 4.3: only SendTargets is accepted, "all other requests MUST be rejected")', () => {
  it('rejects a Text Request with MaxRecvDataSegmentLength (F=1 and F=0) or a private key, and keeps serving SendTargets', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await discoverySession(t)
    for (const fields of [
      { text: text('MaxRecvDataSegmentLength=1024') },
      { final: false, text: text('MaxRecvDataSegmentLength=1024') },
      { text: text('X-com.example.probe=1') },
      { text: text('SendTargets=All', 'MaxRecvDataSegmentLength=1024') },
    ]) {
      const statSN = c.expStatSN
      const request = sendText(c, fields)
      const reject = await c.receiveOf(Opcode.Reject)
      expect(reject.reason).toBe(RejectReason.ProtocolError)
      // The rejected header comes back; the Reject takes a StatSN; the request's CmdSN is used up.
      expect(reject.data.length).toBe(48)
      expect(reject.data[0]! & 0x3f).toBe(Opcode.TextRequest)
      expect(reject.data.readUInt32BE(16)).toBe(request.itt)
      expect(reject.statSN).toBe(statSN)
      expect(reject.expCmdSN).toBe((request.cmdSN + 1) >>> 0)
      await ping(c)
    }
    // The same key split over C=1 PDUs is refused once the text is complete.
    const part = sendText(c, { final: false, continue: true, text: 'MaxRecvData' })
    const partial = await receiveTextResponse(c, part.itt)
    expect([partial.final, partial.continue, partial.data.length]).toEqual([false, false, 0])
    const rest = sendText(c, { itt: part.itt, ttt: partial.ttt, text: 'SegmentLength=1024\0' })
    const reject = await c.receiveOf(Opcode.Reject)
    expect([reject.reason, reject.data.readUInt32BE(16)]).toEqual([RejectReason.ProtocolError, rest.itt])
    // SendTargets=All still works, whole or split.
    const statSN = c.expStatSN
    const all = sendText(c, { text: text('SendTargets=All') })
    const listing = await receiveTextResponse(c, all.itt)
    expectAnswers(listing, all, statSN)
    expect(pairsOf(listing.data)).toEqual([
      ['TargetName', t.targetName],
      ['TargetAddress', `127.0.0.1:${t.port},1`],
    ])
    const split = sendText(c, { final: false, continue: true, text: 'SendTargets=A' })
    const more = await receiveTextResponse(c, split.itt)
    sendText(c, { itt: split.itt, ttt: more.ttt, text: 'll\0' })
    expect(pairsOf((await receiveTextResponse(c, split.itt)).data)).toEqual(pairsOf(listing.data))
    await ping(c)
    expect((await c.logout(0)).response).toBe(0)
  })
})
