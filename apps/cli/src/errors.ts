// Errors of the CLI and how any failure becomes one line on stderr and an exit code. The CLI never invents
// protocol meaning: SCSI failures carry the sense data the initiator decoded, login failures the status class and
// detail the target sent (RFC 7143 11.13.5), connection failures the socket error.
import type { InitiatorErrorCode } from '@iscsi-ts/initiator'
import { SenseKeyText, ascText, senseKeyName } from '@iscsi-ts/scsi'

/** Exit codes, documented in `iscsi --help`. */
export const ExitCode = {
  OK: 0,
  /** Runtime or I/O error (files, verification mismatch, interrupted). */
  FAILURE: 1,
  /** Bad arguments or usage. */
  USAGE: 2,
  /** Login refused: authentication or authorization failure, target not found. */
  LOGIN: 3,
  /** A SCSI command ended with CHECK CONDITION or another non-GOOD status. */
  SCSI: 4,
  /** Connection refused, lost or timed out. */
  CONNECTION: 5,
} as const

export type ExitCodeName = keyof typeof ExitCode
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName]

/** Base error of the CLI: a message for the user, a string code, and the exit code it ends the process with. */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  readonly code: string
  readonly exitCode: ExitCodeValue

  constructor(code: string, message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.exitCode = exitCode
  }
}

/** Bad arguments: exit 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError'
  constructor(message: string) {
    super('ISCSI_CLI_USAGE', message, ExitCode.USAGE)
  }
}

/** A named step failed (`read`, `login`, `write`): the message reads `read failed: <cause>`. */
export class StepError extends CliError {
  override readonly name = 'StepError'
  readonly step: string
  constructor(step: string, cause: unknown) {
    const described = describeCause(cause)
    // The initiator may already say "login failed: ..."; say it once.
    const message = described.message.toLowerCase().startsWith(`${step.toLowerCase()} failed`) ? described.message : `${step} failed: ${described.message}`
    super(described.code, message, described.exitCode, { cause })
    this.step = step
  }
}

/** Run `fn`, naming the step if it fails. CliErrors that already name a step pass through. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof CliError) throw error
    throw new StepError(name, error)
  }
}

/** Decoded sense as the initiator reports it (SPC-4 4.5). */
export interface SenseInfo {
  readonly key: number
  readonly asc: number
  readonly ascq: number
  readonly text?: string
}

