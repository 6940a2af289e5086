// The one declarative table of iSCSI text keys (RFC 7143 chapter 13, RFC 7144 for TaskReporting and
// iSCSIProtocolLevel, RFC 7143 12.1.3 for CHAP). The negotiation engine runs this table; there is no code per key.
import type { OperationalPreferences, SessionParameters } from './types.js'

/** How a value is written (RFC 7143 6.1). */
export type KeyKind = 'boolean' | 'numeric' | 'list' | 'string' | 'binary' | 'numeric-list'

/**
 * Result function (RFC 7143 6.2): `and`/`or` for booleans, `min`/`max` for numbers, `first-acceptable` for lists
 * (the first value in the proposer's list the acceptor supports), `declarative` (no answer), `auth` (run by the
 * CHAP exchange), `request` (SendTargets: answered with data, not negotiated), `obsolete` (answered, never used).
 */
export type ResultFunction =
  | 'and'
  | 'or'
  | 'min'
  | 'max'
  | 'first-acceptable'
  | 'declarative'
  | 'auth'
  | 'request'
  | 'obsolete'

/** Where a key may appear: the two login stages and full feature phase. */
export type KeyStage = 'security' | 'operational' | 'full-feature'

/** RFC 7143 13 "Use": IO initialize only, LO leading connection only, ALL, FFP full feature phase only. */
export type KeyUse = 'IO' | 'LO' | 'ALL' | 'FFP'

export type KeySender = 'initiator' | 'target' | 'both'

export interface KeyDefinition {
  readonly name: string
  readonly kind: KeyKind
  readonly result: ResultFunction
  /** Wire form of the default, undefined when there is none. */
  readonly defaultValue: string | undefined
  /** Inclusive range of a numeric key. */
  readonly range?: readonly [number, number]
  /** Values this implementation understands, for list keys. */
  readonly values?: readonly string[]
  readonly scope: 'session' | 'connection'
  readonly use: KeyUse
  readonly stages: readonly KeyStage[]
  readonly senders: KeySender
  /** Only MaxRecvDataSegmentLength may be renegotiated in full feature phase (RFC 7143 13.12). */
  readonly renegotiableInFfp: boolean
  /** Answered Irrelevant in a discovery session (RFC 7143 13 "Irrelevant when: SessionType=Discovery"). */
  readonly irrelevantInDiscovery: boolean
  /** An RFC 7143 key every implementation must understand: NotUnderstood as an answer fails the login. */
  readonly required: boolean
  /** Largest value in bytes (RFC 7143 6.1: 255 unless the key allows more). */
  readonly maxValueLength: number
  /** May be declared more than once (TargetAddress, RFC 7143 6.2). */
  readonly repeatable: boolean
  /** The fixed answer of an obsoleted key (RFC 7143 13.26). */
  readonly obsoleteAnswer?: 'Reject' | 'No'
  /** The OperationalPreferences field holding our value. */
  readonly preference?: keyof OperationalPreferences
  /** The SessionParameters field the result lands in (session-scope keys). */
  readonly sessionField?: keyof SessionParameters
}

/** Default maximum value length (RFC 7143 6.1). */
export const MAX_VALUE_LENGTH = 255
/** CHAP_C/CHAP_R: binary values up to 1024 bytes, i.e. `0x` and 2048 hex digits (RFC 7143 12.1.3). */
export const MAX_CHAP_BINARY_BYTES = 1024
const MAX_CHAP_VALUE_LENGTH = 2 + 2 * MAX_CHAP_BINARY_BYTES
/** TargetAddress: a DNS name of up to 255 bytes plus port and portal group tag. */
const MAX_TARGET_ADDRESS_LENGTH = 300

const MAX_SEGMENT = 16777215

const LOGIN: readonly KeyStage[] = ['security', 'operational']
const OPERATIONAL: readonly KeyStage[] = ['operational']
const SECURITY: readonly KeyStage[] = ['security']
const EVERYWHERE: readonly KeyStage[] = ['security', 'operational', 'full-feature']

type Row = Omit<
  KeyDefinition,
  'renegotiableInFfp' | 'irrelevantInDiscovery' | 'required' | 'maxValueLength' | 'repeatable'
