// Checks what the target sends on a fuzzed connection: whatever it receives, its own output must stay well-formed
// (every PDU frames, digests right) and coherent (StatSN advances by exactly one per status-carrying PDU, RFC 7143
// 4.2.2.2; MaxCmdSN never falls more than one below ExpCmdSN, RFC 7143 4.2.2.1; no data segment larger than the
// MaxRecvDataSegmentLength we declared, RFC 7143 13.12; per task, R2TSN and Data-In DataSN count up by one and
// Data-In offsets follow each other, as DataPDUInOrder=Yes and DataSequenceInOrder=Yes require, RFC 7143 13.18-13.19;
// a bidirectional command's Data-In numbering continues after its R2Ts, RFC 7143 11.7.5).
import { Opcode, PduFramer, RESERVED_TAG } from '@iscsi-ts/pdu'
import type { DigestOptions, Pdu, R2TPdu } from '@iscsi-ts/pdu'

export interface OutputProblem {
  readonly kind: 'bad-output' | 'statsn' | 'window' | 'segment' | 'sequence'
  readonly message: string
}

function carriesStatus(pdu: Pdu): boolean {
  switch (pdu.opcode) {
    case Opcode.ScsiResponse:
    case Opcode.TaskManagementResponse:
    case Opcode.LoginResponse:
    case Opcode.TextResponse:
    case Opcode.LogoutResponse:
    case Opcode.AsyncMessage:
    case Opcode.Reject:
      return true
    case Opcode.DataIn:
      return pdu.statusPresent
    case Opcode.NopIn:
      return pdu.itt !== RESERVED_TAG
    default:
      return false
  }
}

/** ExpCmdSN/MaxCmdSN sanity in serial arithmetic: MaxCmdSN + 1 - ExpCmdSN in [0, 2^31). */
function windowOk(expCmdSN: number, maxCmdSN: number): boolean {
  const size = (maxCmdSN + 1 - expCmdSN) >>> 0
  return size < 0x8000_0000
}

export class OutputChecker {
  readonly #framer: PduFramer
  readonly problems: OutputProblem[] = []
  /** The StatSN the next status-carrying PDU must have (undefined: take the first one seen). */
  expectedStatSN: number | undefined
  /** Largest data segment the target may send us; undefined disables the check (after a Text renegotiation). */
  maxSegment: number | undefined
  received = 0
  /** Per ITT of a task still running: R2Ts seen, next Data-In DataSN and offset. */
  readonly #tasks = new Map<number, { r2ts: number; dataSN: number | undefined; offset: number }>()
  readonly #onR2T: ((r2t: R2TPdu) => void) | undefined
  readonly #onPdu: ((pdu: Pdu) => void) | undefined

