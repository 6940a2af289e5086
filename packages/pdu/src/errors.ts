// Errors of @iscsi-ts/pdu. One base class, `PduError`, with a string `code` and the reaction the receiver owes the
// wire (RFC 7143 7.8, 11.17). Decoding and framing only ever throw or report a PduError.
import { RejectReason } from './opcode.js'
import type { ReceiverRole } from './types.js'

/**
 * What the receiver of a bad PDU must do:
 * - `reject`: send a Reject PDU with `reason`, carrying `header` (the rejected PDU's BHS) as its data segment.
 * - `drop`: the byte stream can no longer be trusted; close the connection (connection recovery, RFC 7143 7.8).
 * - `none`: not a wire error; raised by local misuse (encoding an invalid value, an unsupported LUN address method).
 */
export type PduReaction =
  | { readonly kind: 'reject'; readonly reason: RejectReason; readonly header: Buffer }
  | { readonly kind: 'drop' }
  | { readonly kind: 'none' }

export const PduErrorCode = {
  /** The buffer ends before the PDU does (decodePdu on a short buffer). */
  Truncated: 'ISCSI_ERR_PDU_TRUNCATED',
  /** Header digest mismatch: lengths can't be trusted, drop the connection (RFC 7143 7.8). */
  HeaderDigest: 'ISCSI_ERR_PDU_HEADER_DIGEST',
  /** Data digest mismatch: Reject with reason 0x02 and discard the PDU (RFC 7143 7.8). */
  DataDigest: 'ISCSI_ERR_PDU_DATA_DIGEST',
  /** Opcode not defined by RFC 7143 (RFC 7143 11.17.1, "Command not supported"). */
  UnknownOpcode: 'ISCSI_ERR_PDU_UNKNOWN_OPCODE',
  /** A defined opcode that this side must never receive (a target opcode sent to a target). */
  UnexpectedOpcode: 'ISCSI_ERR_PDU_UNEXPECTED_OPCODE',
  /** DataSegmentLength above MaxRecvDataSegmentLength (RFC 7143 13.12): a protocol error. */
  SegmentTooLong: 'ISCSI_ERR_PDU_SEGMENT_TOO_LONG',
  /** Malformed AHS, or a field outside its defined range. */
  InvalidField: 'ISCSI_ERR_PDU_INVALID_FIELD',
  /** Strict decoding: a reserved bit set or a fixed bit wrong (RFC 7143 11.1: reserved fields). */
  Reserved: 'ISCSI_ERR_PDU_RESERVED',
  /** Encoding a PDU whose fields don't fit the wire format. */
  Encode: 'ISCSI_ERR_PDU_ENCODE',
  /** A LUN field in an address method this package doesn't support (SAM-5 4.6). */
  LunAddressMethod: 'ISCSI_ERR_LUN_ADDRESS_METHOD',
  /** A LUN number outside the supported range. */
  LunRange: 'ISCSI_ERR_LUN_RANGE',
} as const
export type PduErrorCode = (typeof PduErrorCode)[keyof typeof PduErrorCode]

const NONE: PduReaction = { kind: 'none' }
const DROP: PduReaction = { kind: 'drop' }

export class PduError extends Error {
  override readonly name: string = 'PduError'
  readonly code: PduErrorCode
  readonly reaction: PduReaction
  /**
   * True when the framer that reported this error stopped: nothing after it on the stream can be framed. A fatal
   * error with a `reject` reaction means "send the Reject, then close".
   */
  readonly fatal: boolean

  constructor(code: PduErrorCode, message: string, reaction: PduReaction, fatal: boolean) {
    super(message)
    this.code = code
    this.reaction = reaction
    this.fatal = fatal
  }
}

/** The input ends before the PDU it starts. */
export class PduTruncatedError extends PduError {
  override readonly name = 'PduTruncatedError'
  /** Bytes needed from the PDU's start to go on. */
  readonly needed: number

  constructor(needed: number, available: number) {
    super(PduErrorCode.Truncated, `PDU needs ${needed} bytes, only ${available} available`, DROP, true)
    this.needed = needed
  }
}

export class HeaderDigestError extends PduError {
  override readonly name = 'HeaderDigestError'
  constructor(expected: number, actual: number) {
    super(PduErrorCode.HeaderDigest, `header digest mismatch: computed ${hex(expected)}, received ${hex(actual)}`, DROP, true)
  }
}

export class DataDigestError extends PduError {
  override readonly name = 'DataDigestError'
  constructor(header: Buffer, expected: number, actual: number) {
    super(
      PduErrorCode.DataDigest,
      `data digest mismatch: computed ${hex(expected)}, received ${hex(actual)}`,
      { kind: 'reject', reason: RejectReason.DataDigestError, header },
      false,
    )
  }
}

export class UnknownOpcodeError extends PduError {
  override readonly name = 'UnknownOpcodeError'
  readonly opcode: number
  constructor(opcode: number, header: Buffer) {
    super(
      PduErrorCode.UnknownOpcode,
      `unknown opcode 0x${opcode.toString(16).padStart(2, '0')}`,
      { kind: 'reject', reason: RejectReason.CommandNotSupported, header },
      false,
    )
    this.opcode = opcode
  }
}

export class UnexpectedOpcodeError extends PduError {
  override readonly name = 'UnexpectedOpcodeError'
  readonly opcode: number
  constructor(opcode: number, header: Buffer, receiver: ReceiverRole) {
    super(
      PduErrorCode.UnexpectedOpcode,
      `opcode 0x${opcode.toString(16).padStart(2, '0')} is never sent to ${receiver === 'target' ? 'a target' : 'an initiator'}`,
      { kind: 'reject', reason: RejectReason.ProtocolError, header },
      false,
    )
    this.opcode = opcode
  }
}

export class SegmentTooLongError extends PduError {
  override readonly name = 'SegmentTooLongError'
  readonly dataSegmentLength: number
  readonly limit: number
  constructor(header: Buffer, dataSegmentLength: number, limit: number) {
    super(
      PduErrorCode.SegmentTooLong,
      `DataSegmentLength ${dataSegmentLength} exceeds MaxRecvDataSegmentLength ${limit}`,
      { kind: 'reject', reason: RejectReason.ProtocolError, header },
      true,
    )
    this.dataSegmentLength = dataSegmentLength
    this.limit = limit
  }
}

export class InvalidFieldError extends PduError {
  override readonly name = 'InvalidFieldError'
  constructor(message: string, header: Buffer) {
    super(PduErrorCode.InvalidField, message, { kind: 'reject', reason: RejectReason.InvalidPduField, header }, false)
  }
}

export class ReservedFieldError extends PduError {
  override readonly name = 'ReservedFieldError'
  /** Offset in the BHS of the first offending byte. */
  readonly byteOffset: number
  constructor(byteOffset: number, header: Buffer) {
    super(
      PduErrorCode.Reserved,
      `reserved or fixed bits wrong in BHS byte ${byteOffset}`,
      { kind: 'reject', reason: RejectReason.ProtocolError, header },
      false,
    )
    this.byteOffset = byteOffset
  }
}

export class PduEncodeError extends PduError {
  override readonly name = 'PduEncodeError'
  constructor(message: string) {
    super(PduErrorCode.Encode, message, NONE, false)
  }
}

export class LunError extends PduError {
  override readonly name = 'LunError'
  constructor(code: typeof PduErrorCode.LunAddressMethod | typeof PduErrorCode.LunRange, message: string) {
    super(code, message, NONE, false)
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`
}
