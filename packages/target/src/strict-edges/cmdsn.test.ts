// Commands outside the CmdSN window or duplicated inside it (RFC 7143 4.2.2.1: "the target MUST silently ignore any
// non-immediate command outside of this range or non-immediate duplicates within the range"): no response of any
// kind, no effect on the logical unit, ExpCmdSN unchanged, and later commands run as usual.
import { Opcode, RESERVED_TAG } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { write10 } from '../testing.js'
import type { RawConnection } from '../testing.js'
import { BLOCK, normalSession, pattern, ping, quietTarget, readBlocks } from './edge-harness.js'

const DEPTH = 8

/** A WRITE(10) of one block carried whole as immediate data, with the CmdSN given (not taken from the client). */
function writeWithCmdSN(c: RawConnection, lba: number, cmdSN: number, seed: number, itt?: number): number {
  const pdu = c.sendCommand({ write: true, cdb: write10(lba, 1), data: pattern(BLOCK, seed), final: true, cmdSN, ...(itt !== undefined ? { itt } : {}) })
  return pdu.itt
}

describe('CmdSN outside the window (RFC 7143 4.2.2.1)', () => {
  it('ignores commands above MaxCmdSN and below ExpCmdSN: no response, nothing written, ExpCmdSN unchanged', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t, { operational: { immediateData: true } })
    const before = await readBlocks(c, 7, 1)
    const exp = c.cmdSN
    const nop = await ping(c, { expCmdSN: exp })
    expect(nop.maxCmdSN).toBe((exp + DEPTH - 1) >>> 0)
    // One past MaxCmdSN, far beyond it, just below ExpCmdSN, and half the serial space away (RFC 1982 undefined).
    for (const cmdSN of [exp + DEPTH, exp + 1000, exp - 1, exp - 2 ** 31].map((n) => n >>> 0)) writeWithCmdSN(c, 7, cmdSN, cmdSN & 0xff)
    // A non-immediate NOP-Out outside the window is a command like any other: ignored too.
    c.send({ opcode: Opcode.NopOut, immediate: false, lun: 0n, itt: 0x5150, ttt: RESERVED_TAG, cmdSN: (exp + DEPTH) >>> 0, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
    await c.expectSilence(300)
    await ping(c, { expCmdSN: exp })
    expect((await readBlocks(c, 7, 1)).equals(before)).toBe(true)
    // The window goes on from where it was.
    const ok = await c.command({ cdb: write10(7, 1), data: pattern(BLOCK, 99) })
    expect(ok.status).toBe(0)
    // The READ above took `exp`, this WRITE exp + 1.
    expect(ok.response?.expCmdSN).toBe((exp + 2) >>> 0)
    expect((await readBlocks(c, 7, 1)).equals(pattern(BLOCK, 99))).toBe(true)
  })

  it('ignores a duplicate CmdSN inside the window (waiting behind a gap, and already executed)', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t, { operational: { immediateData: true } })
    const exp = c.cmdSN
    // CmdSN exp+1 arrives before exp: it waits. Its duplicate (another ITT, other data) is ignored.
    const waiting = writeWithCmdSN(c, 20, (exp + 1) >>> 0, 1)
    const duplicate = writeWithCmdSN(c, 20, (exp + 1) >>> 0, 2)
    await c.expectSilence(200)
    await ping(c, { expCmdSN: exp })
    // The gap fills: exp and exp+1 run, the duplicate never answers.
    const first = writeWithCmdSN(c, 21, exp, 3)
    const answers = [await c.receiveFor(first), await c.receiveFor(waiting)]
    expect(answers.map((p) => p.opcode)).toEqual([Opcode.ScsiResponse, Opcode.ScsiResponse])
    expect(answers.map((p) => (p.opcode === Opcode.ScsiResponse ? p.status : -1))).toEqual([0, 0])
    c.cmdSN = (exp + 2) >>> 0
    // Once executed, the same CmdSN is below ExpCmdSN: a resend is ignored as well.
    writeWithCmdSN(c, 20, exp, 4)
    await c.expectSilence(200)
    expect(c.queued.some((p) => 'itt' in p && p.itt === duplicate)).toBe(false)
    await ping(c, { expCmdSN: (exp + 2) >>> 0 })
    expect((await readBlocks(c, 20, 2)).equals(Buffer.concat([pattern(BLOCK, 1), pattern(BLOCK, 3)]))).toBe(true)
  })
})
