// The persistent reservation state of a logical unit (SPC-4 5.9): registrations, the reservation and PRgeneration,
// plus its versioned serialisation for APTPL (SPC-4 5.9.5). The serialised form is a JSON document in a Buffer:
//
//   { "format": "iscsi-ts/persistent-reservations", "version": 1, "aptpl": true,
//     "registrations": [ { "key": "<16 hex digits>", "transportId": "<hex>", "relativeTargetPortId": 1,
//                          "allTargetPorts": false, "nexusId": "..." } ],
//     "reservation": { "holder": 0, "type": 1, "scope": 0 } | null }
//
// PRgeneration is not stored: SPC-4 6.16.2 sets it to zero at power on whatever APTPL says. With APTPL off the
// document has no registrations and no reservation, so a restart restores nothing.
import { ScsiError } from '../errors.js'
import { SenseKey } from '../sense/sense-key.js'
import { Asc } from '../sense/asc.js'
import { ScsiStatus } from '../status.js'
import { LU_SCOPE, type PrTypeValue, isPrType } from './pr-codes.js'
import { type InitiatorIdentity, decodeTransportId } from './transport-id.js'

export interface Registration {
  /** The reservation key (SPC-4 5.9.6); never zero for a registration. */
  key: bigint
  /** TransportID of the registered initiator port (as reported by READ FULL STATUS). */
  readonly transportId: Buffer
  readonly initiator: InitiatorIdentity
  /** Relative target port identifier of the target port of the I_T nexus. */
  readonly relativeTargetPortId: number
  /** Registered through every target port (ALL_TG_PT, SPC-4 6.16.3). */
  readonly allTargetPorts: boolean
  /** The I_T nexus that registered, when the registration came from one (not SPEC_I_PT nor REGISTER AND MOVE). */
  readonly nexusId: string | undefined
}

export interface PersistentReservation {
  /** The registration that holds it; for all-registrants types every registration is a holder (SPC-4 5.9.10). */
  readonly holder: Registration
  readonly type: PrTypeValue
  readonly scope: number
}

export interface PrState {
  /** PRgeneration, a 32-bit wrapping counter (SPC-4 6.15.2). */
  generation: number
  /** Activate Persist Through Power Loss, from the last REGISTER / REGISTER AND IGNORE / REGISTER AND MOVE. */
  aptpl: boolean
  registrations: Registration[]
  reservation: PersistentReservation | undefined
}

export function emptyState(): PrState {
  return { generation: 0, aptpl: false, registrations: [], reservation: undefined }
}

/** A copy that can be changed without touching `state`; the reservation follows its holder into the copy. */
export function cloneState(state: PrState): PrState {
  const map = new Map<Registration, Registration>()
  const registrations = state.registrations.map((r) => {
    const copy: Registration = { ...r }
    map.set(r, copy)
    return copy
  })
  const reservation = state.reservation === undefined ? undefined : { ...state.reservation, holder: map.get(state.reservation.holder) ?? state.reservation.holder }
  return { generation: state.generation, aptpl: state.aptpl, registrations, reservation }
}

export const STATE_FORMAT = 'iscsi-ts/persistent-reservations'
export const STATE_VERSION = 1
/** A store larger than this is refused before parsing; a full table of registrations needs far less. */
const MAX_STATE_BYTES = 16 * 1024 * 1024

export function encodeState(state: PrState): Buffer {
  const keep = state.aptpl
  const registrations = keep ? state.registrations : []
  const holder = keep && state.reservation !== undefined ? registrations.indexOf(state.reservation.holder) : -1
  const doc = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    aptpl: state.aptpl,
    registrations: registrations.map((r) => ({
      key: r.key.toString(16).padStart(16, '0'),
      transportId: r.transportId.toString('hex'),
      relativeTargetPortId: r.relativeTargetPortId,
      allTargetPorts: r.allTargetPorts,
      ...(r.nexusId === undefined ? {} : { nexusId: r.nexusId }),
    })),
    reservation: holder < 0 || state.reservation === undefined ? null : { holder, type: state.reservation.type, scope: state.reservation.scope },
  }
  return Buffer.from(JSON.stringify(doc), 'utf8')
}

