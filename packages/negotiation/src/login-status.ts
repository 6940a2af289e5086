// Login Response status classes and details with readable text (RFC 7143 11.13.5).
import type { LoginStatusCode } from './types.js'

/** Every Status-Class/Status-Detail pair of RFC 7143 11.13.5, by name. */
export const LoginStatus = {
  SUCCESS: { statusClass: 0x00, statusDetail: 0x00 },
  TARGET_MOVED_TEMPORARILY: { statusClass: 0x01, statusDetail: 0x01 },
  TARGET_MOVED_PERMANENTLY: { statusClass: 0x01, statusDetail: 0x02 },
  INITIATOR_ERROR: { statusClass: 0x02, statusDetail: 0x00 },
  AUTHENTICATION_FAILURE: { statusClass: 0x02, statusDetail: 0x01 },
  AUTHORIZATION_FAILURE: { statusClass: 0x02, statusDetail: 0x02 },
  NOT_FOUND: { statusClass: 0x02, statusDetail: 0x03 },
  TARGET_REMOVED: { statusClass: 0x02, statusDetail: 0x04 },
  UNSUPPORTED_VERSION: { statusClass: 0x02, statusDetail: 0x05 },
  TOO_MANY_CONNECTIONS: { statusClass: 0x02, statusDetail: 0x06 },
  MISSING_PARAMETER: { statusClass: 0x02, statusDetail: 0x07 },
  CANT_INCLUDE_IN_SESSION: { statusClass: 0x02, statusDetail: 0x08 },
  SESSION_TYPE_NOT_SUPPORTED: { statusClass: 0x02, statusDetail: 0x09 },
  SESSION_DOES_NOT_EXIST: { statusClass: 0x02, statusDetail: 0x0a },
  INVALID_DURING_LOGIN: { statusClass: 0x02, statusDetail: 0x0b },
  TARGET_ERROR: { statusClass: 0x03, statusDetail: 0x00 },
  SERVICE_UNAVAILABLE: { statusClass: 0x03, statusDetail: 0x01 },
  OUT_OF_RESOURCES: { statusClass: 0x03, statusDetail: 0x02 },
} as const satisfies Record<string, LoginStatusCode>
export type LoginStatusName = keyof typeof LoginStatus

/** Status-Class values (RFC 7143 11.13.5). */
export const LoginStatusClass = {
  SUCCESS: 0,
  REDIRECTION: 1,
  INITIATOR_ERROR: 2,
  TARGET_ERROR: 3,
} as const
export type LoginStatusClass = (typeof LoginStatusClass)[keyof typeof LoginStatusClass]

const TEXT: Readonly<Record<LoginStatusName, string>> = {
  SUCCESS: 'Login is proceeding OK',
  TARGET_MOVED_TEMPORARILY: 'The requested iSCSI target name has temporarily moved to the address provided',
  TARGET_MOVED_PERMANENTLY: 'The requested iSCSI target name has permanently moved to the address provided',
  INITIATOR_ERROR: 'Miscellaneous iSCSI initiator errors',
  AUTHENTICATION_FAILURE: 'The initiator could not be successfully authenticated or target authentication is not supported',
  AUTHORIZATION_FAILURE: 'The initiator is not allowed access to the given target',
  NOT_FOUND: 'The requested iSCSI target name does not exist at this address',
  TARGET_REMOVED: 'The requested iSCSI target name has been removed and no forwarding address is provided',
  UNSUPPORTED_VERSION: 'The requested iSCSI version range is not supported by the target',
  TOO_MANY_CONNECTIONS: 'Too many connections on this session',
  MISSING_PARAMETER: 'Missing parameters (e.g., iSCSI initiator name and/or target name)',
  CANT_INCLUDE_IN_SESSION: 'The target does not support session spanning to this connection (address)',
  SESSION_TYPE_NOT_SUPPORTED: 'The target does not support this type of session or not from this initiator',
  SESSION_DOES_NOT_EXIST: 'Attempt to add a connection to a non-existent session',
  INVALID_DURING_LOGIN: 'Invalid request type during login',
  TARGET_ERROR: 'Target hardware or software error',
  SERVICE_UNAVAILABLE: 'The iSCSI service or target is not currently operational',
  OUT_OF_RESOURCES: 'The target has insufficient session, connection, or other resources',
}

const BY_CODE = new Map<number, LoginStatusName>(
  (Object.keys(LoginStatus) as LoginStatusName[]).map((name) => [
    (LoginStatus[name].statusClass << 8) | LoginStatus[name].statusDetail,
    name,
  ]),
)

/** The table name of a status, or undefined for a pair RFC 7143 does not define. */
export function loginStatusName(statusClass: number, statusDetail: number): LoginStatusName | undefined {
  return BY_CODE.get(((statusClass & 0xff) << 8) | (statusDetail & 0xff))
}

/** Readable text for a status; unknown pairs are described by their class. */
export function loginStatusText(statusClass: number, statusDetail: number): string {
  const name = loginStatusName(statusClass, statusDetail)
  if (name !== undefined) return TEXT[name]
  const hex = `0x${((statusClass << 8) | statusDetail).toString(16).padStart(4, '0')}`
  switch (statusClass) {
    case LoginStatusClass.SUCCESS:
      return `Success (${hex})`
    case LoginStatusClass.REDIRECTION:
      return `Redirection (${hex})`
    case LoginStatusClass.INITIATOR_ERROR:
      return `Initiator error (${hex})`
    case LoginStatusClass.TARGET_ERROR:
      return `Target error (${hex})`
    default:
      return `Unknown login status (${hex})`
  }
}

/** True for class 1 (redirection): the data segment carries TargetAddress (RFC 7143 11.13.5). */
export function isRedirect(statusClass: number): boolean {
  return statusClass === LoginStatusClass.REDIRECTION
}
