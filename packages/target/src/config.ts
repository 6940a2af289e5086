// The public configuration types of the target (docs/TARGET-CONTRACT.md) and their validation into a resolved,
// defaulted form the rest of the package reads.
import { isIP } from 'node:net'
import type { LogicalUnit } from '@iscsi-ts/scsi'
import { TargetConfigError } from './errors.js'

export interface PortalConfig {
  host: string
  port: number
}

/** A target portal group (RFC 7143 4.4.1): its tag (TPGT) and its network portals. */
export interface PortalGroupConfig {
  tag: number
  portals: PortalConfig[]
}

export interface ChapCredentials {
  user: string
  secret: string
}

export type ChapAlgorithmName = 'MD5' | 'SHA1' | 'SHA-256' | 'SHA3-256'

export interface AuthConfig {
  /** One-way CHAP: the initiator must prove it knows this user's secret. */
  chap?: ChapCredentials
  /** Mutual CHAP: the target proves itself with these. */
  mutual?: ChapCredentials
  algorithms?: ChapAlgorithmName[]
}

export interface AclConfig {
  /** Initiator IQN (exact, case-insensitive per RFC 3722 stringprep) or '*' (any). */
  initiator: string
  /** Initiator-visible LUN -> target LUN; absent = all LUNs under their own numbers. */
  luns?: Record<number, number>
  /** Per-ACL CHAP, overrides the target's. */
  auth?: AuthConfig
}

export interface TargetConfig {
  name: string
  alias?: string
  portalGroups: number[]
  luns: Map<number, LogicalUnit>
  acls?: AclConfig[]
  auth?: AuthConfig
}

export interface Limits {
  maxRecvDataSegmentLength?: number
  maxBurstLength?: number
  firstBurstLength?: number
  maxOutstandingR2T?: number
  /** Per session. */
  maxConnections?: number
  immediateData?: boolean
  initialR2T?: boolean
  headerDigest?: Array<'CRC32C' | 'None'>
  dataDigest?: Array<'CRC32C' | 'None'>
  /** CmdSN window per session (commands in flight). */
  queueDepth?: number
  /** Per target process. */
  maxSessions?: number
  maxConnectionsPerInitiatorAddress?: number
  loginTimeoutMs?: number
  /** 0 = off. */
  nopInIntervalMs?: number
  nopInTimeoutMs?: number
  /** Extension: largest data-out one command may transfer (bytes); larger writes end in CHECK CONDITION. Default 64 MiB. */
  maxDataTransferLength?: number
  /** Extension: bytes of write data buffered across the whole target; beyond it new writes get TASK SET FULL. Default 1 GiB. */
  maxPendingWriteBytes?: number
  /** Extension: bytes queued on one socket before the connection stops reading new PDUs. Default 4 MiB. */
  sendHighWaterMark?: number
  /**
   * Extension: failed CHAP responses from one source address within `loginFailureWindowMs` after which its logins
   * that must authenticate are refused with 0x0301 for `loginLockoutMs` (doubled per further lock-out, up to 16
   * times). Default 5; 0 = off.
   */
  loginFailureLimit?: number
  /** Extension: the window counting authentication failures per address. Default 60000 ms. */
  loginFailureWindowMs?: number
  /** Extension: how long an address is refused after too many authentication failures. Default 60000 ms. */
  loginLockoutMs?: number
  /** Extension: source addresses the login throttle remembers at most (least recently failing forgotten first). Default 4096. */
  loginThrottleAddresses?: number
}

export interface IscsiTargetOptions {
  portalGroups: PortalGroupConfig[]
  targets: TargetConfig[]
  /** CHAP for discovery sessions. */
  discoveryAuth?: AuthConfig
  limits?: Limits
}

