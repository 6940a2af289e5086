// Errors of @iscsi-ts/target. One base class with a string code and the reaction the target owes the wire: a Reject
// PDU (RFC 7143 11.17), a login status (RFC 7143 11.13.5), a CHECK CONDITION that ends the task (RFC 7143 11.4.7.2),
// dropping the connection (RFC 7143 7.1.4, ErrorRecoveryLevel 0), or nothing (local misuse).

export type TargetReaction =
  | { readonly kind: 'reject'; readonly reason: number }
  | { readonly kind: 'login'; readonly statusClass: number; readonly statusDetail: number }
  | { readonly kind: 'check-condition'; readonly senseKey: number; readonly asc: number; readonly ascq: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'none' }

export const TargetErrorCode = {
  /** The options given to IscsiTarget are inconsistent (unknown portal group, duplicate names, bad limits). */
  Config: 'ISCSI_ERR_TARGET_CONFIG',
  /** A portal could not be bound. */
  Listen: 'ISCSI_ERR_TARGET_LISTEN',
  /** The target is closed or closing. */
  Closed: 'ISCSI_ERR_TARGET_CLOSED',
  /** A login failed; the reaction is the status class/detail sent (RFC 7143 11.13.5). */
  Login: 'ISCSI_ERR_TARGET_LOGIN',
  /** The whole login did not finish within loginTimeoutMs. */
  LoginTimeout: 'ISCSI_ERR_TARGET_LOGIN_TIMEOUT',
  /** A PDU other than a Login Request before the login finished (RFC 7143 6.3). */
  NotLoggedIn: 'ISCSI_ERR_TARGET_NOT_LOGGED_IN',
  /** A PDU that breaks the protocol in full feature phase, answered with a Reject (RFC 7143 11.17.1). */
  Protocol: 'ISCSI_ERR_TARGET_PROTOCOL',
  /** Data-Out that does not fit the task's transfer (RFC 7143 11.4.7.2, 11.7), ends the task with CHECK CONDITION. */
  DataOut: 'ISCSI_ERR_TARGET_DATA_OUT',
  /** A NOP-In ping was not answered within nopInTimeoutMs. */
  NopTimeout: 'ISCSI_ERR_TARGET_NOP_TIMEOUT',
  /** The connection failed (socket error, reset, framing error that stops the byte stream). */
  Connection: 'ISCSI_ERR_TARGET_CONNECTION',
  /** A limit (queue depth, write buffer budget, connections per address) was reached. */
  Resource: 'ISCSI_ERR_TARGET_RESOURCE',
} as const
export type TargetErrorCode = (typeof TargetErrorCode)[keyof typeof TargetErrorCode]

const NONE: TargetReaction = { kind: 'none' }

/** Base error of the package. */
export class TargetError extends Error {
  override readonly name: string = 'TargetError'
  readonly code: TargetErrorCode
  readonly reaction: TargetReaction

  constructor(code: TargetErrorCode, message: string, reaction: TargetReaction = NONE, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.reaction = reaction
  }
}

/** A configuration error, thrown by the IscsiTarget constructor, `listen` and `reload`. */
export class TargetConfigError extends TargetError {
  override readonly name = 'TargetConfigError'
  constructor(message: string) {
    super(TargetErrorCode.Config, message)
  }
}

/** A login failure: the status class/detail the Login Response carries (RFC 7143 11.13.5). */
export class LoginError extends TargetError {
  override readonly name = 'LoginError'
  readonly statusClass: number
  readonly statusDetail: number
  constructor(status: { readonly statusClass: number; readonly statusDetail: number }, message: string, options?: { cause?: unknown }) {
    super(TargetErrorCode.Login, message, { kind: 'login', statusClass: status.statusClass, statusDetail: status.statusDetail }, options)
    this.statusClass = status.statusClass
    this.statusDetail = status.statusDetail
  }
}

/** A Data-Out error that terminates the task with CHECK CONDITION, ABORTED COMMAND and this ASC/ASCQ. */
export class DataOutError extends TargetError {
  override readonly name = 'DataOutError'
  readonly asc: number
  readonly ascq: number
  constructor(asc: number, ascq: number, message: string) {
    super(TargetErrorCode.DataOut, message, { kind: 'check-condition', senseKey: 0x0b, asc, ascq })
    this.asc = asc
    this.ascq = ascq
  }
}
