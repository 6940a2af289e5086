// Shared helpers of the strict-edge tests (not exported): a quiet test target (no NOP-In pings to disturb the
// "nothing else arrives" checks), raw PDUs with explicit sequence numbers, the sense triple of a response, reading
// blocks back, and the NOP-Out/NOP-In round trip that proves a connection still works after an edge case.
import { Opcode, RESERVED_TAG } from '@iscsi-ts/pdu'
import type { LoginRequestPdu, NopInPdu, Pdu, ScsiResponsePdu, TextRequestPdu, TextResponsePdu } from '@iscsi-ts/pdu'
import { expect } from 'vitest'
import { session, target } from '../test-harness.js'
import { read10 } from '../testing.js'
import type { RawConnection, RawLoginOptions, TestTarget, TestTargetOptions } from '../testing.js'

export const BLOCK = 512
export const INITIATOR = 'iqn.2026-11.io.iscsi-ts:strict-edges'

/** A test target without NOP-In pings (they would break `expectSilence`), other limits as given. */
export function quietTarget(options: TestTargetOptions = {}): Promise<TestTarget> {
  return target({ ...options, limits: { nopInIntervalMs: 0, ...options.limits } })
}

/** A logged-in normal session with the unit attentions of the new nexus consumed. */
export function normalSession(t: TestTarget, options: RawLoginOptions = {}): Promise<RawConnection> {
  return session(t, { initiatorName: INITIATOR, ...options })
}

/** A block-sized pattern that differs per seed. */
export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length)
  for (let i = 0; i < length; i++) b[i] = (i * 13 + seed * 29 + 7) & 0xff
  return b
}

/** Sense key, ASC, ASCQ of fixed or descriptor sense data. */
export function senseOf(sense: Buffer | undefined): [number, number, number] {
  expect(sense).toBeDefined()
  const s = sense ?? Buffer.alloc(0)
  if ((s[0]! & 0x7f) >= 0x72) return [s[1]! & 0x0f, s[2]!, s[3]!]
  return [s[2]! & 0x0f, s[12]!, s[13]!]
}

/** The sense data carried by a SCSI Response (RFC 7143 11.4.7: SenseLength, then the sense bytes). */
export function senseData(response: ScsiResponsePdu): Buffer | undefined {
  if (response.data.length < 2) return undefined
  return response.data.subarray(2, 2 + response.data.readUInt16BE(0))
}

/** READ(10) of `blocks` blocks at `lba`, which must be GOOD. */
export async function readBlocks(c: RawConnection, lba: number, blocks: number): Promise<Buffer> {
  const result = await c.command({ cdb: read10(lba, blocks), read: true, expectedDataTransferLength: blocks * BLOCK })
  expect(result.status).toBe(0)
  return result.data
}

/**
 * An immediate NOP-Out with a fresh ITT; the NOP-In must echo it with the next StatSN and the current window.
 * Returns the NOP-In.
 */
export async function ping(c: RawConnection, expected: { statSN?: number; expCmdSN?: number } = {}): Promise<NopInPdu> {
  const itt = c.nextItt()
  const statSN = expected.statSN ?? c.expStatSN
  const data = Buffer.from('still here')
  c.send({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt, ttt: RESERVED_TAG, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data })
  const nopIn = await c.receiveOf(Opcode.NopIn, 5000, (p) => p.itt === itt)
  expect(nopIn.ttt).toBe(RESERVED_TAG)
  expect(nopIn.statSN).toBe(statSN)
  expect(nopIn.expCmdSN).toBe(expected.expCmdSN ?? c.cmdSN)
  expect(nopIn.data.equals(data)).toBe(true)
  return nopIn
}

/** Send a Text Request with explicit fields (defaults: non-immediate, F=1, C=0, TTT reserved, the next CmdSN). */
export function sendText(c: RawConnection, fields: Partial<TextRequestPdu> & { text?: string }): TextRequestPdu {
  const immediate = fields.immediate ?? false
  const { text, ...rest } = fields
  const pdu: TextRequestPdu = {
    opcode: Opcode.TextRequest,
    immediate,
    final: true,
    continue: false,
    lun: 0n,
    itt: c.nextItt(),
    ttt: RESERVED_TAG,
    cmdSN: immediate ? c.cmdSN : c.takeCmdSN(),
    expStatSN: c.expStatSN,
    data: text === undefined ? Buffer.alloc(0) : Buffer.from(text),
    ...rest,
  }
  c.send(pdu)
  return pdu
}

export function receiveTextResponse(c: RawConnection, itt: number): Promise<TextResponsePdu> {
  return c.receiveOf(Opcode.TextResponse, 5000, (p) => p.itt === itt)
}

/** key=value pairs of a text data segment, in order. */
export function pairsOf(data: Buffer): Array<[string, string]> {
  return data
    .toString('utf8')
    .split('\0')
    .filter((s) => s.length > 0)
    .map((s) => {
      const eq = s.indexOf('=')
      return [s.slice(0, eq), s.slice(eq + 1)] as [string, string]
    })
}

/** NUL-terminated key=value text. */
export function text(...pairs: string[]): string {
  return pairs.map((p) => `${p}\0`).join('')
}

/** A Login Request with explicit fields (defaults: operational stage, T=0, ITT 1, CmdSN 1, ISID 80 01 02 03 04 05). */
export function loginRequest(fields: Partial<LoginRequestPdu> & { text?: string }): LoginRequestPdu {
  const { text: body, ...rest } = fields
  return {
    opcode: Opcode.LoginRequest,
    transit: false,
    continue: false,
    csg: 1,
    nsg: 0,
    versionMax: 0,
    versionMin: 0,
    isid: Buffer.from([0x80, 1, 2, 3, 4, 5]),
    tsih: 0,
    itt: 1,
    cid: 0,
    cmdSN: 1,
    expStatSN: 0,
    data: body === undefined ? Buffer.alloc(0) : Buffer.from(body),
    ...rest,
  }
}

/**
 * Every PDU the target sends for one ITT until its status (a SCSI Response, or a Data-In with S), answering nothing
 * (R2Ts are only recorded, unlike `RawConnection.collect`).
 */
export async function pdusUntilStatus(c: RawConnection, itt: number, timeoutMs = 5000): Promise<Pdu[]> {
  const out: Pdu[] = []
  for (;;) {
    const pdu = await c.receiveFor(itt, timeoutMs)
    out.push(pdu)
    if (pdu.opcode === Opcode.ScsiResponse || (pdu.opcode === Opcode.DataIn && pdu.statusPresent)) return out
  }
}

/** The opcodes of PDUs, for messages. */
export function opcodes(pdus: readonly Pdu[]): number[] {
  return pdus.map((p) => p.opcode)
}
