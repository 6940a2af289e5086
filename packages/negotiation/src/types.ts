// Public types of @iscsi-ts/negotiation. The package is transport-free: it works on data-segment Buffers and
// login stage numbers; the target and initiator packages glue it to PDUs (RFC 7143 6, 11.10-11.13, 12, 13).
import type { ChapChallengeCache } from './chap.js'
import type { NegotiationError } from './errors.js'
import type { RejectReason } from '@iscsi-ts/pdu'

// Login stages (CSG/NSG, RFC 7143 11.12.3) and Reject reasons (RFC 7143 11.17.1) are the PDU layer's tables:
// negotiation answers in the same numbers the PDUs carry.
export { LoginStage, RESERVED_TAG, RejectReason } from '@iscsi-ts/pdu'

/** One key=value pair, in wire order (RFC 7143 6.1). */
export interface TextPair {
  readonly key: string
  readonly value: string
}

/** Login status class/detail (RFC 7143 11.13.5). */
export interface LoginStatusCode {
  readonly statusClass: number
  readonly statusDetail: number
}

/** The wire reaction carried by every NegotiationError. */
export type NegotiationReaction =
  | { readonly kind: 'login'; readonly statusClass: number; readonly statusDetail: number }
  | { readonly kind: 'reject'; readonly reason: RejectReason }

export type DigestName = 'None' | 'CRC32C'
export type AuthMethodName = 'CHAP' | 'None'
export type SessionTypeName = 'Normal' | 'Discovery'
export type TaskReportingName = 'RFC3720' | 'ResponseFence' | 'FastAbort'
export type NegotiationRole = 'initiator' | 'target'

/** CHAP_A algorithm identifiers (IANA "PPP Authentication Algorithms"; RFC 7143 12.1.3). */
export const ChapAlgorithm = {
  MD5: 5,
  SHA1: 6,
  'SHA-256': 7,
  'SHA3-256': 8,
} as const
export type ChapAlgorithm = (typeof ChapAlgorithm)[keyof typeof ChapAlgorithm]
export type ChapAlgorithmName = keyof typeof ChapAlgorithm

/** A CHAP secret; strings are taken as UTF-8. Never logged, never put into an error or an event. */
export type ChapSecret = string | Uint8Array

/**
 * Local operational preferences. For the initiator these are the values it proposes; for the target they are its
 * limits and preferences used to answer (and, when a default is unacceptable, to propose). RFC 7143 13.
 */
export interface OperationalPreferences {
  /** What we declare we can receive (RFC 7143 13.12, declarative per direction). */
  readonly maxRecvDataSegmentLength?: number
  readonly maxBurstLength?: number
  readonly firstBurstLength?: number
  readonly maxConnections?: number
  readonly maxOutstandingR2T?: number
  readonly immediateData?: boolean
  readonly initialR2T?: boolean
  readonly dataPDUInOrder?: boolean
  readonly dataSequenceInOrder?: boolean
  readonly defaultTime2Wait?: number
  readonly defaultTime2Retain?: number
  /** Highest ErrorRecoveryLevel supported / proposed (RFC 7143 13.20). */
  readonly errorRecoveryLevel?: number
  /** Digests in preference order (RFC 7143 13.1). */
  readonly headerDigest?: readonly DigestName[]
  readonly dataDigest?: readonly DigestName[]
  readonly taskReporting?: readonly TaskReportingName[]
  readonly iscsiProtocolLevel?: number
  /**
   * Private / public extension keys (`X-...`, `X#...`, RFC 7143 13.5.4/6.2) this side understands: the handler gets
   * the offered value and returns the answer. Unconfigured private keys are answered NotUnderstood.
   */
  readonly privateKeys?: Readonly<Record<string, (offered: string) => string>>
}

/** Negotiated session-wide parameters (frozen). RFC 7143 13. */
export interface SessionParameters {
  readonly sessionType: SessionTypeName
  readonly initiatorName: string
  readonly targetName: string | undefined
  readonly initiatorAlias: string | undefined
  readonly targetAlias: string | undefined
  readonly targetPortalGroupTag: number | undefined
  readonly initialR2T: boolean
  readonly immediateData: boolean
  readonly maxBurstLength: number
  readonly firstBurstLength: number
  readonly maxConnections: number
  readonly defaultTime2Wait: number
  readonly defaultTime2Retain: number
  readonly maxOutstandingR2T: number
  readonly dataPDUInOrder: boolean
  readonly dataSequenceInOrder: boolean
  readonly errorRecoveryLevel: number
  readonly taskReporting: TaskReportingName
  readonly iscsiProtocolLevel: number
}

