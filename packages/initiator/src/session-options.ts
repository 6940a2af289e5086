// Options of a session, their defaults, and the parameters a logged-in session exposes.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { ChapAlgorithmName, SessionParameters as NegotiatedSessionParameters } from '@iscsi-ts/negotiation'
import { InitiatorError, InitiatorErrorCode } from './errors.js'

export interface ChapCredentials {
  user: string
  secret: string
}

export interface ReconnectOptions {
  /** Login attempts after a connection loss before the session fails for good. */
  attempts: number
  /** Delay before the first attempt; doubles each attempt up to 16 times this (capped at 30 s). */
  backoffMs: number
}

export interface SessionOptions {
  host: string
  port?: number
  targetName: string
  /** Default `iqn.2026-11.io.iscsi-ts:initiator-<hostname>`. */
  initiatorName?: string
  initiatorAlias?: string
  /** 6-byte ISID (RFC 7143 11.12.5); default a random "Random"-format ISID (T=10b). Kept across reinstatement. */
  isid?: Buffer
  /** One-way CHAP: we prove ourselves with this user and secret. */
  chap?: ChapCredentials
  /** Mutual CHAP: the target must prove it knows this secret (and answer with this user name). */
  mutualChap?: ChapCredentials
  /** CHAP algorithms we accept, in preference order (default SHA3-256, SHA-256, SHA1, MD5; MD5 is always accepted). */
  chapAlgorithms?: ChapAlgorithmName[]
  /** Propose HeaderDigest=CRC32C (only CRC32C when true, None when false; default "None,CRC32C": the target chooses). */
  headerDigest?: boolean
  dataDigest?: boolean
  /** Connections per session when the target allows MC/S (MaxConnections > 1); default 1. */
  maxConnections?: number
  /** Default per-command timeout (30 s). */
  timeoutMs?: number
  /** Timeout of the whole login of one connection, TCP connect included (15 s). */
  loginTimeoutMs?: number
  /** Timeout of a task management function (10 s). */
  taskManagementTimeoutMs?: number
  /** Timeout of the logout exchange (10 s). */
  logoutTimeoutMs?: number
  /** Reconnect and reinstate the session after a connection loss (default { attempts: 5, backoffMs: 250 }). */
  reconnect?: ReconnectOptions | false
  /** TargetAddress redirections (login status 0x0101/0x0102) followed at most (default 5). */
  maxRedirects?: number
  /** What we declare as MaxRecvDataSegmentLength (default 256 KiB). */
  maxRecvDataSegmentLength?: number
  /** Proposed MaxBurstLength (default 16776192, the largest multiple of 1024 under 2^24) and FirstBurstLength (default 256 KiB). */
  maxBurstLength?: number
  firstBurstLength?: number
  /** Propose ImmediateData=Yes (default true) and InitialR2T=No (default false). */
  immediateData?: boolean
  initialR2T?: boolean
  /** Send a NOP-Out ping on idle connections every intervalMs; no answer within timeoutMs fails the connection. */
  keepalive?: { intervalMs: number; timeoutMs: number }
}

/** The negotiated parameters of a logged-in session (RFC 7143 13), with its identity. */
export interface SessionParameters extends NegotiatedSessionParameters {
  /** The ISID as 12 hex digits. */
  readonly isid: string
  readonly tsih: number
  readonly headerDigest: 'None' | 'CRC32C'
  readonly dataDigest: 'None' | 'CRC32C'
  /** What we declared we receive per PDU. */
  readonly maxRecvDataSegmentLength: number
  /** What the target declared it receives per PDU: the largest data segment we send. */
  readonly maxXmitDataSegmentLength: number
  /** The portal of the leading connection (after any redirection). */
  readonly portal: { readonly host: string; readonly port: number }
  /** Connections in the session. */
  readonly connections: number
}

