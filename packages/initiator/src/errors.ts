// Errors of @iscsi-ts/initiator. One base class, `InitiatorError`, with a string `code`; the subclasses carry what
// the wire said: the login status class/detail (RFC 7143 11.13.5), the SCSI status and decoded sense (SAM-5 5.3,
// SPC-4 4.5), the task management response (RFC 7143 11.6.1), the Reject reason (RFC 7143 11.17.1).
import type { DecodedSense } from '@iscsi-ts/scsi'

export const InitiatorErrorCode = {
  /** A malformed iscsi:// URL. */
  Url: 'ISCSI_ERR_URL',
  /** A caller passed an invalid argument (negative LBA, buffer of the wrong size...). */
  InvalidArgument: 'ISCSI_ERR_INVALID_ARGUMENT',
  /** Login failed with a status class/detail that has no more specific code. */
  Login: 'ISCSI_ERR_LOGIN',
  /** Login status 0x0201: authentication failure (wrong CHAP user or secret). */
  LoginAuth: 'ISCSI_ERR_LOGIN_AUTH',
  /** Login status 0x0202: authorization failure (the initiator is not allowed on that target). */
  LoginAuthorization: 'ISCSI_ERR_LOGIN_AUTHORIZATION',
  /** Login status 0x0203/0x0204: the target does not exist (or was removed). */
  LoginNotFound: 'ISCSI_ERR_LOGIN_NOT_FOUND',
  /** Login status class 3: the target could not serve the login. */
  LoginTarget: 'ISCSI_ERR_LOGIN_TARGET',
  /** Redirected (status class 1) more often than the hop budget allows. */
  LoginRedirect: 'ISCSI_ERR_LOGIN_REDIRECT',
  /** The login/text negotiation failed on our side (the target's answer is unacceptable). */
  Negotiation: 'ISCSI_ERR_NEGOTIATION',
  /** A wait ran out of time (login, command, task management, ping, logout). */
  Timeout: 'ISCSI_ERR_TIMEOUT',
  /** The TCP connection failed or closed, and the command could not be (or must not be) retried. */
  Connection: 'ISCSI_ERR_CONNECTION',
  /** The target broke the protocol (a PDU that makes no sense in its context). */
  Protocol: 'ISCSI_ERR_PROTOCOL',
  /** The session is logged out or failed for good. */
  SessionClosed: 'ISCSI_ERR_SESSION_CLOSED',
  /** The command was aborted through its AbortSignal (ABORT TASK was sent). */
  Aborted: 'ISCSI_ERR_ABORTED',
  /** The command ended with a SCSI status other than GOOD. */
  ScsiStatus: 'ISCSI_ERR_SCSI_STATUS',
  /** The SCSI Response carried an iSCSI response other than "Command Completed at Target" (RFC 7143 11.4.3). */
  ScsiResponse: 'ISCSI_ERR_SCSI_RESPONSE',
  /** A task management function did not complete (RFC 7143 11.6.1). */
  TaskManagement: 'ISCSI_ERR_TASK_MANAGEMENT',
  /** The target rejected one of our PDUs (RFC 7143 11.17). */
  Reject: 'ISCSI_ERR_REJECT',
  /** The target answered a logout with a response other than success (RFC 7143 11.15.1). */
  Logout: 'ISCSI_ERR_LOGOUT',
} as const
export type InitiatorErrorCode = (typeof InitiatorErrorCode)[keyof typeof InitiatorErrorCode]

export class InitiatorError extends Error {
  override readonly name: string = 'InitiatorError'
  readonly code: InitiatorErrorCode

  constructor(code: InitiatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

/** Names of the login status pairs (RFC 7143 11.13.5) for readable messages. */
const loginStatusText: Readonly<Record<number, string>> = {
  0x0000: 'success',
  0x0101: 'target moved temporarily',
  0x0102: 'target moved permanently',
  0x0200: 'initiator error',
  0x0201: 'authentication failure',
  0x0202: 'authorization failure',
  0x0203: 'target not found',
  0x0204: 'target removed',
  0x0205: 'unsupported version',
  0x0206: 'too many connections',
  0x0207: 'missing parameter',
  0x0208: "can't include in session",
  0x0209: 'session type not supported',
  0x020a: 'session does not exist',
  0x020b: 'invalid request during login',
  0x0300: 'target error',
  0x0301: 'service unavailable',
  0x0302: 'out of resources',
}

function loginErrorCode(statusClass: number, statusDetail: number): InitiatorErrorCode {
  if (statusClass === 1) return InitiatorErrorCode.LoginRedirect
  if (statusClass === 3) return InitiatorErrorCode.LoginTarget
  if (statusClass === 2) {
    if (statusDetail === 0x01) return InitiatorErrorCode.LoginAuth
    if (statusDetail === 0x02) return InitiatorErrorCode.LoginAuthorization
    if (statusDetail === 0x03 || statusDetail === 0x04) return InitiatorErrorCode.LoginNotFound
  }
  return InitiatorErrorCode.Login
}

/** Text of a login status pair, e.g. `authentication failure (0x0201)`. */
export function describeLoginStatus(statusClass: number, statusDetail: number): string {
  const value = ((statusClass & 0xff) << 8) | (statusDetail & 0xff)
  const name = loginStatusText[value] ?? 'unknown status'
  return `${name} (0x${value.toString(16).padStart(4, '0')})`
}

/** The login ended with a non-success status (or our side gave up: then statusClass/statusDetail are 0x02/0x00). */
export class LoginError extends InitiatorError {
  override readonly name = 'LoginError'
  readonly statusClass: number
  readonly statusDetail: number

  constructor(statusClass: number, statusDetail: number, message?: string, options?: { cause?: unknown; code?: InitiatorErrorCode }) {
    super(
      options?.code ?? loginErrorCode(statusClass, statusDetail),
      message ?? `login failed: ${describeLoginStatus(statusClass, statusDetail)}`,
      options,
    )
    this.statusClass = statusClass
    this.statusDetail = statusDetail
  }
}

export class TimeoutError extends InitiatorError {
  override readonly name = 'TimeoutError'
  /** What timed out: 'login', 'command', 'task-management', 'ping', 'logout', 'discovery', 'connect'. */
  readonly operation: string
  readonly timeoutMs: number

  constructor(operation: string, timeoutMs: number, detail?: string) {
    super(InitiatorErrorCode.Timeout, `${operation} timed out after ${timeoutMs} ms${detail === undefined ? '' : `: ${detail}`}`)
    this.operation = operation
    this.timeoutMs = timeoutMs
  }
}

export class ConnectionError extends InitiatorError {
  override readonly name = 'ConnectionError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(InitiatorErrorCode.Connection, message, options)
  }
}

export class ProtocolError extends InitiatorError {
  override readonly name = 'ProtocolError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(InitiatorErrorCode.Protocol, message, options)
  }
}