export interface ResolvedLimits {
  readonly maxRecvDataSegmentLength: number
  readonly maxBurstLength: number
  readonly firstBurstLength: number
  readonly maxOutstandingR2T: number
  readonly maxConnections: number
  readonly immediateData: boolean
  readonly initialR2T: boolean
  readonly headerDigest: ReadonlyArray<'CRC32C' | 'None'>
  readonly dataDigest: ReadonlyArray<'CRC32C' | 'None'>
  readonly queueDepth: number
  readonly maxSessions: number
  readonly maxConnectionsPerInitiatorAddress: number
  readonly loginTimeoutMs: number
  readonly nopInIntervalMs: number
  readonly nopInTimeoutMs: number
  readonly maxDataTransferLength: number
  readonly maxPendingWriteBytes: number
  readonly sendHighWaterMark: number
  readonly loginFailureLimit: number
  readonly loginFailureWindowMs: number
  readonly loginLockoutMs: number
  readonly loginThrottleAddresses: number
}

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxRecvDataSegmentLength: 262144,
  // The contract says 16 MiB; RFC 7143 13.13 caps MaxBurstLength at 2^24-1, so the default is that.
  maxBurstLength: 0xffffff,
  firstBurstLength: 262144,
  maxOutstandingR2T: 8,
  maxConnections: 4,
  immediateData: true,
  initialR2T: false,
  headerDigest: ['None', 'CRC32C'],
  dataDigest: ['None', 'CRC32C'],
  queueDepth: 128,
  maxSessions: 4096,
  maxConnectionsPerInitiatorAddress: Number.POSITIVE_INFINITY,
  loginTimeoutMs: 15000,
  nopInIntervalMs: 5000,
  nopInTimeoutMs: 30000,
  maxDataTransferLength: 64 * 1024 * 1024,
  maxPendingWriteBytes: 1024 * 1024 * 1024,
  sendHighWaterMark: 4 * 1024 * 1024,
  loginFailureLimit: 5,
  loginFailureWindowMs: 60000,
  loginLockoutMs: 60000,
  loginThrottleAddresses: 4096,
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TargetConfigError(`limits.${name} must be an integer in ${min}..${max}, got ${String(value)}`)
  }
  return value
}

function digests(name: string, value: Array<'CRC32C' | 'None'> | undefined, fallback: ReadonlyArray<'CRC32C' | 'None'>): ReadonlyArray<'CRC32C' | 'None'> {
  if (value === undefined) return fallback
  if (value.length === 0 || value.some((d) => d !== 'CRC32C' && d !== 'None') || new Set(value).size !== value.length) {
    throw new TargetConfigError(`limits.${name} must list 'CRC32C' and/or 'None' once each`)
  }
  return [...value]
}