/** Negotiated connection parameters (frozen). */
export interface ConnectionParameters {
  readonly headerDigest: DigestName
  readonly dataDigest: DigestName
  /** What our side declared it receives. */
  readonly maxRecvDataSegmentLength: number
  /** What the peer declared it receives (8192 when it declared nothing, RFC 7143 13.12). */
  readonly maxSendDataSegmentLength: number
  readonly authMethod: AuthMethodName
  /** The CHAP_N the initiator authenticated with, when CHAP was used. */
  readonly chapUser: string | undefined
}

export interface NegotiatedParameters {
  readonly session: SessionParameters
  readonly connection: ConnectionParameters
}

// ---------------------------------------------------------------------------------------------------------------
// Login PDU fields (RFC 7143 11.12, 11.13)

/** The Login Request fields the engine needs. */
export interface LoginRequestFields {
  readonly transit: boolean
  readonly continue: boolean
  readonly csg: number
  readonly nsg: number
  readonly data: Buffer
  readonly isid?: Buffer
  readonly tsih?: number
}

/** The Login Response fields the engine produces (target side) or consumes (initiator side). */
export interface LoginResponseFields {
  readonly transit: boolean
  readonly continue: boolean
  readonly csg: number
  readonly nsg: number
  /** One data segment: a long answer is sent as several responses with C=1 (RFC 7143 11.13.3). */
  readonly data: Buffer
  readonly statusClass: number
  readonly statusDetail: number
}

/** What `TargetLoginNegotiation.receive` returns. */
export interface TargetLoginStep extends LoginResponseFields {
  /** True when the login is over (success with T=1 into full feature phase, or a failure/redirect status). */
  readonly done: boolean
  /** On the final successful response: the frozen negotiated parameters. */
  readonly parameters?: NegotiatedParameters
  /** On a failure status: why (the code and reaction; never contains a secret). */
  readonly error?: NegotiationError
}

/** What `InitiatorLoginNegotiation.receive` returns; failures are thrown as NegotiationError. */
export type InitiatorLoginStep =
  | { readonly kind: 'request'; readonly request: LoginRequestFields }
  | { readonly kind: 'done'; readonly parameters: NegotiatedParameters; readonly tsih?: number }
  | {
      readonly kind: 'redirect'
      readonly permanent: boolean
      /** The raw TargetAddress value(s) the target returned (RFC 7143 13.8). */
      readonly targetAddress: string
      readonly address: TargetAddress
    }

// ---------------------------------------------------------------------------------------------------------------
// Target policy

/** Authentication policy of a target or of discovery (RFC 7143 12). */
export interface AuthPolicy {
  /** Methods this side accepts; `None` allows unauthenticated login. */
  readonly methods: readonly AuthMethodName[]
  readonly chap?: {
    /** The secret of a CHAP_N user, or undefined when unknown. */
    readonly lookup: (user: string) => ChapSecret | undefined
    /** Mutual CHAP: how the target proves itself when the initiator challenges it. */
    readonly mutual?: { readonly user: string; readonly secret: ChapSecret }
    /** Accepted algorithms (default [8, 7, 6, 5]); the first in the initiator's list that is here wins. */
    readonly algorithms?: readonly ChapAlgorithm[]
  }
}

export interface TargetPortalAddress {
  readonly host: string
  readonly port: number
  readonly portalGroupTag: number
}

/** What a TargetAddress value means: `host[:port][,tpgt]`, IPv6 in brackets (RFC 7143 13.8). */
export interface TargetAddress {
  readonly host: string
  readonly port: number
  readonly portalGroupTag: number | undefined
}

export interface TargetResolution {
  readonly exists: boolean
  /** ACL decision for this initiator name. */
  readonly allowed: boolean
  readonly auth: AuthPolicy
  readonly portalGroupTag: number
  readonly alias?: string
  /** Answer with a redirect status and this TargetAddress (RFC 7143 11.13.5 class 1). */
  readonly redirect?: { readonly address: string; readonly permanent: boolean }
}