> &
  Partial<KeyDefinition>

function row(definition: Row): KeyDefinition {
  return Object.freeze({
    renegotiableInFfp: false,
    irrelevantInDiscovery: false,
    required: true,
    maxValueLength: MAX_VALUE_LENGTH,
    repeatable: false,
    ...definition,
  })
}

/** Session-wide operational key, leading connection only, operational stage, both senders (RFC 7143 13.13-13.20). */
function sessionKey(definition: Omit<Row, 'scope' | 'use' | 'stages' | 'senders'> & Partial<Row>): KeyDefinition {
  return row({
    scope: 'session',
    use: 'LO',
    stages: OPERATIONAL,
    senders: 'both',
    irrelevantInDiscovery: true,
    ...definition,
  })
}

const DEFINITIONS: readonly KeyDefinition[] = [
  // RFC 7143 13.1
  row({
    name: 'HeaderDigest',
    kind: 'list',
    result: 'first-acceptable',
    defaultValue: 'None',
    values: ['None', 'CRC32C'],
    scope: 'connection',
    use: 'IO',
    stages: OPERATIONAL,
    senders: 'both',
    preference: 'headerDigest',
  }),
  row({
    name: 'DataDigest',
    kind: 'list',
    result: 'first-acceptable',
    defaultValue: 'None',
    values: ['None', 'CRC32C'],
    scope: 'connection',
    use: 'IO',
    stages: OPERATIONAL,
    senders: 'both',
    preference: 'dataDigest',
  }),
  // RFC 7143 13.2
  sessionKey({
    name: 'MaxConnections',
    kind: 'numeric',
    result: 'min',
    defaultValue: '1',
    range: [1, 65535],
    preference: 'maxConnections',
    sessionField: 'maxConnections',
  }),
  // RFC 7143 13.3, appendix C
  row({
    name: 'SendTargets',
    kind: 'string',
    result: 'request',
    defaultValue: undefined,
    scope: 'session',
    use: 'FFP',
    stages: ['full-feature'],
    senders: 'initiator',
  }),
  // RFC 7143 13.4: IO by the initiator, FFP by the target inside SendTargets answers
  row({
    name: 'TargetName',
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'session',
    use: 'IO',
    stages: EVERYWHERE,
    senders: 'both',
    sessionField: 'targetName',
    repeatable: false,
  }),
  // RFC 7143 13.5
  row({
    name: 'InitiatorName',
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'session',
    use: 'IO',
    stages: LOGIN,
    senders: 'initiator',
    sessionField: 'initiatorName',
  }),
  // RFC 7143 13.6
  row({
    name: 'TargetAlias',
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'session',
    use: 'ALL',
    stages: EVERYWHERE,
    senders: 'target',
    sessionField: 'targetAlias',
  }),
  // RFC 7143 13.7
  row({
    name: 'InitiatorAlias',
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'session',
    use: 'ALL',
    stages: EVERYWHERE,
    senders: 'initiator',
    sessionField: 'initiatorAlias',
  }),
  // RFC 7143 13.8: may be declared several times (redirect lists, SendTargets answers)
  row({
    name: 'TargetAddress',
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'session',
    use: 'ALL',
    stages: EVERYWHERE,
    senders: 'target',
    repeatable: true,
    maxValueLength: MAX_TARGET_ADDRESS_LENGTH,
  }),
  // RFC 7143 13.9
  row({
    name: 'TargetPortalGroupTag',
    kind: 'numeric',
    result: 'declarative',
    defaultValue: undefined,
    range: [0, 65535],
    scope: 'session',
    use: 'IO',
    stages: LOGIN,
    senders: 'target',
    sessionField: 'targetPortalGroupTag',
  }),
  // RFC 7143 13.10
  sessionKey({
    name: 'InitialR2T',
    kind: 'boolean',
    result: 'or',
    defaultValue: 'Yes',
    preference: 'initialR2T',
    sessionField: 'initialR2T',
  }),
  // RFC 7143 13.11
  sessionKey({
    name: 'ImmediateData',
    kind: 'boolean',
    result: 'and',
    defaultValue: 'Yes',
    preference: 'immediateData',
    sessionField: 'immediateData',
  }),
  // RFC 7143 13.12: declarative per direction, the only key renegotiable in full feature phase
  row({
    name: 'MaxRecvDataSegmentLength',
    kind: 'numeric',
    result: 'declarative',
    defaultValue: '8192',
    range: [512, MAX_SEGMENT],
    scope: 'connection',
    use: 'ALL',
    stages: ['operational', 'full-feature'],
    senders: 'both',
    renegotiableInFfp: true,
    preference: 'maxRecvDataSegmentLength',
  }),
  // RFC 7143 13.13
  sessionKey({
    name: 'MaxBurstLength',
    kind: 'numeric',
    result: 'min',
    defaultValue: '262144',
    range: [512, MAX_SEGMENT],
    preference: 'maxBurstLength',
    sessionField: 'maxBurstLength',
  }),
  // RFC 7143 13.14: also irrelevant when InitialR2T=Yes and ImmediateData=No
  sessionKey({
    name: 'FirstBurstLength',
    kind: 'numeric',
    result: 'min',
    defaultValue: '65536',
    range: [512, MAX_SEGMENT],
    preference: 'firstBurstLength',
    sessionField: 'firstBurstLength',
  }),
  // RFC 7143 13.15
  sessionKey({
    name: 'DefaultTime2Wait',
    kind: 'numeric',
    result: 'max',
    defaultValue: '2',
    range: [0, 3600],
    preference: 'defaultTime2Wait',
    sessionField: 'defaultTime2Wait',
  }),
  // RFC 7143 13.16
  sessionKey({
    name: 'DefaultTime2Retain',
    kind: 'numeric',
    result: 'min',
    defaultValue: '20',
    range: [0, 3600],
    preference: 'defaultTime2Retain',
    sessionField: 'defaultTime2Retain',
  }),
  // RFC 7143 13.17
  sessionKey({
    name: 'MaxOutstandingR2T',
    kind: 'numeric',
    result: 'min',
    defaultValue: '1',
    range: [1, 65535],
    preference: 'maxOutstandingR2T',
    sessionField: 'maxOutstandingR2T',
  }),
  // RFC 7143 13.18
  sessionKey({
    name: 'DataPDUInOrder',
    kind: 'boolean',
    result: 'or',
    defaultValue: 'Yes',
    preference: 'dataPDUInOrder',
    sessionField: 'dataPDUInOrder',
  }),
  // RFC 7143 13.19
  sessionKey({
    name: 'DataSequenceInOrder',
    kind: 'boolean',
    result: 'or',
    defaultValue: 'Yes',
    preference: 'dataSequenceInOrder',
    sessionField: 'dataSequenceInOrder',
  }),
  // RFC 7143 13.20: relevant in discovery sessions too
  sessionKey({
    name: 'ErrorRecoveryLevel',
    kind: 'numeric',
    result: 'min',
    defaultValue: '0',
    range: [0, 2],
    irrelevantInDiscovery: false,
    preference: 'errorRecoveryLevel',
    sessionField: 'errorRecoveryLevel',
  }),
  // RFC 7143 13.21
  row({
    name: 'SessionType',
    kind: 'string',
    result: 'declarative',
    defaultValue: 'Normal',
    values: ['Normal', 'Discovery'],
    scope: 'session',
    use: 'LO',
    stages: LOGIN,
    senders: 'initiator',
    sessionField: 'sessionType',
  }),
  // RFC 7143 12 / 13 (AuthMethod), connection scope, security stage only
  row({
    name: 'AuthMethod',
    kind: 'list',
    result: 'first-acceptable',
    defaultValue: 'None',
    values: ['None', 'CHAP', 'KRB5', 'SPKM1', 'SPKM2', 'SRP'],
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
  }),
  // RFC 7143 12.1.3
  row({
    name: 'CHAP_A',
    kind: 'numeric-list',
    result: 'auth',
    defaultValue: undefined,
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
  }),
  row({
    name: 'CHAP_I',
    kind: 'numeric',
    result: 'auth',
    defaultValue: undefined,
    range: [0, 255],
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
  }),
  row({
    name: 'CHAP_C',
    kind: 'binary',
    result: 'auth',
    defaultValue: undefined,
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
    maxValueLength: MAX_CHAP_VALUE_LENGTH,
  }),
  row({
    name: 'CHAP_N',
    kind: 'string',
    result: 'auth',
    defaultValue: undefined,
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
  }),
  row({
    name: 'CHAP_R',
    kind: 'binary',
    result: 'auth',
    defaultValue: undefined,
    scope: 'connection',
    use: 'IO',
    stages: SECURITY,
    senders: 'both',
    maxValueLength: MAX_CHAP_VALUE_LENGTH,
  }),
  // RFC 7143 13.23 / RFC 7144: understanding is optional (RFC 3720 peers answer NotUnderstood)
  sessionKey({
    name: 'TaskReporting',
    kind: 'list',
    result: 'first-acceptable',
    defaultValue: 'RFC3720',
    values: ['RFC3720', 'ResponseFence', 'FastAbort'],
    required: false,
    preference: 'taskReporting',
    sessionField: 'taskReporting',
  }),
  // RFC 7143 13.24 / RFC 7144 2.1
  sessionKey({
    name: 'iSCSIProtocolLevel',
    kind: 'numeric',
    result: 'min',
    defaultValue: '1',
    range: [0, 31],
    irrelevantInDiscovery: false,
    required: false,
    preference: 'iscsiProtocolLevel',
    sessionField: 'iscsiProtocolLevel',
  }),
  // RFC 7143 13.26: markers are obsolete; a receiver answers Reject (SHOULD for OFMarker/IFMarker, MUST for the
  // intervals). We never propose them.
  ...(['OFMarker', 'IFMarker'] as const).map((name) =>
    row({
      name,
      kind: 'boolean',
      result: 'obsolete',
      defaultValue: 'No',
      scope: 'connection',
      use: 'IO',
      stages: OPERATIONAL,
      senders: 'both',
      required: false,
      obsoleteAnswer: 'Reject',
    }),
  ),
  ...(['OFMarkInt', 'IFMarkInt'] as const).map((name) =>
    row({
      name,
      kind: 'string',
      result: 'obsolete',
      defaultValue: '2048',
      scope: 'connection',
      use: 'IO',
      stages: OPERATIONAL,
      senders: 'both',
      required: false,
      obsoleteAnswer: 'Reject',
    }),
  ),
]