/** Validate and default the limits (ranges from RFC 7143 13). */
export function resolveLimits(limits: Limits = {}): ResolvedLimits {
  const d = DEFAULT_LIMITS
  const maxBurstLength = integer('maxBurstLength', limits.maxBurstLength, d.maxBurstLength, 512, 0xffffff)
  const firstBurstLength = integer('firstBurstLength', limits.firstBurstLength, Math.min(d.firstBurstLength, maxBurstLength), 512, 0xffffff)
  if (firstBurstLength > maxBurstLength) {
    throw new TargetConfigError('limits.firstBurstLength must not exceed limits.maxBurstLength (RFC 7143 13.14)')
  }
  const nopInIntervalMs = integer('nopInIntervalMs', limits.nopInIntervalMs, d.nopInIntervalMs, 0, 3_600_000)
  return {
    maxRecvDataSegmentLength: integer('maxRecvDataSegmentLength', limits.maxRecvDataSegmentLength, d.maxRecvDataSegmentLength, 512, 0xffffff),
    maxBurstLength,
    firstBurstLength,
    maxOutstandingR2T: integer('maxOutstandingR2T', limits.maxOutstandingR2T, d.maxOutstandingR2T, 1, 65535),
    maxConnections: integer('maxConnections', limits.maxConnections, d.maxConnections, 1, 65535),
    immediateData: limits.immediateData ?? d.immediateData,
    initialR2T: limits.initialR2T ?? d.initialR2T,
    headerDigest: digests('headerDigest', limits.headerDigest, d.headerDigest),
    dataDigest: digests('dataDigest', limits.dataDigest, d.dataDigest),
    queueDepth: integer('queueDepth', limits.queueDepth, d.queueDepth, 1, 65536),
    maxSessions: integer('maxSessions', limits.maxSessions, d.maxSessions, 1, 65535),
    maxConnectionsPerInitiatorAddress:
      limits.maxConnectionsPerInitiatorAddress === undefined
        ? d.maxConnectionsPerInitiatorAddress
        : integer('maxConnectionsPerInitiatorAddress', limits.maxConnectionsPerInitiatorAddress, 0, 1, 1_000_000),
    loginTimeoutMs: integer('loginTimeoutMs', limits.loginTimeoutMs, d.loginTimeoutMs, 1, 3_600_000),
    nopInIntervalMs,
    nopInTimeoutMs: integer('nopInTimeoutMs', limits.nopInTimeoutMs, d.nopInTimeoutMs, 1, 3_600_000),
    maxDataTransferLength: integer('maxDataTransferLength', limits.maxDataTransferLength, d.maxDataTransferLength, 512, 0xffffffff),
    maxPendingWriteBytes: integer('maxPendingWriteBytes', limits.maxPendingWriteBytes, d.maxPendingWriteBytes, 512, Number.MAX_SAFE_INTEGER),
    sendHighWaterMark: integer('sendHighWaterMark', limits.sendHighWaterMark, d.sendHighWaterMark, 65536, Number.MAX_SAFE_INTEGER),
    loginFailureLimit: integer('loginFailureLimit', limits.loginFailureLimit, d.loginFailureLimit, 0, 1_000_000),
    loginFailureWindowMs: integer('loginFailureWindowMs', limits.loginFailureWindowMs, d.loginFailureWindowMs, 1, 86_400_000),
    loginLockoutMs: integer('loginLockoutMs', limits.loginLockoutMs, d.loginLockoutMs, 1, 86_400_000),
    loginThrottleAddresses: integer('loginThrottleAddresses', limits.loginThrottleAddresses, d.loginThrottleAddresses, 1, 1_000_000),
  }
}

const NAME = /^(iqn\.\d{4}-\d{2}(\.[a-z0-9-]+)+(:.+)?|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16}([0-9a-f]{16})?)$/i

/** iSCSI names (RFC 7143 4.2.7.1): iqn., eui. or naa. formats, at most 223 bytes. */
export function isIscsiName(name: string): boolean {
  return Buffer.byteLength(name) <= 223 && NAME.test(name)
}

/** iSCSI names compare case-insensitively after stringprep (RFC 3722); lower-casing covers the ASCII names in use. */
export function normalizeName(name: string): string {
  return name.toLowerCase()
}

function checkAuth(where: string, auth: AuthConfig | undefined): void {
  if (auth === undefined) return
  for (const [key, creds] of [['chap', auth.chap], ['mutual', auth.mutual]] as const) {
    if (creds === undefined) continue
    if (typeof creds.user !== 'string' || creds.user.length === 0 || typeof creds.secret !== 'string' || creds.secret.length === 0) {
      throw new TargetConfigError(`${where}.${key} needs a non-empty user and secret`)
    }
  }
  if (auth.mutual !== undefined && auth.chap === undefined) {
    throw new TargetConfigError(`${where}.mutual needs ${where}.chap: mutual CHAP follows one-way CHAP (RFC 7143 12.1.3)`)
  }
  if (auth.chap !== undefined && auth.mutual !== undefined && auth.chap.secret === auth.mutual.secret) {
    throw new TargetConfigError(`${where}: the mutual secret must differ from the initiator's (RFC 7143 12.1.3)`)
  }
  if (auth.algorithms !== undefined) {
    const known = ['MD5', 'SHA1', 'SHA-256', 'SHA3-256']
    if (auth.algorithms.length === 0 || auth.algorithms.some((a) => !known.includes(a))) {
      throw new TargetConfigError(`${where}.algorithms must list some of ${known.join(', ')}`)
    }
  }
}