// SCSI status names (SAM-5 5.3.1) for failures without sense data.
const STATUS_NAMES: Record<number, string> = {
  0x02: 'CHECK CONDITION', 0x04: 'CONDITION MET', 0x08: 'BUSY', 0x18: 'RESERVATION CONFLICT',
  0x28: 'TASK SET FULL', 0x30: 'ACA ACTIVE', 0x40: 'TASK ABORTED',
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`

/** `ILLEGAL REQUEST: logical block address out of range (0x21/0x00)`, with @iscsi-ts/scsi's tables (SPC-4 4.5.6). */
export function formatSense(sense: SenseInfo): string {
  const name = senseKeyName(sense.key)
  const key = name === undefined ? `SENSE KEY ${hex2(sense.key)}` : SenseKeyText[name]
  return `${key}: ${ascText(sense.asc, sense.ascq)} (${hex2(sense.asc)}/${hex2(sense.ascq)})`
}

/** `RESERVATION CONFLICT (status 0x18)`. */
export function formatStatus(status: number): string {
  return `${STATUS_NAMES[status] ?? 'status'} (status ${hex2(status)})`
}

interface Described {
  readonly code: string
  readonly message: string
  readonly exitCode: ExitCodeValue
  readonly sense?: SenseInfo
  readonly status?: number
}

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'EADDRNOTAVAIL', 'ECONNABORTED',
])

/** The exit code of every @iscsi-ts/initiator error code (the compiler checks none is missing). */
const INITIATOR_EXIT_CODES = {
  ISCSI_ERR_URL: ExitCode.USAGE,
  ISCSI_ERR_INVALID_ARGUMENT: ExitCode.FAILURE,
  // Login status classes 1-3 (RFC 7143 11.13.5) and a negotiation we could not accept: the login was refused.
  ISCSI_ERR_LOGIN: ExitCode.LOGIN,
  ISCSI_ERR_LOGIN_AUTH: ExitCode.LOGIN,
  ISCSI_ERR_LOGIN_AUTHORIZATION: ExitCode.LOGIN,
  ISCSI_ERR_LOGIN_NOT_FOUND: ExitCode.LOGIN,
  ISCSI_ERR_LOGIN_TARGET: ExitCode.LOGIN,
  ISCSI_ERR_LOGIN_REDIRECT: ExitCode.LOGIN,
  ISCSI_ERR_NEGOTIATION: ExitCode.LOGIN,
  ISCSI_ERR_TIMEOUT: ExitCode.CONNECTION,
  ISCSI_ERR_CONNECTION: ExitCode.CONNECTION,
  ISCSI_ERR_PROTOCOL: ExitCode.CONNECTION,
  ISCSI_ERR_SESSION_CLOSED: ExitCode.CONNECTION,
  ISCSI_ERR_ABORTED: ExitCode.FAILURE,
  ISCSI_ERR_SCSI_STATUS: ExitCode.SCSI,
  ISCSI_ERR_SCSI_RESPONSE: ExitCode.SCSI,
  ISCSI_ERR_TASK_MANAGEMENT: ExitCode.FAILURE,
  ISCSI_ERR_REJECT: ExitCode.FAILURE,
  ISCSI_ERR_LOGOUT: ExitCode.FAILURE,
} as const satisfies Record<InitiatorErrorCode, ExitCodeValue>

function initiatorExitCode(code: string): ExitCodeValue | undefined {
  return (INITIATOR_EXIT_CODES as Readonly<Record<string, ExitCodeValue>>)[code]
}

function field(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name]
}

function asSense(value: unknown): SenseInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const key = field(value, 'key') ?? field(value, 'senseKey')
  const asc = field(value, 'asc')
  const ascq = field(value, 'ascq')
  if (typeof key !== 'number' || typeof asc !== 'number' || typeof ascq !== 'number') return undefined
  const text = field(value, 'text') ?? field(value, 'description')
  return { key, asc, ascq, ...(typeof text === 'string' ? { text } : {}) }
}

/** Classify any thrown value: its message for the user, a code and the exit code. */
export function describeCause(error: unknown): Described {
  if (error instanceof CliError) return { code: error.code, message: error.message, exitCode: error.exitCode }
  if (!(error instanceof Error)) return { code: 'ISCSI_CLI_UNKNOWN', message: String(error), exitCode: ExitCode.FAILURE }
  const code = typeof field(error, 'code') === 'string' ? (field(error, 'code') as string) : ''
  const status = field(error, 'status')
  const sense = asSense(field(error, 'sense')) ?? (typeof field(error, 'senseKey') === 'number' ? asSense(error) : undefined)
  // SCSI: a non-GOOD status, with sense when it was CHECK CONDITION.
  if (sense !== undefined) {
    return { code: code || 'ISCSI_ERR_SCSI', message: formatSense(sense), exitCode: ExitCode.SCSI, sense, ...(typeof status === 'number' ? { status } : {}) }
  }
  const exitCode = initiatorExitCode(code) ?? (CONNECTION_ERRNOS.has(code) ? ExitCode.CONNECTION : undefined)
  if (exitCode === ExitCode.SCSI || (exitCode === undefined && (error.name === 'StatusError' || code.startsWith('ISCSI_ERR_SCSI')))) {
    // A status without sense: RESERVATION CONFLICT, BUSY, TASK SET FULL (SAM-5 5.3.1).
    const text = typeof status === 'number' && status !== 0x02 ? formatStatus(status) : error.message
    return { code: code || 'ISCSI_ERR_SCSI', message: text, exitCode: ExitCode.SCSI, ...(typeof status === 'number' ? { status } : {}) }
  }
  if (exitCode === ExitCode.CONNECTION) return { code, message: connectionMessage(error, code), exitCode }
  if (code === 'ISCSI_ERR_ABORTED' || code === 'ABORT_ERR' || error.name === 'AbortError') {
    return { code: 'ISCSI_CLI_INTERRUPTED', message: 'interrupted', exitCode: ExitCode.FAILURE }
  }
  if (exitCode !== undefined) return { code, message: error.message, exitCode }
  return { code: code || 'ISCSI_CLI_FAILURE', message: error.message, exitCode: ExitCode.FAILURE }
}

function connectionMessage(error: Error, code: string): string {
  const address = field(error, 'address')
  const port = field(error, 'port')
  if (typeof address === 'string' && code === 'ECONNREFUSED') return `connection refused by ${address}${typeof port === 'number' ? `:${port}` : ''}`
  return error.message
}

/** What `--json` prints on stdout when a command fails. */
export function errorDocument(error: unknown): { error: { code: string; message: string; exitCode: number; sense?: SenseInfo; status?: number } } {
  const described = error instanceof StepError ? { ...describeCause(error.cause), message: error.message } : describeCause(error)
  return {
    error: {
      code: described.code,
      message: described.message,
      exitCode: described.exitCode,
      ...(described.sense ? { sense: described.sense } : {}),
      ...(described.status !== undefined ? { status: described.status } : {}),
    },
  }
}