/**
 * The command was aborted through its AbortSignal. `taskCompleted` is true when the target had already completed
 * the command (its status arrived before the abort took effect): a write may then have reached the medium.
 */
export class AbortError extends InitiatorError {
  override readonly name = 'AbortError'
  readonly taskCompleted: boolean

  constructor(message = 'the command was aborted', options?: { cause?: unknown; taskCompleted?: boolean }) {
    super(InitiatorErrorCode.Aborted, message, options)
    this.taskCompleted = options?.taskCompleted ?? false
  }
}

/** A task management function answered with something else than "function complete" (RFC 7143 11.6.1). */
export class TaskManagementError extends InitiatorError {
  override readonly name = 'TaskManagementError'
  readonly response: number

  constructor(functionName: string, response: number) {
    super(InitiatorErrorCode.TaskManagement, `${functionName} failed: ${describeTmfResponse(response)}`)
    this.response = response
  }
}

const tmfResponseText: Readonly<Record<number, string>> = {
  0: 'function complete',
  1: 'task does not exist',
  2: 'LUN does not exist',
  3: 'task still allegiant',
  4: 'task allegiance reassignment not supported',
  5: 'task management function not supported',
  6: 'function authorization failed',
  7: 'function succeeded',
  255: 'function rejected',
}

export function describeTmfResponse(response: number): string {
  return `${tmfResponseText[response] ?? 'unknown response'} (${response})`
}

/** The target rejected a PDU we sent (RFC 7143 11.17). */
export class RejectError extends InitiatorError {
  override readonly name = 'RejectError'
  readonly reason: number

  constructor(reason: number, what: string) {
    super(InitiatorErrorCode.Reject, `the target rejected ${what}: reason 0x${reason.toString(16).padStart(2, '0')}`)
    this.reason = reason
  }
}

/** Names of SCSI status codes (SAM-5 5.3.1). */
const scsiStatusText: Readonly<Record<number, string>> = {
  0x00: 'GOOD',
  0x02: 'CHECK CONDITION',
  0x04: 'CONDITION MET',
  0x08: 'BUSY',
  0x18: 'RESERVATION CONFLICT',
  0x28: 'TASK SET FULL',
  0x30: 'ACA ACTIVE',
  0x40: 'TASK ABORTED',
}

export function describeScsiStatus(status: number): string {
  return scsiStatusText[status] ?? `status 0x${status.toString(16).padStart(2, '0')}`
}

/**
 * A command ended with a SCSI status other than GOOD (CONDITION MET counts as good). Carries the status, the
 * decoded sense (CHECK CONDITION) and a readable message such as
 * `READ(16) on LUN 1 failed: CHECK CONDITION, ILLEGAL REQUEST: logical block address out of range (21/00)`.
 */
export class ScsiCommandError extends InitiatorError {
  override readonly name = 'ScsiCommandError'
  readonly status: number
  readonly sense: DecodedSense | undefined
  readonly senseData: Buffer | undefined
  /** The command's name (`READ(16)`), or its opcode in hex. */
  readonly command: string
  readonly lun: number

  constructor(command: string, lun: number, status: number, sense: DecodedSense | undefined, senseData: Buffer | undefined) {
    super(
      InitiatorErrorCode.ScsiStatus,
      `${command} on LUN ${lun} failed: ${describeScsiStatus(status)}${sense ? `, ${sense.text}` : ''}`,
    )
    this.status = status
    this.sense = sense
    this.senseData = senseData
    this.command = command
    this.lun = lun
  }

  /** Sense key (SPC-4 4.5.6) or undefined without sense. */
  get senseKey(): number | undefined {
    return this.sense?.key
  }
}