export const DEFAULTS = {
  port: 3260,
  timeoutMs: 30_000,
  loginTimeoutMs: 15_000,
  taskManagementTimeoutMs: 10_000,
  logoutTimeoutMs: 10_000,
  pingTimeoutMs: 10_000,
  reconnect: { attempts: 5, backoffMs: 250 },
  maxRedirects: 5,
  maxRecvDataSegmentLength: 262_144,
  maxBurstLength: 16_776_192,
  firstBurstLength: 262_144,
  maxOutstandingR2T: 16,
  /** A task reissued after reconnects more often than this fails. */
  maxCommandRetries: 3,
  /** UNIT ATTENTION answers retried per command (the command was not executed, SAM-5 5.14). */
  maxUnitAttentionRetries: 8,
} as const

/** The default initiator name: `iqn.2026-11.io.iscsi-ts:initiator-<hostname>` (RFC 3720 3.2.6.3.1 characters). */
export function defaultInitiatorName(): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^-+|-+$/g, '')
  return `iqn.2026-11.io.iscsi-ts:initiator-${host === '' ? 'localhost' : host}`
}

/** A random ISID in the "Random" format: T = 10b, A = 0, B and C random, D a random qualifier (RFC 7143 11.12.5). */
export function randomIsid(): Buffer {
  const isid = randomBytes(6)
  isid[0] = 0x80
  return isid
}

function positiveInteger(name: string, value: number | undefined, min = 1, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InitiatorError(InitiatorErrorCode.InvalidArgument, `${name} must be an integer in ${min}..${max}, not ${String(value)}`)
  }
}

/** Throws InitiatorError ISCSI_ERR_INVALID_ARGUMENT on nonsense options. */
export function validateSessionOptions(options: SessionOptions): void {
  if (typeof options.host !== 'string' || options.host === '') throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'host is required')
  if (typeof options.targetName !== 'string' || options.targetName === '') {
    throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'targetName is required')
  }
  positiveInteger('port', options.port, 1, 65535)
  positiveInteger('maxConnections', options.maxConnections, 1, 65535)
  positiveInteger('timeoutMs', options.timeoutMs)
  positiveInteger('loginTimeoutMs', options.loginTimeoutMs)
  positiveInteger('taskManagementTimeoutMs', options.taskManagementTimeoutMs)
  positiveInteger('logoutTimeoutMs', options.logoutTimeoutMs)
  positiveInteger('maxRedirects', options.maxRedirects, 0, 100)
  positiveInteger('maxRecvDataSegmentLength', options.maxRecvDataSegmentLength, 512, 0xffffff)
  positiveInteger('maxBurstLength', options.maxBurstLength, 512, 0xffffff)
  positiveInteger('firstBurstLength', options.firstBurstLength, 512, 0xffffff)
  if (options.isid !== undefined && (!Buffer.isBuffer(options.isid) || options.isid.length !== 6)) {
    throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'isid must be a 6-byte Buffer')
  }
  if (options.reconnect) {
    positiveInteger('reconnect.attempts', options.reconnect.attempts, 0, 1_000_000)
    positiveInteger('reconnect.backoffMs', options.reconnect.backoffMs, 0)
  }
  if (options.keepalive) {
    positiveInteger('keepalive.intervalMs', options.keepalive.intervalMs)
    positiveInteger('keepalive.timeoutMs', options.keepalive.timeoutMs)
  }
  for (const [name, creds] of [['chap', options.chap], ['mutualChap', options.mutualChap]] as const) {
    if (creds !== undefined && (typeof creds.user !== 'string' || creds.user === '' || typeof creds.secret !== 'string' || creds.secret === '')) {
      throw new InitiatorError(InitiatorErrorCode.InvalidArgument, `${name} needs a non-empty user and secret`)
    }
  }
  if (options.mutualChap !== undefined && options.chap === undefined) {
    throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'mutualChap needs chap (RFC 7143 12.1.3: the initiator authenticates first)')
  }
}
