// Errors of @iscsi-ts/negotiation: one base class with a string code and the wire reaction (a login status for
// login, a Reject reason for text in full feature phase). Messages never contain a CHAP secret.
import { LoginStatus } from './login-status.js'
import type { LoginStatusCode, NegotiationReaction } from './types.js'
import { RejectReason } from './types.js'

export const NegotiationErrorCode = {
  /** Text not of the form key=value, bad UTF-8, bad key characters (RFC 7143 6.1). */
  TextSyntax: 'ISCSI_ERR_NEG_TEXT_SYNTAX',
  /** Key name longer than 63 bytes (RFC 7143 6.1). */
  KeyTooLong: 'ISCSI_ERR_NEG_KEY_TOO_LONG',
  /** Value longer than allowed (255 bytes unless the key allows more, RFC 7143 6.1). */
  ValueTooLong: 'ISCSI_ERR_NEG_VALUE_TOO_LONG',
  /** Text spanning PDUs longer than the configured limit. */
  TextTooLong: 'ISCSI_ERR_NEG_TEXT_TOO_LONG',
  /** A value that is not a valid number/binary/boolean/list where one is required (RFC 7143 6.1). */
  BadValue: 'ISCSI_ERR_NEG_BAD_VALUE',
  /** A key negotiated or declared twice in one negotiation (RFC 7143 6.2). */
  DuplicateKey: 'ISCSI_ERR_NEG_DUPLICATE_KEY',
  /** A key in a stage that does not allow it (RFC 7143 6.3, 13). */
  WrongStage: 'ISCSI_ERR_NEG_WRONG_STAGE',
  /** A full-feature-only key (SendTargets) during login (RFC 7143 11.13.5, 0x020b). */
  InvalidDuringLogin: 'ISCSI_ERR_NEG_INVALID_DURING_LOGIN',
  /** CSG/NSG/T/C inconsistent (RFC 7143 6.3, 11.12). */
  StageTransition: 'ISCSI_ERR_NEG_STAGE_TRANSITION',
  /** InitiatorName / TargetName missing (RFC 7143 11.13.5, 0x0207). */
  MissingParameter: 'ISCSI_ERR_NEG_MISSING_PARAMETER',
  /** A key that the login needs was answered NotUnderstood / Reject (RFC 7143 6.2). */
  RequiredKey: 'ISCSI_ERR_NEG_REQUIRED_KEY',
  /** An answer that the result function does not allow (RFC 7143 6.2.2). */
  BadAnswer: 'ISCSI_ERR_NEG_BAD_ANSWER',
  /** FirstBurstLength above MaxBurstLength (RFC 7143 13.14). */
  BurstLength: 'ISCSI_ERR_NEG_BURST_LENGTH',
  TargetNotFound: 'ISCSI_ERR_NEG_TARGET_NOT_FOUND',
  NotAuthorized: 'ISCSI_ERR_NEG_NOT_AUTHORIZED',
  AuthenticationFailed: 'ISCSI_ERR_NEG_AUTH_FAILED',
  SessionTypeNotSupported: 'ISCSI_ERR_NEG_SESSION_TYPE',
  SessionDoesNotExist: 'ISCSI_ERR_NEG_SESSION_DOES_NOT_EXIST',
  /** CHAP exchange malformed (missing keys, bad identifiers, short challenge) (RFC 7143 12.1.3). */
  ChapMalformed: 'ISCSI_ERR_NEG_CHAP_MALFORMED',
  /** No common CHAP_A algorithm (RFC 7143 12.1.3). */
  ChapAlgorithm: 'ISCSI_ERR_NEG_CHAP_ALGORITHM',
  /** CHAP_R wrong or CHAP_N unknown (RFC 1994 4.1). */
  ChapResponse: 'ISCSI_ERR_NEG_CHAP_RESPONSE',
  /** The mutual challenge equals one we sent (reflection, RFC 7143 12.1.3). */
  ChapReflection: 'ISCSI_ERR_NEG_CHAP_REFLECTION',
  /** A challenge seen before (replay, RFC 7143 12.1.3). */
  ChapReplay: 'ISCSI_ERR_NEG_CHAP_REPLAY',
  /** The same secret configured for both directions (RFC 7143 12.1.3). */
  ChapSecretReuse: 'ISCSI_ERR_NEG_CHAP_SECRET_REUSE',
  /** The target answered a login with a failure status (initiator side). */
  LoginRejected: 'ISCSI_ERR_NEG_LOGIN_REJECTED',
  /** Text/login exchange out of sequence (unexpected TTT, data with C=1 answer, call after done). */
  Sequence: 'ISCSI_ERR_NEG_SEQUENCE',
  /** A key not allowed in this phase or session answered Reject in full feature phase. */
  Protocol: 'ISCSI_ERR_NEG_PROTOCOL',
} as const
export type NegotiationErrorCode = (typeof NegotiationErrorCode)[keyof typeof NegotiationErrorCode]

const INITIATOR_ERROR: NegotiationReaction = { kind: 'login', ...LoginStatus.INITIATOR_ERROR }

/** Base error of the package. `reaction` says what goes on the wire. */
export class NegotiationError extends Error {
  override readonly name: string = 'NegotiationError'
  readonly code: NegotiationErrorCode
  readonly reaction: NegotiationReaction

  constructor(
    code: NegotiationErrorCode,
    message: string,
    reaction: NegotiationReaction = INITIATOR_ERROR,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.code = code
    this.reaction = reaction
  }

  /** The login status this error maps to (Initiator Error when its reaction is a Reject). */
  get loginStatus(): LoginStatusCode {
    return this.reaction.kind === 'login'
      ? { statusClass: this.reaction.statusClass, statusDetail: this.reaction.statusDetail }
      : LoginStatus.INITIATOR_ERROR
  }

  /** The same error with a full-feature-phase Reject reaction (text errors outside login, RFC 7143 11.17.1). */
  asReject(reason: RejectReason = RejectReason.ProtocolError): NegotiationError {
    return new NegotiationError(this.code, this.message, { kind: 'reject', reason }, { cause: this })
  }
}

/** Shorthand for an error whose reaction is a login status. */
export function loginError(code: NegotiationErrorCode, message: string, status: LoginStatusCode): NegotiationError {
  return new NegotiationError(code, message, {
    kind: 'login',
    statusClass: status.statusClass,
    statusDetail: status.statusDetail,
  })
}

/** The initiator's view of a failed login: the target's status class/detail. */
export class LoginRejectedError extends NegotiationError {
  override readonly name: string = 'LoginRejectedError'
  readonly statusClass: number
  readonly statusDetail: number

  constructor(status: LoginStatusCode, message: string) {
    super(NegotiationErrorCode.LoginRejected, message, {
      kind: 'login',
      statusClass: status.statusClass,
      statusDetail: status.statusDetail,
    })
    this.statusClass = status.statusClass
    this.statusDetail = status.statusDetail
  }
}