  constructor(options: { digests?: DigestOptions; expectedStatSN?: number; maxSegment?: number; onR2T?: (r2t: R2TPdu) => void; onPdu?: (pdu: Pdu) => void } = {}) {
    this.expectedStatSN = options.expectedStatSN
    this.maxSegment = options.maxSegment
    this.#onR2T = options.onR2T
    this.#onPdu = options.onPdu
    this.#framer = new PduFramer({
      role: 'initiator',
      maxRecvDataSegmentLength: 0xffffff,
      headerDigest: options.digests?.headerDigest === true,
      dataDigest: options.digests?.dataDigest === true,
      onPdu: (pdu) => this.#check(pdu),
      onError: (error) => this.#problem('bad-output', `${error.code}: ${error.message}`),
    })
  }

  /** The next StatSN we acknowledge (ExpStatSN of our PDUs). */
  get expStatSN(): number {
    return this.expectedStatSN ?? 0
  }

  push(chunk: Buffer): void {
    this.#framer.push(chunk)
  }

  #problem(kind: OutputProblem['kind'], message: string): void {
    if (this.problems.length < 20) this.problems.push({ kind, message })
  }

  #check(pdu: Pdu): void {
    this.received++
    if (carriesStatus(pdu) && 'statSN' in pdu) {
      if (this.expectedStatSN !== undefined && pdu.statSN !== this.expectedStatSN) {
        this.#problem('statsn', `opcode 0x${pdu.opcode.toString(16)} carries StatSN ${pdu.statSN}, expected ${this.expectedStatSN}`)
      }
      this.expectedStatSN = (pdu.statSN + 1) >>> 0
    }
    if ('expCmdSN' in pdu && 'maxCmdSN' in pdu && !(pdu.opcode === Opcode.Reject && pdu.maxCmdSN === 0 && pdu.expCmdSN === 0)) {
      if (!windowOk(pdu.expCmdSN, pdu.maxCmdSN)) {
        this.#problem('window', `opcode 0x${pdu.opcode.toString(16)}: MaxCmdSN ${pdu.maxCmdSN} more than one below ExpCmdSN ${pdu.expCmdSN}`)
      }
    }
    if (this.maxSegment !== undefined && pdu.data.length > this.maxSegment) {
      this.#problem('segment', `opcode 0x${pdu.opcode.toString(16)} carries ${pdu.data.length} bytes, more than our MaxRecvDataSegmentLength ${this.maxSegment}`)
    }
    this.#checkSequence(pdu)
    if (pdu.opcode === Opcode.R2T) this.#onR2T?.(pdu)
    this.#onPdu?.(pdu)
  }

  #checkSequence(pdu: Pdu): void {
    if (pdu.opcode === Opcode.R2T) {
      let task = this.#tasks.get(pdu.itt) ?? { r2ts: 0, dataSN: undefined, offset: 0 }
      // R2TSN 0 starts a new task with this ITT (the old one may have been aborted without a response).
      if (pdu.r2tSN === 0 && task.r2ts > 0) task = { r2ts: 0, dataSN: undefined, offset: 0 }
      if (pdu.r2tSN !== task.r2ts) this.#problem('sequence', `R2T for ITT 0x${pdu.itt.toString(16)} has R2TSN ${pdu.r2tSN}, expected ${task.r2ts}`)
      task.r2ts = pdu.r2tSN + 1
      this.#tasks.set(pdu.itt, task)
      return
    }
    if (pdu.opcode === Opcode.DataIn) {
      let task = this.#tasks.get(pdu.itt) ?? { r2ts: 0, dataSN: undefined, offset: 0 }
      // DataSN 0 at offset 0 starts a new task with this ITT (the old one may have been aborted without a response).
      if (pdu.dataSN === 0 && pdu.bufferOffset === 0 && task.dataSN !== undefined) task = { r2ts: 0, dataSN: undefined, offset: 0 }
      const expected = task.dataSN ?? pdu.dataSN
      if (task.dataSN === undefined && pdu.dataSN !== 0 && pdu.dataSN !== task.r2ts) {
        this.#problem('sequence', `first Data-In for ITT 0x${pdu.itt.toString(16)} has DataSN ${pdu.dataSN}, expected 0 (or ${task.r2ts} after R2Ts)`)
      } else if (pdu.dataSN !== expected) {
        this.#problem('sequence', `Data-In for ITT 0x${pdu.itt.toString(16)} has DataSN ${pdu.dataSN}, expected ${expected}`)
      }
      if (pdu.bufferOffset !== task.offset) {
        this.#problem('sequence', `Data-In for ITT 0x${pdu.itt.toString(16)} at offset ${pdu.bufferOffset}, expected ${task.offset} (DataPDUInOrder)`)
      }
      task.dataSN = pdu.dataSN + 1
      task.offset = pdu.bufferOffset + pdu.data.length
      if (pdu.statusPresent) this.#tasks.delete(pdu.itt)
      else this.#tasks.set(pdu.itt, task)
      return
    }
    if (pdu.opcode === Opcode.ScsiResponse) this.#tasks.delete(pdu.itt)
  }
}
