// Write data the initiator may not send: more unsolicited data (immediate or Data-Out) than FirstBurstLength, more
// than an R2T asked for, a burst ended early with F=1, and unsolicited data of any kind when InitialR2T=Yes and
// ImmediateData=No. Each one ends the task with CHECK CONDITION, ABORTED COMMAND and the iSCSI condition of
// RFC 7143 11.4.7.2 ("Unexpected unsolicited data" 0C/0C, "Incorrect amount of data" 0C/0D), never GOOD, and
// nothing reaches the logical unit.
import { Opcode, ScsiResponseCode } from '@iscsi-ts/pdu'
import type { Pdu, R2TPdu, ScsiCommandPdu, ScsiResponsePdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { write10 } from '../testing.js'
import type { RawConnection, TestTarget } from '../testing.js'
import { BLOCK, normalSession, opcodes, pattern, pdusUntilStatus, ping, quietTarget, readBlocks, senseData, senseOf } from './edge-harness.js'

const DEPTH = 16
const UNEXPECTED_UNSOLICITED_DATA: [number, number, number] = [0x0b, 0x0c, 0x0c]
const INCORRECT_AMOUNT_OF_DATA: [number, number, number] = [0x0b, 0x0c, 0x0d]
const LBA = 40
const BLOCKS = 4
const LENGTH = BLOCKS * BLOCK

/** Target and session with unsolicited data allowed: FirstBurstLength 1024, MaxBurstLength 1024. */
async function unsolicitedSession(): Promise<{ t: TestTarget; c: RawConnection }> {
  const t = await quietTarget({ limits: { queueDepth: DEPTH, firstBurstLength: 1024, maxBurstLength: 1024 } })
  const c = await normalSession(t, { operational: { immediateData: true, initialR2T: false } })
  expect(c.parameters?.session).toMatchObject({ immediateData: true, initialR2T: false, firstBurstLength: 1024, maxBurstLength: 1024 })
  return { t, c }
}

/** Target and session with InitialR2T=Yes and ImmediateData=No (RFC 7143 13.10, 13.11). */
async function solicitedOnlySession(): Promise<{ t: TestTarget; c: RawConnection }> {
  const t = await quietTarget({ limits: { queueDepth: DEPTH, maxBurstLength: 1024 } })
  const c = await normalSession(t, { operational: { immediateData: false, initialR2T: true, maxOutstandingR2T: 2 } })
  expect(c.parameters?.session).toMatchObject({ immediateData: false, initialR2T: true, maxBurstLength: 1024, maxOutstandingR2T: 2 })
  return { t, c }
}

/** Fill the blocks the tests aim at with a known pattern (through R2Ts, whatever the session allows). */
async function prefill(c: RawConnection): Promise<Buffer> {
  const before = pattern(LENGTH, 1)
  const result = await c.command({ cdb: write10(LBA, BLOCKS), dataOut: before })
  expect(result.status).toBe(0)
  return before
}

/**
 * The task ended with one SCSI Response (after the R2Ts listed, if any): command completed at the target, CHECK
 * CONDITION with the given sense, the connection's next StatSN and the window moved past the command's CmdSN.
 * Returns the R2Ts seen before it.
 */
function expectCheckCondition(
  pdus: readonly Pdu[],
  command: ScsiCommandPdu,
  statSN: number,
  sense: [number, number, number],
  r2ts = 0,
): R2TPdu[] {
  expect(opcodes(pdus)).toEqual([...Array<number>(r2ts).fill(Opcode.R2T), Opcode.ScsiResponse])
  const response = pdus.at(-1) as ScsiResponsePdu
  expect(response.response).toBe(ScsiResponseCode.CommandCompleted)
  expect(response.status).toBe(0x02)
  expect(senseOf(senseData(response))).toEqual(sense)
  expect(response.statSN).toBe(statSN)
  expect(response.expCmdSN).toBe((command.cmdSN + 1) >>> 0)
  expect(response.maxCmdSN).toBe((command.cmdSN + DEPTH) >>> 0)
  const r2tPdus = pdus.slice(0, -1) as R2TPdu[]
  // An R2T shows StatSN without taking it (RFC 7143 11.8.3).
  for (const r2t of r2tPdus) expect(r2t.statSN).toBe(statSN)
  return r2tPdus
}

describe('unsolicited data beyond FirstBurstLength (RFC 7143 13.14: at most FirstBurstLength of unsolicited data; 11.4.7.2 "Incorrect amount of data")', () => {
  it('immediate data longer than FirstBurstLength: CHECK CONDITION 0B/0C/0D, no R2T, nothing written', async () => {
    const { c } = await unsolicitedSession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, data: pattern(1536, 2), final: true })
    expectCheckCondition(await pdusUntilStatus(c, command.itt), command, statSN, INCORRECT_AMOUNT_OF_DATA)
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('unsolicited Data-Out reaching past FirstBurstLength (after immediate data, and alone): 0B/0C/0D, nothing written', async () => {
    const { c } = await unsolicitedSession()
    const before = await prefill(c)
    // 512 bytes of immediate data, then a Data-Out of 1024 more: unsolicited data would end at 1536 > 1024. The
    // target solicits the part beyond FirstBurstLength at once (one R2T for 1024..2048), then ends the task.
    let statSN = c.expStatSN
    let command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, data: pattern(512, 3), final: false })
    let r2t = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    expect([r2t.r2tSN, r2t.bufferOffset, r2t.desiredDataTransferLength]).toEqual([0, 1024, 1024])
    c.sendDataOut({ itt: command.itt, dataSN: 0, bufferOffset: 512, data: pattern(1024, 4), final: true })
    expectCheckCondition([r2t, ...(await pdusUntilStatus(c, command.itt))], command, statSN, INCORRECT_AMOUNT_OF_DATA, 1)
    // No immediate data: one Data-Out of 1536 bytes.
    statSN = c.expStatSN
    command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: false })
    r2t = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    expect([r2t.r2tSN, r2t.bufferOffset, r2t.desiredDataTransferLength]).toEqual([0, 1024, 1024])
    c.sendDataOut({ itt: command.itt, dataSN: 0, bufferOffset: 0, data: pattern(1536, 5), final: true })
    expectCheckCondition([r2t, ...(await pdusUntilStatus(c, command.itt))], command, statSN, INCORRECT_AMOUNT_OF_DATA, 1)
    // Data-Out answering the R2T of the ended task is dropped without a Reject.
    c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN: 0, bufferOffset: 1024, data: pattern(1024, 6), final: true })
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })
})