/** The store held something that is not a state this version can read. */
export function corruptStore(detail: string, cause?: unknown): ScsiError {
  const [asc, ascq] = Asc.INTERNAL_TARGET_FAILURE.code
  return new ScsiError(
    'ISCSI_ERR_SCSI_RESERVATION_STORE_CORRUPT',
    ScsiStatus.CHECK_CONDITION,
    SenseKey.HARDWARE_ERROR,
    asc,
    ascq,
    `persistent reservation store is corrupt: ${detail}`,
    cause === undefined ? {} : { cause },
  )
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Decode a stored state; anything malformed is a `ISCSI_ERR_SCSI_RESERVATION_STORE_CORRUPT` ScsiError. */
export function decodeState(buf: Buffer): PrState {
  if (buf.length > MAX_STATE_BYTES) throw corruptStore(`${buf.length} bytes is larger than ${MAX_STATE_BYTES}`)
  let doc: unknown
  try {
    doc = JSON.parse(buf.toString('utf8'))
  } catch (cause) {
    throw corruptStore('not JSON', cause)
  }
  if (!isRecord(doc)) throw corruptStore('not an object')
  if (doc.format !== STATE_FORMAT) throw corruptStore(`format ${JSON.stringify(doc.format)} is not ${STATE_FORMAT}`)
  if (doc.version !== STATE_VERSION) throw corruptStore(`version ${JSON.stringify(doc.version)} is not supported (expected ${STATE_VERSION})`)
  if (typeof doc.aptpl !== 'boolean') throw corruptStore('aptpl is not a boolean')
  if (!Array.isArray(doc.registrations)) throw corruptStore('registrations is not an array')
  const registrations = doc.registrations.map((raw: unknown, i): Registration => {
    if (!isRecord(raw)) throw corruptStore(`registration ${i} is not an object`)
    const { key, transportId, relativeTargetPortId, allTargetPorts, nexusId } = raw
    if (typeof key !== 'string' || !/^[0-9a-f]{16}$/.test(key)) throw corruptStore(`registration ${i} key is not 16 hex digits`)
    const keyValue = BigInt(`0x${key}`)
    if (keyValue === 0n) throw corruptStore(`registration ${i} key is zero`)
    if (typeof transportId !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(transportId)) throw corruptStore(`registration ${i} transportId is not hex`)
    const tidBytes = Buffer.from(transportId, 'hex')
    const decoded = decodeTransportId(tidBytes)
    if (!decoded.ok || decoded.bytesRead !== tidBytes.length) throw corruptStore(`registration ${i} transportId is invalid`)
    if (typeof relativeTargetPortId !== 'number' || !Number.isInteger(relativeTargetPortId) || relativeTargetPortId < 0 || relativeTargetPortId > 0xffff) {
      throw corruptStore(`registration ${i} relativeTargetPortId is not a 16-bit integer`)
    }
    if (typeof allTargetPorts !== 'boolean') throw corruptStore(`registration ${i} allTargetPorts is not a boolean`)
    if (nexusId !== undefined && typeof nexusId !== 'string') throw corruptStore(`registration ${i} nexusId is not a string`)
    return { key: keyValue, transportId: tidBytes, initiator: decoded.value.identity, relativeTargetPortId, allTargetPorts, nexusId }
  })
  let reservation: PersistentReservation | undefined
  if (doc.reservation !== null && doc.reservation !== undefined) {
    const raw = doc.reservation
    if (!isRecord(raw)) throw corruptStore('reservation is not an object')
    const { holder, type, scope } = raw
    if (typeof holder !== 'number' || !Number.isInteger(holder) || holder < 0 || holder >= registrations.length) throw corruptStore('reservation holder is not a registration index')
    if (typeof type !== 'number' || !isPrType(type)) throw corruptStore('reservation type is invalid')
    if (scope !== LU_SCOPE) throw corruptStore('reservation scope is not LU_SCOPE')
    const holderRegistration = registrations[holder]
    if (holderRegistration === undefined) throw corruptStore('reservation holder is missing')
    reservation = { holder: holderRegistration, type, scope: LU_SCOPE }
  }
  if (!doc.aptpl && (registrations.length > 0 || reservation !== undefined)) throw corruptStore('registrations stored without APTPL')
  return { generation: 0, aptpl: doc.aptpl, registrations, reservation }
}