/** Every key of RFC 7143 (and RFC 7144) by name. */
export const KEYS: ReadonlyMap<string, KeyDefinition> = new Map(DEFINITIONS.map((d) => [d.name, d]))

/** Session types (RFC 7143 13.21). */
export const SessionType = {
  Normal: 'Normal',
  Discovery: 'Discovery',
} as const
export type SessionType = (typeof SessionType)[keyof typeof SessionType]

/** Private (`X-`) and public extension (`X#`) keys (RFC 7143 6.2, 13.5.4). */
export function isExtensionKey(name: string): boolean {
  return name.startsWith('X-') || name.startsWith('X#')
}

/** The definition used for a configured extension key: negotiated by a handler, in any stage. */
export function extensionKeyDefinition(name: string): KeyDefinition {
  return row({
    name,
    kind: 'string',
    result: 'declarative',
    defaultValue: undefined,
    scope: 'connection',
    use: 'ALL',
    stages: EVERYWHERE,
    senders: 'both',
    required: false,
  })
}

export function keyDefinition(name: string): KeyDefinition | undefined {
  return KEYS.get(name)
}

/** Value length limit used by the text parser: the table's, 255 for unknown keys (RFC 7143 6.1). */
export function maxValueLength(key: string): number {
  return KEYS.get(key)?.maxValueLength ?? MAX_VALUE_LENGTH
}

/** Which KeyStage a login stage number is. */
export function keyStage(stage: number): KeyStage {
  return stage === 0 ? 'security' : stage === 1 ? 'operational' : 'full-feature'
}

/** True when `sender` may send `definition`. */
export function maySend(definition: KeyDefinition, sender: 'initiator' | 'target'): boolean {
  return definition.senders === 'both' || definition.senders === sender
}
