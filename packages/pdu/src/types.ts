// The PDU model: one interface per PDU kind of RFC 7143 chapter 11, a discriminated union keyed by `opcode`.
//
// Conventions:
// - Every numeric field is an unsigned integer in a JS number, sized like its wire field (32-bit sequence numbers,
//   tags and lengths; 16-bit TSIH, CID, Time2Wait...; 8-bit codes). Code fields are plain numbers because a peer
//   may send values outside our tables (vendor codes); the tables in `opcode.ts` name the defined ones.
// - `lun` is the raw 8-byte LUN field as a bigint (see `encodeLun`/`decodeLun` for SAM-5 addressing).
// - Flag bits are booleans. Bits the RFC fixes (the F bit of single-PDU kinds, the I bit of Login, ITT 0xffffffff of
//   Async Message and Reject) are not modelled: encoders write them, decoders check them only in strict mode.
// - `data` is the data segment without padding, a zero-length Buffer when empty. Decoders return views into the
//   input where they can, never copies.
// - `ahs` keeps AHS that this package does not interpret (unknown types, or any AHS on a PDU kind that defines
//   none), in wire order. Decoders omit the key when there are none.

/** One Additional Header Segment (RFC 7143 11.2.2). */
export interface Ahs {
  /** AHSType (byte 2): 1 extended CDB, 2 bidirectional read length; 0x40-0x7f vendor specific. */
  type: number
  /**
   * The AHS bytes from the AHS-specific byte (byte 3) on, excluding padding: AHSLength is `data.length`. An empty
   * Buffer means AHSLength 0 (the AHS-specific byte is then padding).
   */
  data: Buffer
}

interface PduBase {
  /** The data segment without padding; a zero-length Buffer when DataSegmentLength is 0. */
  data: Buffer
  /** AHS this package does not interpret, in wire order. */
  ahs?: readonly Ahs[]
}

/** NOP-Out (RFC 7143 11.18). F is always 1. */
export interface NopOutPdu extends PduBase {
  opcode: 0x00
  immediate: boolean
  /** LUN of a NOP-Out answering a NOP-In with a valid TTT, else 0. */
  lun: bigint
  /** 0xffffffff when the NOP-Out answers a NOP-In (no response wanted). */
  itt: number
  /** The NOP-In's TTT when answering one, else 0xffffffff. */
  ttt: number
  cmdSN: number
  expStatSN: number
}

/** NOP-In (RFC 7143 11.19). F is always 1. */
export interface NopInPdu extends PduBase {
  opcode: 0x20
  lun: bigint
  itt: number
  ttt: number
  /** Reserved (not advanced) when ITT is 0xffffffff; still carried. */
  statSN: number
  expCmdSN: number
  maxCmdSN: number
}

/** SCSI Command (RFC 7143 11.2). */
export interface ScsiCommandPdu extends PduBase {
  opcode: 0x01
  immediate: boolean
  /** F: no unsolicited Data-Out follows this command. */
  final: boolean
  read: boolean
  write: boolean
  /** ATTR (see `TaskAttribute`), 3 bits. */
  attribute: number
  lun: bigint
  itt: number
  expectedDataTransferLength: number
  cmdSN: number
  expStatSN: number
  /**
   * The CDB, at least 16 bytes (shorter CDBs are zero-padded to 16 on the wire). Longer CDBs travel as 16 bytes in
   * the BHS plus an Extended CDB AHS; decode reassembles them and encode splits them (RFC 7143 11.2.2.3).
   */
  cdb: Buffer
  /** From the Bidirectional Expected Read-Data Length AHS (RFC 7143 11.2.2.4), present only when that AHS is. */
  expectedBidirectionalReadLength?: number
}

/** SCSI Response (RFC 7143 11.4). F is always 1. */
export interface ScsiResponsePdu extends PduBase {
  opcode: 0x21
  /** o: bidirectional read residual overflow. */
  bidiOverflow: boolean
  /** u: bidirectional read residual underflow. */
  bidiUnderflow: boolean
  /** O: residual overflow. */
  overflow: boolean
  /** U: residual underflow. */
  underflow: boolean
  /** See `ScsiResponseCode`. */
  response: number
  /** SCSI status (SAM), valid when response is 0. */
  status: number
  itt: number
  /** SNACK Tag, or 0. */
  snackTag: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  expDataSN: number
  bidiReadResidualCount: number
  residualCount: number
}

/** Task Management Function Request (RFC 7143 11.5). F is always 1. */
export interface TaskManagementRequestPdu extends PduBase {
  opcode: 0x02
  immediate: boolean
  /** See `TaskManagementFunction`, 7 bits. */
  function: number
  lun: bigint
  itt: number
  /** ITT of the task to act on, or 0xffffffff. */
  referencedTaskTag: number
  cmdSN: number
  expStatSN: number
  refCmdSN: number
  expDataSN: number
}

/** Task Management Function Response (RFC 7143 11.6). F is always 1. */
export interface TaskManagementResponsePdu extends PduBase {
  opcode: 0x22
  /** See `TaskManagementResponseCode`. */
  response: number
  itt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
}

/** Login Request (RFC 7143 11.12). The I bit is always 1. */
export interface LoginRequestPdu extends PduBase {
  opcode: 0x03
  /** T: the initiator is ready to transit to `nsg`. */
  transit: boolean
  /** C: the text is continued in the next Login Request. */
  continue: boolean
  /** Current stage (see `LoginStage`), 2 bits. */
  csg: number
  /** Next stage, meaningful only with `transit`, 2 bits. */
  nsg: number
  versionMax: number
  versionMin: number
  /** The 6-byte ISID (RFC 7143 11.12.5). */
  isid: Buffer
  tsih: number
  itt: number
  cid: number
  cmdSN: number
  expStatSN: number
}

