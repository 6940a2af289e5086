// Opcodes and the code tables carried in PDU fields (RFC 7143 chapter 11, RFC 7144 for the SAM-4/5 TMF additions).
// Every table is `as const` with a derived union type; `*Name` types name the keys.

/** The 6-bit opcode in byte 0 of every BHS (RFC 7143 11.1.1). */
export const Opcode = {
  // Initiator opcodes (RFC 7143 11.1.1.1)
  NopOut: 0x00,
  ScsiCommand: 0x01,
  TaskManagementRequest: 0x02,
  LoginRequest: 0x03,
  TextRequest: 0x04,
  DataOut: 0x05,
  LogoutRequest: 0x06,
  SnackRequest: 0x10,
  // Target opcodes (RFC 7143 11.1.1.2)
  NopIn: 0x20,
  ScsiResponse: 0x21,
  TaskManagementResponse: 0x22,
  LoginResponse: 0x23,
  TextResponse: 0x24,
  DataIn: 0x25,
  LogoutResponse: 0x26,
  R2T: 0x31,
  AsyncMessage: 0x32,
  Reject: 0x3f,
} as const
export type Opcode = (typeof Opcode)[keyof typeof Opcode]
export type OpcodeName = keyof typeof Opcode

/** Opcodes sent by an initiator (received by a target). */
export type InitiatorOpcode =
  | typeof Opcode.NopOut
  | typeof Opcode.ScsiCommand
  | typeof Opcode.TaskManagementRequest
  | typeof Opcode.LoginRequest
  | typeof Opcode.TextRequest
  | typeof Opcode.DataOut
  | typeof Opcode.LogoutRequest
  | typeof Opcode.SnackRequest
/** Opcodes sent by a target (received by an initiator). */
export type TargetOpcode = Exclude<Opcode, InitiatorOpcode>

const opcodeNames = new Map<number, OpcodeName>(
  (Object.entries(Opcode) as [OpcodeName, Opcode][]).map(([name, value]) => [value, name]),
)

/** True for the 18 opcodes RFC 7143 defines. */
export function isOpcode(value: number): value is Opcode {
  return opcodeNames.has(value)
}

/** The table name of an opcode (`'ScsiCommand'`), or undefined for an unknown one. */
export function opcodeName(value: number): OpcodeName | undefined {
  return opcodeNames.get(value)
}

/** Initiator opcodes are 0x00-0x1f, target opcodes 0x20-0x3f (RFC 7143 11.1.1). */
export function isInitiatorOpcode(value: number): value is InitiatorOpcode {
  return isOpcode(value) && value < 0x20
}

export function isTargetOpcode(value: number): value is TargetOpcode {
  return isOpcode(value) && value >= 0x20
}

/** The Reserved Tag value of ITT/TTT/SNACK Tag fields (RFC 7143 11.18.1 and others). */
export const RESERVED_TAG = 0xffffffff

/** Length of the Basic Header Segment (RFC 7143 11.1). */
export const BHS_LENGTH = 48

/** Length of one CRC32C digest on the wire (RFC 7143 13.1). */
export const DIGEST_LENGTH = 4

/** The only iSCSI version number defined, used in Version-max/min/active (RFC 7143 11.12.4). */
export const ISCSI_VERSION = 0x00

/** Reject reasons (RFC 7143 11.17.1). */
export const RejectReason = {
  DataDigestError: 0x02,
  SnackReject: 0x03,
  ProtocolError: 0x04,
  CommandNotSupported: 0x05,
  /** Too many immediate commands. */
  ImmediateCommandReject: 0x06,
  TaskInProgress: 0x07,
  InvalidDataAck: 0x08,
  InvalidPduField: 0x09,
  /** Long op reject: can't generate a Target Transfer Tag, out of resources. */
  LongOperationReject: 0x0a,
  /** "Negotiation Reset" in RFC 3720; RFC 7143 deprecates it (MUST NOT be sent). */
  NegotiationReset: 0x0b,
  WaitingForLogout: 0x0c,
} as const
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason]
export type RejectReasonName = keyof typeof RejectReason

/** Task management functions (RFC 7143 11.5.1; 9-12 from RFC 7144 section 4.1). */
export const TaskManagementFunction = {
  AbortTask: 1,
  AbortTaskSet: 2,
  ClearAca: 3,
  ClearTaskSet: 4,
  LogicalUnitReset: 5,
  TargetWarmReset: 6,
  TargetColdReset: 7,
  TaskReassign: 8,
  QueryTask: 9,
  QueryTaskSet: 10,
  ITNexusReset: 11,
  QueryAsyncEvent: 12,
} as const
export type TaskManagementFunction = (typeof TaskManagementFunction)[keyof typeof TaskManagementFunction]
export type TaskManagementFunctionName = keyof typeof TaskManagementFunction

/** Task Management Function Response codes (RFC 7143 11.6.1; 7 from RFC 7144). */
export const TaskManagementResponseCode = {
  FunctionComplete: 0,
  TaskDoesNotExist: 1,
  LunDoesNotExist: 2,
  TaskStillAllegiant: 3,
  TaskAllegianceReassignmentNotSupported: 4,
  FunctionNotSupported: 5,
  FunctionAuthorizationFailed: 6,
  FunctionSucceeded: 7,
  FunctionRejected: 255,
} as const
export type TaskManagementResponseCode = (typeof TaskManagementResponseCode)[keyof typeof TaskManagementResponseCode]

