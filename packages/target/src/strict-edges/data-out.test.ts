// Data-Out that does not fit the transfer the target asked for (RFC 7143 11.7: DataSN counts from 0 within each R2T
// sequence and the unsolicited one, Buffer Offset continues the burst, the TTT copies an outstanding R2T's), the
// number of R2Ts out at once (RFC 7143 13.17 MaxOutstandingR2T), and a command reusing the ITT of a live task
// (RFC 7143 11.17.1: Reject, "Task in progress"). At ErrorRecoveryLevel 0 there is no recovery within the command
// (RFC 7143 7.1.4, 7.1.5): the task ends with CHECK CONDITION, ABORTED COMMAND and the SPC-4 code of the condition
// (4B/00 DATA PHASE ERROR, 4B/05 DATA OFFSET ERROR, 4B/01 INVALID TARGET PORT TRANSFER TAG RECEIVED); nothing is
// written.
import { Opcode, RejectReason, ScsiResponseCode, encodePdu } from '@iscsi-ts/pdu'
import type { R2TPdu, ScsiCommandPdu, ScsiResponsePdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { write10 } from '../testing.js'
import type { RawConnection } from '../testing.js'
import { BLOCK, normalSession, opcodes, pattern, pdusUntilStatus, ping, quietTarget, readBlocks, senseData, senseOf } from './edge-harness.js'

const DEPTH = 16
const LBA = 64
const BLOCKS = 4
const LENGTH = BLOCKS * BLOCK
const DATA_PHASE_ERROR: [number, number, number] = [0x0b, 0x4b, 0x00]
const INVALID_TTT: [number, number, number] = [0x0b, 0x4b, 0x01]
const DATA_OFFSET_ERROR: [number, number, number] = [0x0b, 0x4b, 0x05]

/** InitialR2T=Yes, ImmediateData=No, MaxBurstLength 1024, the given MaxOutstandingR2T: every byte is solicited. */
async function solicited(maxOutstandingR2T = 1): Promise<RawConnection> {
  const t = await quietTarget({ limits: { queueDepth: DEPTH, maxBurstLength: 1024 } })
  const c = await normalSession(t, { operational: { initialR2T: true, immediateData: false, maxOutstandingR2T } })
  expect(c.parameters?.session).toMatchObject({ initialR2T: true, immediateData: false, maxBurstLength: 1024, maxOutstandingR2T })
  return c
}

async function prefill(c: RawConnection, blocks = BLOCKS): Promise<Buffer> {
  const before = pattern(blocks * BLOCK, 3)
  expect((await c.command({ cdb: write10(LBA, blocks), dataOut: before })).status).toBe(0)
  return before
}

function expectEndedWith(response: ScsiResponsePdu, command: ScsiCommandPdu, statSN: number, sense: [number, number, number]): void {
  expect(response.opcode).toBe(Opcode.ScsiResponse)
  expect([response.response, response.status]).toEqual([ScsiResponseCode.CommandCompleted, 0x02])
  expect(senseOf(senseData(response))).toEqual(sense)
  expect(response.statSN).toBe(statSN)
  expect(response.expCmdSN).toBe((command.cmdSN + 1) >>> 0)
  expect(response.maxCmdSN).toBe((command.cmdSN + DEPTH) >>> 0)
}

/** Send a WRITE of the test blocks with F=1 and wait for its first R2T. */
async function startWrite(c: RawConnection): Promise<{ command: ScsiCommandPdu; r2t: R2TPdu; statSN: number }> {
  const statSN = c.expStatSN
  const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: true })
  const r2t = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
  expect([r2t.r2tSN, r2t.bufferOffset, r2t.desiredDataTransferLength, r2t.statSN]).toEqual([0, 0, 1024, statSN])
  return { command, r2t, statSN }
}

