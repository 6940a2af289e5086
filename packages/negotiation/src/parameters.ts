// Operational preferences in, frozen SessionParameters/ConnectionParameters out; both driven by the key table.
import { KEYS } from './keys.js'
import type { KeyNegotiator } from './negotiator.js'
import { isValidNumber } from './negotiator.js'
import { parseBoolean } from './values.js'
import type {
  AuthMethodName,
  ConnectionParameters,
  DigestName,
  OperationalPreferences,
  SessionParameters,
  SessionTypeName,
  TaskReportingName,
} from './types.js'

/** RFC 7143 13.12: what a side may send when the peer declared nothing. */
export const DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192

/**
 * Login PDU data segments stay within 8192 bytes: the MaxRecvDataSegmentLength default applies until full feature
 * phase (RFC 7143 13.12).
 */
export const LOGIN_MAX_DATA_SEGMENT_LENGTH = 8192

/** Initiator defaults: what it proposes. */
export const INITIATOR_DEFAULTS: Readonly<OperationalPreferences> = Object.freeze<OperationalPreferences>({
  maxRecvDataSegmentLength: 262144,
  maxBurstLength: 16776192,
  firstBurstLength: 262144,
  maxConnections: 1,
  maxOutstandingR2T: 1,
  immediateData: true,
  initialR2T: false,
  dataPDUInOrder: true,
  dataSequenceInOrder: true,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  errorRecoveryLevel: 0,
  headerDigest: ['None'],
  dataDigest: ['None'],
})

/** Target defaults: the limits and preferences it answers with. */
export const TARGET_DEFAULTS: Readonly<OperationalPreferences> = Object.freeze<OperationalPreferences>({
  maxRecvDataSegmentLength: 262144,
  maxBurstLength: 16776192,
  firstBurstLength: 262144,
  maxConnections: 4,
  maxOutstandingR2T: 8,
  immediateData: true,
  initialR2T: false,
  dataPDUInOrder: true,
  dataSequenceInOrder: true,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  errorRecoveryLevel: 0,
  headerDigest: ['CRC32C', 'None'],
  dataDigest: ['CRC32C', 'None'],
  taskReporting: ['RFC3720'],
  iscsiProtocolLevel: 1,
})

/**
 * Wire values of the preferences, keyed by table name. Throws RangeError for a configured value outside the key's
 * range (a configuration error, not peer input).
 */
export function preferenceValues(preferences: OperationalPreferences): Map<string, string> {
  const values = new Map<string, string>()
  for (const definition of KEYS.values()) {
    if (definition.preference === undefined || definition.preference === 'privateKeys') continue
    const value: unknown = preferences[definition.preference]
    if (value === undefined) continue
    let wire: string
    if (typeof value === 'boolean') wire = value ? 'Yes' : 'No'
    else if (typeof value === 'number') wire = String(value)
    else if (Array.isArray(value)) wire = value.join(',')
    else throw new RangeError(`preference ${definition.preference} has an unexpected type`)
    if (definition.kind === 'numeric' && !isValidNumber(definition, wire)) {
      throw new RangeError(`preference ${definition.preference}=${wire} is outside ${definition.name}'s range`)
    }
    if (definition.kind === 'list' && (wire.length === 0 || wire.split(',').some((v) => !definition.values?.includes(v)))) {
      throw new RangeError(`preference ${definition.preference} has values ${definition.name} does not define`)
    }
    values.set(definition.name, wire)
  }
  return values
}

function typed(kind: string, value: string): string | number | boolean {
  if (kind === 'boolean') return parseBoolean(value) ?? false
  if (kind === 'numeric') return Number(value)
  return value
}

export interface SessionNames {
  readonly sessionType: SessionTypeName
  readonly initiatorName: string
  readonly targetName: string | undefined
  readonly initiatorAlias: string | undefined
  readonly targetAlias: string | undefined
  readonly targetPortalGroupTag: number | undefined
}

/** Frozen session parameters: table results (or defaults) plus the declared names. */
export function buildSessionParameters(negotiator: KeyNegotiator, names: SessionNames): SessionParameters {
  const fields: Record<string, unknown> = {}
  for (const definition of KEYS.values()) {
    if (definition.sessionField === undefined || definition.result === 'declarative') continue
    const value = negotiator.effective(definition.name)
    if (value !== undefined) fields[definition.sessionField] = typed(definition.kind, value)
  }
  const first = fields.firstBurstLength as number
  const max = fields.maxBurstLength as number
  return Object.freeze({
    ...names,
    initialR2T: fields.initialR2T as boolean,
    immediateData: fields.immediateData as boolean,
    maxBurstLength: max,
    // RFC 7143 13.14: FirstBurstLength never exceeds MaxBurstLength.
    firstBurstLength: Math.min(first, max),
    maxConnections: fields.maxConnections as number,
    defaultTime2Wait: fields.defaultTime2Wait as number,
    defaultTime2Retain: fields.defaultTime2Retain as number,
    maxOutstandingR2T: fields.maxOutstandingR2T as number,
    dataPDUInOrder: fields.dataPDUInOrder as boolean,
    dataSequenceInOrder: fields.dataSequenceInOrder as boolean,
    errorRecoveryLevel: fields.errorRecoveryLevel as number,
    taskReporting: fields.taskReporting as TaskReportingName,
    iscsiProtocolLevel: fields.iscsiProtocolLevel as number,
  })
}

/** Frozen connection parameters. `ourMaxRecv` is what we declared (8192 when we declared nothing). */
export function buildConnectionParameters(
  negotiator: KeyNegotiator,
  ourMaxRecv: number,
  auth: { readonly method: AuthMethodName; readonly chapUser: string | undefined },
): ConnectionParameters {
  const peer = negotiator.declared('MaxRecvDataSegmentLength')
  return Object.freeze({
    headerDigest: (negotiator.effective('HeaderDigest') ?? 'None') as DigestName,
    dataDigest: (negotiator.effective('DataDigest') ?? 'None') as DigestName,
    maxRecvDataSegmentLength: ourMaxRecv,
    maxSendDataSegmentLength: peer === undefined ? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH : Number(peer),
    authMethod: auth.method,
    chapUser: auth.chapUser,
  })
}

/** A copy of connection parameters with a new value (FFP renegotiation of MaxRecvDataSegmentLength). */
export function withConnection(
  connection: ConnectionParameters,
  change: Partial<Pick<ConnectionParameters, 'maxRecvDataSegmentLength' | 'maxSendDataSegmentLength'>>,
): ConnectionParameters {
  return Object.freeze({ ...connection, ...change })
}