/** Logout Request reason codes (RFC 7143 11.14.1). */
export const LogoutReason = {
  CloseSession: 0,
  CloseConnection: 1,
  RemoveConnectionForRecovery: 2,
} as const
export type LogoutReason = (typeof LogoutReason)[keyof typeof LogoutReason]

/** Logout Response codes (RFC 7143 11.15.1). */
export const LogoutResponseCode = {
  Success: 0,
  CidNotFound: 1,
  RecoveryNotSupported: 2,
  CleanupFailed: 3,
} as const
export type LogoutResponseCode = (typeof LogoutResponseCode)[keyof typeof LogoutResponseCode]

/** Asynchronous Message events (RFC 7143 11.9.1). */
export const AsyncEvent = {
  /** A SCSI asynchronous event; sense data in the data segment. */
  ScsiAsyncEvent: 0,
  /** The target requests a logout within Parameter3 seconds. */
  LogoutRequest: 1,
  /** The target will drop connection Parameter1 (CID); Parameter2/3 are Time2Wait/Time2Retain. */
  ConnectionDrop: 2,
  /** The target will drop every connection of the session; Parameter2/3 are Time2Wait/Time2Retain. */
  SessionDrop: 3,
  /** The target requests parameter renegotiation. */
  NegotiationRequest: 4,
  /** All active tasks of the LU in the LUN field were terminated. */
  TaskTermination: 5,
  VendorSpecific: 255,
} as const
export type AsyncEvent = (typeof AsyncEvent)[keyof typeof AsyncEvent]

/** SNACK types (RFC 7143 11.16.1). */
export const SnackType = {
  DataR2T: 0,
  Status: 1,
  DataAck: 2,
  RDataSnack: 3,
} as const
export type SnackType = (typeof SnackType)[keyof typeof SnackType]

/** SCSI Response "Response" field (RFC 7143 11.4.3); 0x80-0xff are vendor specific. */
export const ScsiResponseCode = {
  CommandCompleted: 0x00,
  TargetFailure: 0x01,
} as const
export type ScsiResponseCode = (typeof ScsiResponseCode)[keyof typeof ScsiResponseCode]

/** ATTR of the SCSI Command PDU (RFC 7143 11.3.1.4); 5-7 are reserved. */
export const TaskAttribute = {
  Untagged: 0,
  Simple: 1,
  Ordered: 2,
  HeadOfQueue: 3,
  Aca: 4,
} as const
export type TaskAttribute = (typeof TaskAttribute)[keyof typeof TaskAttribute]

/** CSG/NSG login stages (RFC 7143 11.12.3); 2 is reserved. */
export const LoginStage = {
  SecurityNegotiation: 0,
  LoginOperationalNegotiation: 1,
  FullFeaturePhase: 3,
} as const
export type LoginStage = (typeof LoginStage)[keyof typeof LoginStage]

/** Login Response Status-Class (RFC 7143 11.13.5). */
export const LoginStatusClass = {
  Success: 0,
  Redirection: 1,
  InitiatorError: 2,
  TargetError: 3,
} as const
export type LoginStatusClass = (typeof LoginStatusClass)[keyof typeof LoginStatusClass]

/** Login Response Status-Class/Status-Detail pairs (RFC 7143 11.13.5). */
export const LoginStatus = {
  Success: { statusClass: 0x00, statusDetail: 0x00 },
  TargetMovedTemporarily: { statusClass: 0x01, statusDetail: 0x01 },
  TargetMovedPermanently: { statusClass: 0x01, statusDetail: 0x02 },
  InitiatorError: { statusClass: 0x02, statusDetail: 0x00 },
  AuthenticationFailure: { statusClass: 0x02, statusDetail: 0x01 },
  AuthorizationFailure: { statusClass: 0x02, statusDetail: 0x02 },
  NotFound: { statusClass: 0x02, statusDetail: 0x03 },
  TargetRemoved: { statusClass: 0x02, statusDetail: 0x04 },
  UnsupportedVersion: { statusClass: 0x02, statusDetail: 0x05 },
  TooManyConnections: { statusClass: 0x02, statusDetail: 0x06 },
  MissingParameter: { statusClass: 0x02, statusDetail: 0x07 },
  CantIncludeInSession: { statusClass: 0x02, statusDetail: 0x08 },
  SessionTypeNotSupported: { statusClass: 0x02, statusDetail: 0x09 },
  SessionDoesNotExist: { statusClass: 0x02, statusDetail: 0x0a },
  InvalidDuringLogin: { statusClass: 0x02, statusDetail: 0x0b },
  TargetError: { statusClass: 0x03, statusDetail: 0x00 },
  ServiceUnavailable: { statusClass: 0x03, statusDetail: 0x01 },
  OutOfResources: { statusClass: 0x03, statusDetail: 0x02 },
} as const
export type LoginStatusName = keyof typeof LoginStatus

/** AHS types (RFC 7143 11.2.2.2). */
export const AhsType = {
  ExtendedCdb: 1,
  BidirectionalReadLength: 2,
} as const
export type AhsType = (typeof AhsType)[keyof typeof AhsType]