/** LUNs this package addresses: SAM-5 peripheral (0..255) and flat (0..16383) addressing. */
export const MAX_LUN = 16383

/** Validate the whole options object; throws TargetConfigError with the first problem found. */
export function validateOptions(options: IscsiTargetOptions): void {
  if (typeof options !== 'object' || options === null) throw new TargetConfigError('options must be an object')
  if (!Array.isArray(options.portalGroups) || options.portalGroups.length === 0) {
    throw new TargetConfigError('portalGroups must list at least one portal group')
  }
  const tags = new Set<number>()
  for (const group of options.portalGroups) {
    if (!Number.isInteger(group.tag) || group.tag < 1 || group.tag > 65535) {
      throw new TargetConfigError(`portal group tag ${String(group.tag)} must be an integer in 1..65535 (RFC 7143 13.9)`)
    }
    if (tags.has(group.tag)) throw new TargetConfigError(`portal group tag ${group.tag} is defined twice`)
    tags.add(group.tag)
    if (!Array.isArray(group.portals) || group.portals.length === 0) {
      throw new TargetConfigError(`portal group ${group.tag} has no portals`)
    }
    for (const portal of group.portals) {
      if (isIP(portal.host) === 0) throw new TargetConfigError(`portal host ${String(portal.host)} is not an IPv4 or IPv6 address`)
      if (!Number.isInteger(portal.port) || portal.port < 0 || portal.port > 65535) {
        throw new TargetConfigError(`portal port ${String(portal.port)} must be an integer in 0..65535`)
      }
    }
  }
  if (!Array.isArray(options.targets)) throw new TargetConfigError('targets must be an array')
  const names = new Set<string>()
  for (const target of options.targets) {
    if (typeof target.name !== 'string' || !isIscsiName(target.name)) {
      throw new TargetConfigError(`target name ${String(target.name)} is not an iqn., eui. or naa. name (RFC 7143 4.2.7)`)
    }
    const key = normalizeName(target.name)
    if (names.has(key)) throw new TargetConfigError(`target ${target.name} is defined twice`)
    names.add(key)
    if (!Array.isArray(target.portalGroups) || target.portalGroups.length === 0) {
      throw new TargetConfigError(`target ${target.name} lists no portal groups`)
    }
    for (const tag of target.portalGroups) {
      if (!tags.has(tag)) throw new TargetConfigError(`target ${target.name} names unknown portal group ${tag}`)
    }
    if (!(target.luns instanceof Map)) throw new TargetConfigError(`target ${target.name}: luns must be a Map`)
    for (const lun of target.luns.keys()) {
      if (!Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) {
        throw new TargetConfigError(`target ${target.name}: LUN ${lun} must be an integer in 0..${MAX_LUN}`)
      }
    }
    checkAuth(`target ${target.name} auth`, target.auth)
    for (const acl of target.acls ?? []) {
      if (typeof acl.initiator !== 'string' || (acl.initiator !== '*' && !isIscsiName(acl.initiator))) {
        throw new TargetConfigError(`target ${target.name}: ACL initiator ${String(acl.initiator)} is not '*' or an iSCSI name`)
      }
      checkAuth(`target ${target.name} ACL ${acl.initiator} auth`, acl.auth)
      for (const [visible, real] of Object.entries(acl.luns ?? {})) {
        const v = Number(visible)
        if (!Number.isInteger(v) || v < 0 || v > MAX_LUN) {
          throw new TargetConfigError(`target ${target.name}: ACL ${acl.initiator} maps LUN ${visible}, not in 0..${MAX_LUN}`)
        }
        if (!target.luns.has(real)) {
          throw new TargetConfigError(`target ${target.name}: ACL ${acl.initiator} maps LUN ${visible} to missing LUN ${real}`)
        }
      }
    }
  }
  checkAuth('discoveryAuth', options.discoveryAuth)
  resolveLimits(options.limits)
}
