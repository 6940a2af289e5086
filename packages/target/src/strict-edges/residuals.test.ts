// Expected Data Transfer Length against what the CDB transfers (RFC 7143 11.4.5.1): "bit O ... the Residual Count
// indicates the number of bytes that were not transferred because the initiator's Expected Data Transfer Length was
// not sufficient"; "bit U ... the number of bytes that were not transferred out of the number of bytes expected to be
// transferred". Reads never carry more Data-In than EDTL (RFC 7143 11.7); writes take and store at most
// min(EDTL, CDB length) (RFC 7143 11.4.5, libiscsi iSCSIResiduals).
import { Opcode } from '@iscsi-ts/pdu'
import type { DataInPdu, Pdu, R2TPdu, ScsiResponsePdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { read10, write10 } from '../testing.js'
import type { RawConnection } from '../testing.js'
import { BLOCK, normalSession, opcodes, pattern, pdusUntilStatus, quietTarget, readBlocks } from './edge-harness.js'

const LBA = 200

async function session(): Promise<RawConnection> {
  const t = await quietTarget()
  // Every write byte solicited, so what the target asks for is visible.
  return normalSession(t, { operational: { initialR2T: true, immediateData: false } })
}

/** The residual fields of the status PDU, bidirectional ones included. */
function residualOf(pdu: Pdu): { o: boolean; u: boolean; count: number; bidi?: [boolean, boolean, number] } {
  if (pdu.opcode === Opcode.DataIn) return { o: pdu.overflow, u: pdu.underflow, count: pdu.residualCount }
  if (pdu.opcode === Opcode.ScsiResponse) {
    return { o: pdu.overflow, u: pdu.underflow, count: pdu.residualCount, bidi: [pdu.bidiOverflow, pdu.bidiUnderflow, pdu.bidiReadResidualCount] }
  }
  throw new Error(`opcode 0x${pdu.opcode.toString(16)} carries no residual`)
}

describe('read residuals (RFC 7143 11.4.5.1)', () => {
  it('EDTL larger than the CDB: GOOD, the CDB length of data, U set with the difference', async () => {
    const c = await session()
    const on = pattern(2 * BLOCK, 1)
    expect((await c.command({ cdb: write10(LBA, 2), dataOut: on })).status).toBe(0)
    const statSN = c.expStatSN
    const command = c.sendCommand({ cdb: read10(LBA, 2), read: true, expectedDataTransferLength: 4 * BLOCK })
    const pdus = await pdusUntilStatus(c, command.itt)
    expect(opcodes(pdus)).toEqual([Opcode.DataIn])
    const last = pdus[0] as DataInPdu
    expect([last.statSN, last.expCmdSN]).toEqual([statSN, (command.cmdSN + 1) >>> 0])
    // Status collapsed into the last Data-In (S=1), F=1, all the data the CDB reads.
    expect([last.statusPresent, last.final, last.status, last.bufferOffset]).toEqual([true, true, 0, 0])
    expect(last.data.equals(on)).toBe(true)
    expect(residualOf(last)).toEqual({ o: false, u: true, count: 2 * BLOCK })
  })

  it('EDTL smaller than the CDB: GOOD, only EDTL bytes of Data-In, O set with what did not fit', async () => {
    const c = await session()
    const on = pattern(4 * BLOCK, 2)
    expect((await c.command({ cdb: write10(LBA, 4), dataOut: on })).status).toBe(0)
    const statSN = c.expStatSN
    const command = c.sendCommand({ cdb: read10(LBA, 4), read: true, expectedDataTransferLength: BLOCK + 100 })
    const pdus = await pdusUntilStatus(c, command.itt)
    expect(opcodes(pdus)).toEqual([Opcode.DataIn])
    const last = pdus[0] as DataInPdu
    expect([last.statSN, last.expCmdSN]).toEqual([statSN, (command.cmdSN + 1) >>> 0])
    expect([last.statusPresent, last.status]).toEqual([true, 0])
    expect(last.data.equals(on.subarray(0, BLOCK + 100))).toBe(true)
    expect(residualOf(last)).toEqual({ o: true, u: false, count: 3 * BLOCK - 100 })
  })

  it('EDTL equal to the CDB: no residual flags, count 0', async () => {
    const c = await session()
    const command = c.sendCommand({ cdb: read10(LBA, 2), read: true, expectedDataTransferLength: 2 * BLOCK })
    const pdus = await pdusUntilStatus(c, command.itt)
    expect(residualOf(pdus.at(-1)!)).toEqual({ o: false, u: false, count: 0 })
  })
})

describe('write residuals (RFC 7143 11.4.5.1)', () => {
  /** Answer every R2T of `itt` from `data` until the status; returns the R2Ts and the status PDU. */
  async function answerR2Ts(c: RawConnection, itt: number, data: Buffer): Promise<{ r2ts: R2TPdu[]; status: ScsiResponsePdu }> {
    const r2ts: R2TPdu[] = []
    for (;;) {
      const pdu = await c.receiveFor(itt)
      if (pdu.opcode === Opcode.ScsiResponse) return { r2ts, status: pdu }
      expect(pdu.opcode).toBe(Opcode.R2T)
      const r2t = pdu as R2TPdu
      r2ts.push(r2t)
      const burst = data.subarray(r2t.bufferOffset, r2t.bufferOffset + r2t.desiredDataTransferLength)
      c.sendDataOut({ itt, ttt: r2t.ttt, dataSN: 0, bufferOffset: r2t.bufferOffset, data: burst, final: true })
    }
  }

  it('EDTL larger than the CDB: solicits only the CDB length, GOOD, U set, the next block untouched', async () => {
    const c = await session()
    const before = pattern(2 * BLOCK, 3)
    expect((await c.command({ cdb: write10(LBA, 2), dataOut: before })).status).toBe(0)
    const data = pattern(2 * BLOCK, 4)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, 1), expectedDataTransferLength: 2 * BLOCK, final: true })
    const { r2ts, status } = await answerR2Ts(c, command.itt, data)
    expect([status.statSN, status.expCmdSN, status.expDataSN]).toEqual([statSN, (command.cmdSN + 1) >>> 0, 1])
    expect(r2ts.map((r) => [r.bufferOffset, r.desiredDataTransferLength])).toEqual([[0, BLOCK]])
    expect(status.status).toBe(0)
    expect(residualOf(status)).toEqual({ o: false, u: true, count: BLOCK, bidi: [false, false, 0] })
    expect((await readBlocks(c, LBA, 2)).equals(Buffer.concat([data.subarray(0, BLOCK), before.subarray(BLOCK)]))).toBe(true)
  })

  it('EDTL smaller than the CDB: solicits only EDTL, GOOD, O set, only EDTL bytes written', async () => {
    const c = await session()
    const before = pattern(2 * BLOCK, 5)
    expect((await c.command({ cdb: write10(LBA, 2), dataOut: before })).status).toBe(0)
    const data = pattern(BLOCK, 6)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, 2), expectedDataTransferLength: BLOCK, final: true })
    const { r2ts, status } = await answerR2Ts(c, command.itt, data)
    expect([status.statSN, status.expCmdSN, status.expDataSN]).toEqual([statSN, (command.cmdSN + 1) >>> 0, 1])
    expect(r2ts.map((r) => [r.bufferOffset, r.desiredDataTransferLength])).toEqual([[0, BLOCK]])
    expect(status.status).toBe(0)
    expect(residualOf(status)).toEqual({ o: true, u: false, count: BLOCK, bidi: [false, false, 0] })
    expect((await readBlocks(c, LBA, 2)).equals(Buffer.concat([data, before.subarray(BLOCK)]))).toBe(true)
  })
})