describe('solicited data beyond the R2T (RFC 7143 11.8 Desired Data Transfer Length; 11.4.7.2: the amount sent for an R2T must match it)', () => {
  it('a Data-Out sequence longer than the R2T asked for: 0B/0C/0D, nothing written', async () => {
    const { c } = await solicitedOnlySession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: true })
    // MaxBurstLength 1024, MaxOutstandingR2T 2: two R2Ts of 1024 bytes each.
    const first = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    const second = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    expect([first.r2tSN, first.bufferOffset, first.desiredDataTransferLength]).toEqual([0, 0, 1024])
    expect([second.r2tSN, second.bufferOffset, second.desiredDataTransferLength]).toEqual([1, 1024, 1024])
    expect(first.ttt).not.toBe(second.ttt)
    c.sendDataOut({ itt: command.itt, ttt: first.ttt, dataSN: 0, bufferOffset: 0, data: pattern(1536, 6), final: true })
    expectCheckCondition([first, second, ...(await pdusUntilStatus(c, command.itt))], command, statSN, INCORRECT_AMOUNT_OF_DATA, 2)
    // Data for the other R2T of the ended task is dropped without a word.
    c.sendDataOut({ itt: command.itt, ttt: second.ttt, dataSN: 0, bufferOffset: 1024, data: pattern(1024, 7), final: true })
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })
})

describe('a burst ended early with F=1 (RFC 7143 11.7.1 F bit; 11.4.7.2 "Incorrect amount of data")', () => {
  it('an unsolicited burst that stops short of FirstBurstLength: 0B/0C/0D, nothing written', async () => {
    const { c } = await unsolicitedSession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, data: pattern(256, 8), final: false })
    const r2t = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    c.sendDataOut({ itt: command.itt, dataSN: 0, bufferOffset: 256, data: pattern(256, 9), final: true })
    expectCheckCondition([r2t, ...(await pdusUntilStatus(c, command.itt))], command, statSN, INCORRECT_AMOUNT_OF_DATA, 1)
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('a solicited burst that stops short of the R2T length: 0B/0C/0D, nothing written', async () => {
    const { c } = await solicitedOnlySession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: true })
    const first = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    const second = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    c.sendDataOut({ itt: command.itt, ttt: first.ttt, dataSN: 0, bufferOffset: 0, data: pattern(512, 10), final: true })
    expectCheckCondition([first, second, ...(await pdusUntilStatus(c, command.itt))], command, statSN, INCORRECT_AMOUNT_OF_DATA, 2)
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })
})

describe('unsolicited data with InitialR2T=Yes and ImmediateData=No (RFC 7143 13.11: "the target MUST reject unsolicited data"; 11.4.7.2 0C/0C)', () => {
  it('immediate data: CHECK CONDITION 0B/0C/0C, no R2T, nothing written', async () => {
    const { c } = await solicitedOnlySession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, data: pattern(512, 11), final: true })
    expectCheckCondition(await pdusUntilStatus(c, command.itt), command, statSN, UNEXPECTED_UNSOLICITED_DATA)
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('unsolicited Data-Out announced with F=0: 0B/0C/0C, no R2T, its Data-Out dropped silently, nothing written', async () => {
    const { c } = await solicitedOnlySession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: false })
    c.sendDataOut({ itt: command.itt, dataSN: 0, bufferOffset: 0, data: pattern(1024, 12), final: true })
    expectCheckCondition(await pdusUntilStatus(c, command.itt), command, statSN, UNEXPECTED_UNSOLICITED_DATA)
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })

  it('unsolicited Data-Out after a command with F=1 (while R2Ts are out): 0B/0C/0C, nothing written', async () => {
    const { c } = await solicitedOnlySession()
    const before = await prefill(c)
    const statSN = c.expStatSN
    const command = c.sendCommand({ write: true, cdb: write10(LBA, BLOCKS), expectedDataTransferLength: LENGTH, final: true })
    const first = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    const second = await c.receiveOf(Opcode.R2T, 5000, (p) => p.itt === command.itt)
    c.sendDataOut({ itt: command.itt, dataSN: 0, bufferOffset: 0, data: pattern(1024, 13), final: true })
    expectCheckCondition([first, second, ...(await pdusUntilStatus(c, command.itt))], command, statSN, UNEXPECTED_UNSOLICITED_DATA, 2)
    // The solicited data that follows belongs to an ended task: dropped without a Reject.
    c.sendDataOut({ itt: command.itt, ttt: first.ttt, dataSN: 0, bufferOffset: 0, data: pattern(1024, 14), final: true })
    await c.expectSilence(150)
    expect((await readBlocks(c, LBA, BLOCKS)).equals(before)).toBe(true)
    await ping(c)
  })
})