export interface LoginContext {
  readonly targetName: string
  readonly initiatorName: string
  readonly initiatorAlias: string | undefined
  readonly isid: Buffer | undefined
}

/** A target the initiator may see, for SendTargets (RFC 7143 appendix C). */
export interface TargetListing {
  readonly name: string
  readonly alias?: string
  readonly addresses: readonly TargetPortalAddress[]
}

export interface TargetLoginPolicy {
  resolveTarget(context: LoginContext): TargetResolution
  /** Discovery sessions: auth policy (default `{ methods: ['None'] }`) and whether this initiator may discover. */
  readonly discovery?: {
    readonly auth?: AuthPolicy
    readonly allowed?: (initiatorName: string) => boolean
    readonly portalGroupTag?: number
  }
  /** Session types served (default both). */
  readonly sessionTypes?: readonly SessionTypeName[]
  readonly limits?: OperationalPreferences
  /** Bytes a multi-PDU (C=1) text may reach (default 65536). */
  readonly maxTextLength?: number
  /** Shared across logins: remembers CHAP challenges so a replay or reflection is refused. */
  readonly replayCache?: ChapChallengeCache
}

export interface TargetLoginOptions {
  /** When the connection joins an existing session (TSIH != 0): that session's parameters. */
  readonly session?: SessionParameters
}

// ---------------------------------------------------------------------------------------------------------------
// Initiator options

export interface InitiatorLoginOptions {
  readonly initiatorName: string
  readonly initiatorAlias?: string
  readonly sessionType?: SessionTypeName
  /** Required for a Normal session. */
  readonly targetName?: string
  readonly isid?: Buffer
  /** 0 for a new session; the session's TSIH when adding a connection. */
  readonly tsih?: number
  readonly auth?: {
    /** Proposed methods in order (default: CHAP when `chap` is given, else None). */
    readonly methods?: readonly AuthMethodName[]
    readonly chap?: {
      readonly user: string
      readonly secret: ChapSecret
      /** Mutual CHAP: the target must answer our challenge with this secret (and this CHAP_N when given). */
      readonly mutual?: { readonly user?: string; readonly secret: ChapSecret }
      /** Our algorithm preference (default [8, 7, 6, 5]); MD5 (5) is always accepted. */
      readonly algorithms?: readonly ChapAlgorithm[]
    }
  }
  readonly operational?: OperationalPreferences
  /** Extension keys (`X-...`, `X#...`) to offer in the operational stage; NotUnderstood answers are fine. */
  readonly extensionKeys?: readonly TextPair[]
  /** Bytes a multi-PDU (C=1) text may reach (default 65536). */
  readonly maxTextLength?: number
}

// ---------------------------------------------------------------------------------------------------------------
// Text negotiation in full feature phase (RFC 7143 11.10, 11.11)

export interface TextRequestFields {
  /** F bit. */
  readonly final: boolean
  /** C bit. */
  readonly continue: boolean
  readonly targetTransferTag: number
  readonly data: Buffer
}

export interface TextResponseFields {
  readonly final: boolean
  readonly continue: boolean
  readonly targetTransferTag: number
  readonly data: Buffer
}

/** What `TargetTextNegotiation.receive` returns. */
export type TargetTextStep =
  | {
      readonly kind: 'response'
      readonly response: TextResponseFields
      /** True when this response ends the exchange (F=1). */
      readonly done: boolean
      /** Present when the exchange changed the connection parameters (MaxRecvDataSegmentLength). */
      readonly connection?: ConnectionParameters
    }
  | { readonly kind: 'reject'; readonly reason: RejectReason; readonly error: NegotiationError }

/** What `InitiatorTextNegotiation.receive` returns; protocol errors are thrown as NegotiationError. */
export type InitiatorTextStep =
  | { readonly kind: 'request'; readonly request: TextRequestFields }
  | {
      readonly kind: 'done'
      readonly pairs: readonly TextPair[]
      readonly connection?: ConnectionParameters
    }

/** A target learnt through SendTargets (RFC 7143 appendix C). */
export interface DiscoveredTarget {
  readonly name: string
  readonly addresses: readonly { readonly host: string; readonly port: number; readonly tpgt: number }[]
}
