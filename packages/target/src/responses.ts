// Builders for the PDUs a target sends. Sequence numbers come from the caller (the connection owns StatSN, the
// session owns ExpCmdSN/MaxCmdSN).
import { BHS_LENGTH, RESERVED_TAG, ScsiResponseCode, encodeHeader, headerLength } from '@iscsi-ts/pdu'
import type {
  AsyncMessagePdu,
  DataInPdu,
  NopInPdu,
  Pdu,
  R2TPdu,
  RejectPdu,
  ScsiResponsePdu,
  TaskManagementResponsePdu,
} from '@iscsi-ts/pdu'
import type { Residual } from './residual.js'
import { NO_RESIDUAL } from './residual.js'

export interface Sequence {
  readonly statSN: number
  readonly expCmdSN: number
  readonly maxCmdSN: number
}

const EMPTY = Buffer.alloc(0)

/** The 48-byte BHS of a received PDU, re-encoded, for the data segment of a Reject (RFC 7143 11.17.4). */
export function headerOf(pdu: Pdu): Buffer {
  try {
    const buf = Buffer.alloc(headerLength(pdu))
    encodeHeader(pdu, buf, 0)
    return buf.subarray(0, BHS_LENGTH)
  } catch {
    // A decoded PDU always re-encodes; keep a zeroed header with the opcode if it ever does not.
    const buf = Buffer.alloc(BHS_LENGTH)
    buf[0] = pdu.opcode
    return buf
  }
}

export function rejectPdu(reason: number, header: Buffer, seq: Sequence, dataSN = 0): RejectPdu {
  return { opcode: 0x3f, reason, statSN: seq.statSN, expCmdSN: seq.expCmdSN, maxCmdSN: seq.maxCmdSN, dataSN, data: header }
}

/** SCSI Response data segment: SenseLength then the sense data (RFC 7143 11.4.7). */
export function senseSegment(sense: Buffer | undefined): Buffer {
  if (sense === undefined || sense.length === 0) return EMPTY
  const data = Buffer.allocUnsafe(2 + sense.length)
  data.writeUInt16BE(sense.length, 0)
  sense.copy(data, 2)
  return data
}

export function scsiResponsePdu(options: {
  readonly itt: number
  readonly status: number
  readonly sense?: Buffer | undefined
  readonly residual?: Residual
  readonly bidiResidual?: Residual
  readonly expDataSN: number
  readonly seq: Sequence
  readonly response?: number
}): ScsiResponsePdu {
  const residual = options.residual ?? NO_RESIDUAL
  const bidi = options.bidiResidual ?? NO_RESIDUAL
  return {
    opcode: 0x21,
    bidiOverflow: bidi.overflow,
    bidiUnderflow: bidi.underflow,
    overflow: residual.overflow,
    underflow: residual.underflow,
    response: options.response ?? ScsiResponseCode.CommandCompleted,
    status: options.status,
    itt: options.itt,
    snackTag: 0,
    statSN: options.seq.statSN,
    expCmdSN: options.seq.expCmdSN,
    maxCmdSN: options.seq.maxCmdSN,
    expDataSN: options.expDataSN,
    bidiReadResidualCount: bidi.count,
    residualCount: residual.count,
    data: senseSegment(options.sense),
  }
}

/** One Data-In PDU; `status` present only on the last PDU when the status is collapsed into it (S bit). */
export function dataInPdu(options: {
  readonly itt: number
  readonly data: Buffer
  readonly offset: number
  readonly dataSN: number
  readonly final: boolean
  readonly status?: { readonly status: number; readonly residual: Residual; readonly statSN: number }
  readonly expCmdSN: number
  readonly maxCmdSN: number
}): DataInPdu {
  const status = options.status
  return {
    opcode: 0x25,
    final: options.final || status !== undefined,
    acknowledge: false,
    overflow: status?.residual.overflow ?? false,
    underflow: status?.residual.underflow ?? false,
    statusPresent: status !== undefined,
    status: status?.status ?? 0,
    lun: 0n,
    itt: options.itt,
    ttt: RESERVED_TAG,
    statSN: status?.statSN ?? 0,
    expCmdSN: options.expCmdSN,
    maxCmdSN: options.maxCmdSN,
    dataSN: options.dataSN,
    bufferOffset: options.offset,
    residualCount: status?.residual.count ?? 0,
    data: options.data,
  }
}

export function r2tPdu(options: {
  readonly lun: bigint
  readonly itt: number
  readonly ttt: number
  readonly r2tSN: number
  readonly bufferOffset: number
  readonly desiredDataTransferLength: number
  readonly seq: Sequence
}): R2TPdu {
  return {
    opcode: 0x31,
    lun: options.lun,
    itt: options.itt,
    ttt: options.ttt,
    statSN: options.seq.statSN,
    expCmdSN: options.seq.expCmdSN,
    maxCmdSN: options.seq.maxCmdSN,
    r2tSN: options.r2tSN,
    bufferOffset: options.bufferOffset,
    desiredDataTransferLength: options.desiredDataTransferLength,
    data: EMPTY,
  }
}

export function nopInPdu(options: { readonly itt: number; readonly ttt: number; readonly lun: bigint; readonly data: Buffer; readonly seq: Sequence }): NopInPdu {
  return {
    opcode: 0x20,
    lun: options.lun,
    itt: options.itt,
    ttt: options.ttt,
    statSN: options.seq.statSN,
    expCmdSN: options.seq.expCmdSN,
    maxCmdSN: options.seq.maxCmdSN,
    data: options.data,
  }
}

export function tmfResponsePdu(itt: number, response: number, seq: Sequence): TaskManagementResponsePdu {
  return { opcode: 0x22, response, itt, statSN: seq.statSN, expCmdSN: seq.expCmdSN, maxCmdSN: seq.maxCmdSN, data: EMPTY }
}

export function asyncMessagePdu(options: {
  readonly asyncEvent: number
  readonly parameter1?: number
  readonly parameter2?: number
  readonly parameter3?: number
  readonly data?: Buffer
  readonly seq: Sequence
}): AsyncMessagePdu {
  return {
    opcode: 0x32,
    lun: 0n,
    statSN: options.seq.statSN,
    expCmdSN: options.seq.expCmdSN,
    maxCmdSN: options.seq.maxCmdSN,
    asyncEvent: options.asyncEvent,
    asyncVCode: 0,
    parameter1: options.parameter1 ?? 0,
    parameter2: options.parameter2 ?? 0,
    parameter3: options.parameter3 ?? 0,
    data: options.data ?? EMPTY,
  }
}