describe('Data-Out that does not continue the R2T sequence (RFC 7143 11.7: DataSN, Buffer Offset, Target Transfer Tag)', () => {
  it('a wrong DataSN (1 instead of 0, then a repeated 0): CHECK CONDITION 4B/00, nothing written', async () => {
    const c = await solicited()
    const before = await prefill(c)
    for (const dataSNs of [[1], [0, 0]]) {
      const { command, r2t, statSN } = await startWrite(c)
      dataSNs.forEach((dataSN, i) => {
        c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN, bufferOffset: i * 512, data: pattern(512, 7), final: i === 1 })
      })
      const pdus = await pdusUntilStatus(c, command.itt)
      expect(opcodes(pdus)).toEqual([Opcode.ScsiResponse])
      expectEndedWith(pdus[0] as ScsiResponsePdu, command, statSN, DATA_PHASE_ERROR)
    }
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('a Buffer Offset that does not continue the burst (a gap, an overlap): CHECK CONDITION 4B/05, nothing written', async () => {
    const c = await solicited()
    const before = await prefill(c)
    for (const offsets of [[512], [0, 256]]) {
      const { command, r2t, statSN } = await startWrite(c)
      offsets.forEach((bufferOffset, i) => {
        c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN: i, bufferOffset, data: pattern(512, 8), final: false })
      })
      const pdus = await pdusUntilStatus(c, command.itt)
      expect(opcodes(pdus)).toEqual([Opcode.ScsiResponse])
      expectEndedWith(pdus[0] as ScsiResponsePdu, command, statSN, DATA_OFFSET_ERROR)
    }
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('a Target Transfer Tag no R2T carried: CHECK CONDITION 4B/01, nothing written', async () => {
    const c = await solicited()
    const before = await prefill(c)
    const { command, r2t, statSN } = await startWrite(c)
    c.sendDataOut({ itt: command.itt, ttt: (r2t.ttt + 0x1000) >>> 0, dataSN: 0, bufferOffset: 0, data: pattern(1024, 9), final: true })
    const pdus = await pdusUntilStatus(c, command.itt)
    expect(opcodes(pdus)).toEqual([Opcode.ScsiResponse])
    expectEndedWith(pdus[0] as ScsiResponsePdu, command, statSN, INVALID_TTT)
    // The R2T's own tag, late, finds the task gone: dropped without a Reject.
    c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN: 0, bufferOffset: 0, data: pattern(1024, 9), final: true })
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })
})

describe('R2Ts outstanding at once (RFC 7143 13.17: at most MaxOutstandingR2T)', () => {
  it.each([1, 2])('MaxOutstandingR2T=%i: never more R2Ts out than that; the next one comes as a burst completes', async (max) => {
    const c = await solicited(max)
    const blocks = 8
    const data = pattern(blocks * BLOCK, 11)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, blocks), expectedDataTransferLength: data.length, final: true })
    const outstanding: R2TPdu[] = []
    const seen: R2TPdu[] = []
    const take = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const r2t = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
        outstanding.push(r2t)
        seen.push(r2t)
      }
      // Nothing beyond the limit follows.
      await c.expectSilence(150)
      expect(outstanding.length).toBeLessThanOrEqual(max)
    }
    await take(max)
    while (outstanding.length > 0) {
      const r2t = outstanding.shift()!
      c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN: 0, bufferOffset: r2t.bufferOffset, data: data.subarray(r2t.bufferOffset, r2t.bufferOffset + r2t.desiredDataTransferLength), final: true })
      const left = data.length - (seen.at(-1)!.bufferOffset + seen.at(-1)!.desiredDataTransferLength)
      if (left > 0) await take(1)
    }
    expect(seen.map((r) => [r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).toEqual([0, 1, 2, 3].map((i) => [i, i * 1024, 1024]))
    expect(new Set(seen.map((r) => r.ttt)).size).toBe(4)
    // R2Ts show StatSN without advancing it (RFC 7143 11.8).
    expect(seen.every((r) => r.statSN === statSN)).toBe(true)
    const pdus = await pdusUntilStatus(c, command.itt)
    expect(opcodes(pdus)).toEqual([Opcode.ScsiResponse])
    const response = pdus[0] as ScsiResponsePdu
    expect([response.status, response.statSN, response.expDataSN]).toEqual([0, statSN, 4])
    expect((await readBlocks(c, LBA, blocks)).equals(data)).toBe(true)
  })
})

describe('a command reusing the ITT of a live task (RFC 7143 11.17.1: Reject "Task in progress")', () => {
  it('rejects the second command with its header, uses up its CmdSN, and the live task completes untouched', async () => {
    const c = await solicited()
    await prefill(c)
    const { command, r2t, statSN } = await startWrite(c)
    const again = c.sendCommand({ cdb: Buffer.alloc(6), itt: command.itt })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(RejectReason.TaskInProgress)
    expect(reject.data.equals(encodePdu(again).subarray(0, 48))).toBe(true)
    expect(reject.statSN).toBe(statSN)
    expect(reject.expCmdSN).toBe((again.cmdSN + 1) >>> 0)
    // The write goes on: all four bursts, then GOOD with the StatSN after the Reject's.
    const data = pattern(LENGTH, 12)
    let next: R2TPdu | undefined = r2t
    while (next !== undefined) {
      const burst = data.subarray(next.bufferOffset, next.bufferOffset + next.desiredDataTransferLength)
      c.sendDataOut({ itt: command.itt, ttt: next.ttt, dataSN: 0, bufferOffset: next.bufferOffset, data: burst, final: true })
      const pdu = await c.receiveFor(command.itt)
      next = pdu.opcode === Opcode.R2T ? pdu : undefined
      if (pdu.opcode === Opcode.ScsiResponse) expect([pdu.status, pdu.statSN, pdu.expCmdSN]).toEqual([0, (statSN + 1) >>> 0, (again.cmdSN + 1) >>> 0])
    }
    expect((await readBlocks(c, LBA, BLOCKS)).equals(data)).toBe(true)
    // Once the task is over, the ITT is free again.
    expect((await c.command({ cdb: Buffer.alloc(6), itt: command.itt })).status).toBe(0)
  })
})
