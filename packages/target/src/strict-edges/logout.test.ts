// Logout requests a target must refuse: anything but "close the session" in a discovery session (RFC 7143 4.3: "a
// Logout Request with the reason 'close the session'. All other requests MUST be rejected"), and "close the
// connection" naming a CID the session does not have (RFC 7143 11.15.1: response 1, "CID not found").
import { LogoutReason, LogoutResponseCode, Opcode, RejectReason } from '@iscsi-ts/pdu'
import type { LogoutRequestPdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { connect } from '../test-harness.js'
import type { RawConnection } from '../testing.js'
import { INITIATOR, normalSession, pairsOf, ping, quietTarget, receiveTextResponse, sendText, text } from './edge-harness.js'

const DEPTH = 8

function sendLogout(c: RawConnection, reasonCode: number, cid: number, immediate: boolean): LogoutRequestPdu {
  const pdu: LogoutRequestPdu = {
    opcode: Opcode.LogoutRequest,
    immediate,
    reasonCode,
    itt: c.nextItt(),
    cid,
    cmdSN: immediate ? c.cmdSN : c.takeCmdSN(),
    expStatSN: c.expStatSN,
    data: Buffer.alloc(0),
  }
  c.send(pdu)
  return pdu
}

describe('Logout in a discovery session (RFC 7143 4.3)', () => {
  it('rejects reason 2 (remove for recovery) and reason 1 (close the connection) as protocol errors; reason 0 ends it', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await connect(t)
    await c.login({ initiatorName: INITIATOR, sessionType: 'Discovery' })
    for (const [reason, immediate] of [
      [LogoutReason.RemoveConnectionForRecovery, true],
      [LogoutReason.RemoveConnectionForRecovery, false],
      [LogoutReason.CloseConnection, false],
    ] as const) {
      const statSN = c.expStatSN
      const request = sendLogout(c, reason, c.cid, immediate)
      const reject = await c.receiveOf(Opcode.Reject)
      expect(reject.reason).toBe(RejectReason.ProtocolError)
      expect(reject.data.length).toBe(48)
      expect(reject.data[0]! & 0x3f).toBe(Opcode.LogoutRequest)
      expect(reject.data[1]! & 0x7f).toBe(reason)
      expect(reject.data.readUInt32BE(16)).toBe(request.itt)
      // The Reject takes the next StatSN; a non-immediate request's CmdSN is used up all the same.
      expect(reject.statSN).toBe(statSN)
      expect(reject.expCmdSN).toBe(immediate ? request.cmdSN : (request.cmdSN + 1) >>> 0)
      expect(reject.maxCmdSN).toBe((reject.expCmdSN + DEPTH - 1) >>> 0)
      // No Logout Response follows, and the session is still there: it answers NOP-Out and SendTargets.
      await c.expectSilence(100)
      await ping(c)
    }
    const listing = sendText(c, { text: text('SendTargets=All') })
    expect(pairsOf((await receiveTextResponse(c, listing.itt)).data)).toContainEqual(['TargetName', t.targetName])
    expect(t.target.sessions()).toMatchObject([{ type: 'Discovery' }])
    const close = await c.logout(LogoutReason.CloseSession)
    expect(close.response).toBe(LogoutResponseCode.Success)
    await c.waitClosed()
  })
})

describe('Logout "close the connection" for a CID that does not exist (RFC 7143 11.15.1: response 1)', () => {
  it('answers "CID not found" with the next StatSN, closes nothing, and the connection keeps working', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    for (const immediate of [true, false]) {
      const statSN = c.expStatSN
      const request = sendLogout(c, LogoutReason.CloseConnection, (c.cid + 42) & 0xffff, immediate)
      const response = await c.receiveOf(Opcode.LogoutResponse, 5000, (p) => p.itt === request.itt)
      expect(response.response).toBe(LogoutResponseCode.CidNotFound)
      expect(response.statSN).toBe(statSN)
      expect(response.expCmdSN).toBe(immediate ? request.cmdSN : (request.cmdSN + 1) >>> 0)
      expect(response.maxCmdSN).toBe((response.expCmdSN + DEPTH - 1) >>> 0)
      await c.expectSilence(100)
      await ping(c)
    }
    expect(t.target.sessions()).toMatchObject([{ connections: 1 }])
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  })
})
