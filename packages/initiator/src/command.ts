// The SCSI command as callers see it (options, result, residual) and the rules the session applies to one: which
// commands may be reissued after a connection loss, task attributes (RFC 7143 11.3.1.4), the sense key that makes
// a command worth repeating (UNIT ATTENTION, SAM-5 5.14).
import { TaskAttribute } from '@iscsi-ts/pdu'
import type { DecodedSense } from './sense.js'

export type TaskAttributeName = 'simple' | 'ordered' | 'head-of-queue' | 'aca' | 'untagged'

export interface ExecuteOptions {
  /** Data-out for write-type commands; sent as views, never copied: leave it untouched until the promise settles. */
  dataOut?: Buffer
  /** Bytes of data-in expected (the allocation length the CDB asks for). Default `into.length`, or 0. */
  dataInLength?: number
  /** Receive data-in straight into this buffer (at least dataInLength bytes). */
  into?: Buffer
  /** Per-command timeout (default the session's, 30 s). */
  timeoutMs?: number
  /** Aborts the command: ABORT TASK is sent, then the promise rejects with AbortError. */
  signal?: AbortSignal
  attribute?: TaskAttributeName
  /**
   * Reissue the command in the reinstated session after a connection loss. Default: true for commands that are
   * safe to repeat (reads, writes, inquiries...), false for COMPARE AND WRITE, PERSISTENT RESERVE OUT and unknown
   * opcodes, which then fail with ConnectionError.
   */
  retry?: boolean
  /** Reissue on CHECK CONDITION / UNIT ATTENTION (the command was not executed). Default true. */
  retryUnitAttention?: boolean
}

export interface Residual {
  overflow: boolean
  underflow: boolean
  /** Bytes not transferred (underflow) or not transferable (overflow). */
  count: number
}

export interface CommandResult {
  /** SCSI status (SAM-5 5.3.1): 0 GOOD, 2 CHECK CONDITION, 0x18 RESERVATION CONFLICT... */
  status: number
  /** Decoded sense data when the target returned some. */
  sense?: DecodedSense
  /** The raw sense bytes. */
  senseData?: Buffer
  /** Data-in received (a view of `into` when given). */
  data?: Buffer
  residual?: Residual
}

export const taskAttributeCodes: Record<TaskAttributeName, number> = {
  untagged: TaskAttribute.Untagged,
  simple: TaskAttribute.Simple,
  ordered: TaskAttribute.Ordered,
  'head-of-queue': TaskAttribute.HeadOfQueue,
  aca: TaskAttribute.Aca,
}

/** CDB opcodes that are safe to execute twice (the effect of two executions equals one). */
const REPEATABLE_OPCODES = new Set([
  0x00, // TEST UNIT READY
  0x03, // REQUEST SENSE
  0x08, // READ(6)
  0x0a, // WRITE(6)
  0x12, // INQUIRY
  0x1a, // MODE SENSE(6)
  0x1b, // START STOP UNIT
  0x1e, // PREVENT ALLOW MEDIUM REMOVAL
  0x25, // READ CAPACITY(10)
  0x28, // READ(10)
  0x2a, // WRITE(10)
  0x2e, // WRITE AND VERIFY(10)
  0x2f, // VERIFY(10)
  0x35, // SYNCHRONIZE CACHE(10)
  0x41, // WRITE SAME(10)
  0x42, // UNMAP
  0x4d, // LOG SENSE
  0x5a, // MODE SENSE(10)
  0x5e, // PERSISTENT RESERVE IN
  0x88, // READ(16)
  0x8a, // WRITE(16)
  0x8e, // WRITE AND VERIFY(16)
  0x8f, // VERIFY(16)
  0x91, // SYNCHRONIZE CACHE(16)
  0x93, // WRITE SAME(16)
  0x9e, // SERVICE ACTION IN(16): READ CAPACITY(16), GET LBA STATUS
  0xa0, // REPORT LUNS
  0xa3, // MAINTENANCE IN (REPORT SUPPORTED OPCODES...)
  0xa8, // READ(12)
  0xaa, // WRITE(12)
  0xaf, // VERIFY(12)
])

/** True when executing the command twice has the effect of executing it once (safe to reissue after a loss). */
export function isRepeatable(cdb: Buffer): boolean {
  return REPEATABLE_OPCODES.has(cdb[0]!)
}

export /** The sense key of fixed (0x70/0x71) or descriptor (0x72/0x73) sense data (SPC-4 4.5), or undefined. */
function senseKeyOf(sense: Buffer | undefined): number | undefined {
  if (sense === undefined || sense.length < 2) return undefined
  const code = sense[0]! & 0x7f
  if (code === 0x70 || code === 0x71) return sense.length >= 3 ? sense[2]! & 0x0f : undefined
  if (code === 0x72 || code === 0x73) return sense[1]! & 0x0f
  return undefined
}

/** CDB byte 0 -> command name for messages. */
const commandNames: Readonly<Record<number, string>> = {
  0x00: 'TEST UNIT READY',
  0x12: 'INQUIRY',
  0x25: 'READ CAPACITY(10)',
  0x28: 'READ(10)',
  0x2a: 'WRITE(10)',
  0x35: 'SYNCHRONIZE CACHE(10)',
  0x41: 'WRITE SAME(10)',
  0x42: 'UNMAP',
  0x5e: 'PERSISTENT RESERVE IN',
  0x5f: 'PERSISTENT RESERVE OUT',
  0x88: 'READ(16)',
  0x89: 'COMPARE AND WRITE',
  0x8a: 'WRITE(16)',
  0x91: 'SYNCHRONIZE CACHE(16)',
  0x93: 'WRITE SAME(16)',
  0xa0: 'REPORT LUNS',
}

/** The name of the command a CDB starts (`READ(16)`), or its opcode in hex: for messages. */
export function commandName(cdb: Buffer): string {
  const opcode = cdb[0]!
  if (opcode === 0x9e) return (cdb[1]! & 0x1f) === 0x12 ? 'GET LBA STATUS' : 'READ CAPACITY(16)'
  return commandNames[opcode] ?? `opcode 0x${opcode.toString(16).padStart(2, '0')}`
}