/** Login Response (RFC 7143 11.13). */
export interface LoginResponsePdu extends PduBase {
  opcode: 0x23
  transit: boolean
  continue: boolean
  csg: number
  nsg: number
  versionMax: number
  versionActive: number
  isid: Buffer
  tsih: number
  itt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  /** See `LoginStatusClass`/`LoginStatus`. */
  statusClass: number
  statusDetail: number
}

/** Text Request (RFC 7143 11.10). */
export interface TextRequestPdu extends PduBase {
  opcode: 0x04
  immediate: boolean
  final: boolean
  continue: boolean
  lun: bigint
  itt: number
  ttt: number
  cmdSN: number
  expStatSN: number
}

/** Text Response (RFC 7143 11.11). */
export interface TextResponsePdu extends PduBase {
  opcode: 0x24
  final: boolean
  continue: boolean
  lun: bigint
  itt: number
  ttt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
}

/** SCSI Data-Out (RFC 7143 11.7). */
export interface DataOutPdu extends PduBase {
  opcode: 0x05
  final: boolean
  lun: bigint
  itt: number
  ttt: number
  expStatSN: number
  dataSN: number
  bufferOffset: number
}

/** SCSI Data-In (RFC 7143 11.7). */
export interface DataInPdu extends PduBase {
  opcode: 0x25
  final: boolean
  /** A: the target wants a DataACK SNACK (ErrorRecoveryLevel > 0). */
  acknowledge: boolean
  overflow: boolean
  underflow: boolean
  /** S: status and StatSN are valid; the command completes with this PDU. */
  statusPresent: boolean
  status: number
  lun: bigint
  itt: number
  ttt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  dataSN: number
  bufferOffset: number
  residualCount: number
}

/** Logout Request (RFC 7143 11.14). F is always 1. */
export interface LogoutRequestPdu extends PduBase {
  opcode: 0x06
  immediate: boolean
  /** See `LogoutReason`, 7 bits. */
  reasonCode: number
  itt: number
  /** CID to close, or 0 when closing the session. */
  cid: number
  cmdSN: number
  expStatSN: number
}

/** Logout Response (RFC 7143 11.15). F is always 1. */
export interface LogoutResponsePdu extends PduBase {
  opcode: 0x26
  /** See `LogoutResponseCode`. */
  response: number
  itt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  time2Wait: number
  time2Retain: number
}

/** SNACK Request (RFC 7143 11.16). F is always 1. */
export interface SnackRequestPdu extends PduBase {
  opcode: 0x10
  /** See `SnackType`, 4 bits. */
  type: number
  lun: bigint
  itt: number
  /** TTT (DataACK) or SNACK Tag (R-Data), else 0xffffffff. */
  ttt: number
  expStatSN: number
  begRun: number
  runLength: number
}

/** Ready To Transfer (RFC 7143 11.8). F is always 1. */
export interface R2TPdu extends PduBase {
  opcode: 0x31
  lun: bigint
  itt: number
  ttt: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  r2tSN: number
  bufferOffset: number
  desiredDataTransferLength: number
}

/** Asynchronous Message (RFC 7143 11.9). F is always 1, ITT is always 0xffffffff. */
export interface AsyncMessagePdu extends PduBase {
  opcode: 0x32
  lun: bigint
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  /** See `AsyncEvent`. */
  asyncEvent: number
  asyncVCode: number
  parameter1: number
  parameter2: number
  parameter3: number
}

/** Reject (RFC 7143 11.17). F is always 1, ITT is always 0xffffffff. `data` is the rejected PDU's header. */
export interface RejectPdu extends PduBase {
  opcode: 0x3f
  /** See `RejectReason`. */
  reason: number
  statSN: number
  expCmdSN: number
  maxCmdSN: number
  /** DataSN/R2TSN when rejecting a SNACK, else 0. */
  dataSN: number
}

export type Pdu =
  | NopOutPdu
  | ScsiCommandPdu
  | TaskManagementRequestPdu
  | LoginRequestPdu
  | TextRequestPdu
  | DataOutPdu
  | LogoutRequestPdu
  | SnackRequestPdu
  | NopInPdu
  | ScsiResponsePdu
  | TaskManagementResponsePdu
  | LoginResponsePdu
  | TextResponsePdu
  | DataInPdu
  | LogoutResponsePdu
  | R2TPdu
  | AsyncMessagePdu
  | RejectPdu

/** The PDU interface for one opcode: `PduOf<typeof Opcode.DataIn>` is `DataInPdu`. */
export type PduOf<O extends Pdu['opcode']> = Extract<Pdu, { opcode: O }>

/** PDUs an initiator sends. */
export type InitiatorPdu =
  | NopOutPdu
  | ScsiCommandPdu
  | TaskManagementRequestPdu
  | LoginRequestPdu
  | TextRequestPdu
  | DataOutPdu
  | LogoutRequestPdu
  | SnackRequestPdu

/** PDUs a target sends. */
export type TargetPdu = Exclude<Pdu, InitiatorPdu>

/** Which digests are in use on a connection (RFC 7143 13.1); both off until negotiated. */
export interface DigestOptions {
  headerDigest?: boolean
  dataDigest?: boolean
}

/** Who receives: a target only accepts initiator opcodes, an initiator only target opcodes. */
export type ReceiverRole = 'target' | 'initiator'
