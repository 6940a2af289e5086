// A Reject is a status PDU of the connection (RFC 7143 11.17.3): "StatSN, ExpCmdSN, and MaxCmdSN ... carry their
// usual values and are not related to the rejected command. The StatSN is advanced after a Reject." Its data segment
// is the complete header of the rejected PDU (RFC 7143 11.17.4). A SNACK at ErrorRecoveryLevel 0 is one such PDU:
// the target does not support it and rejects it as a protocol error (RFC 7143 11.16, 11.17.1).
import { Opcode, RejectReason, SnackType, encodePdu } from '@iscsi-ts/pdu'
import type { DataOutPdu, Pdu, RejectPdu, SnackRequestPdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import type { RawConnection } from '../testing.js'
import { normalSession, ping, quietTarget } from './edge-harness.js'

const DEPTH = 8

function snack(c: RawConnection, type: number): SnackRequestPdu {
  return { opcode: Opcode.SnackRequest, type, lun: 0n, itt: c.nextItt(), ttt: 0xffffffff, expStatSN: c.expStatSN, begRun: 0, runLength: 0, data: Buffer.alloc(0) }
}

/** Send `pdu`, expect a Reject with `reason` carrying its header, the StatSN `statSN` and the current window. */
async function expectRejected(c: RawConnection, pdu: Pdu, reason: number, statSN: number): Promise<RejectPdu> {
  c.send(pdu)
  const reject = await c.receiveOf(Opcode.Reject)
  expect(reject.reason).toBe(reason)
  expect(reject.data.equals(encodePdu(pdu).subarray(0, 48))).toBe(true)
  expect(reject.statSN).toBe(statSN)
  expect(reject.expCmdSN).toBe(c.cmdSN)
  expect(reject.maxCmdSN).toBe((c.cmdSN + DEPTH - 1) >>> 0)
  return reject
}

describe('StatSN advances after a Reject (RFC 7143 11.17.3)', () => {
  it('rejects SNACKs at ErrorRecoveryLevel 0 with Protocol Error, each with the next StatSN, and the next response follows on', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    expect(c.parameters?.session.errorRecoveryLevel).toBe(0)
    const start = c.expStatSN
    // Data/R2T, Status, DataACK and R-Data SNACKs: none exists at ErrorRecoveryLevel 0.
    const types = [SnackType.DataR2T, SnackType.Status, SnackType.DataAck, SnackType.RDataSnack]
    for (const [i, type] of types.entries()) {
      await expectRejected(c, snack(c, type), RejectReason.ProtocolError, (start + i) >>> 0)
    }
    // The next status PDU carries the Reject's StatSN + 1: first a NOP-In, then a SCSI Response.
    await ping(c, { statSN: (start + types.length) >>> 0 })
    const next = await c.command({ cdb: Buffer.alloc(6) })
    expect(next.response?.statSN).toBe((start + types.length + 1) >>> 0)
  })

  it('counts every kind of Reject the same way (unknown-task Data-Out, SNACK) between other responses', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    const start = c.expStatSN
    const orphan: DataOutPdu = {
      opcode: Opcode.DataOut,
      final: true,
      lun: 0n,
      itt: 0x7171,
      ttt: 0xffffffff,
      expStatSN: c.expStatSN,
      dataSN: 0,
      bufferOffset: 0,
      data: Buffer.alloc(512),
    }
    // A Data-Out for a task that never existed: Invalid PDU Field (RFC 7143 11.17.1).
    await expectRejected(c, orphan, RejectReason.InvalidPduField, start)
    await ping(c, { statSN: (start + 1) >>> 0 })
    await expectRejected(c, snack(c, SnackType.Status), RejectReason.ProtocolError, (start + 2) >>> 0)
    const next = await c.command({ cdb: Buffer.alloc(6) })
    expect(next.response?.statSN).toBe((start + 3) >>> 0)
  })
})
