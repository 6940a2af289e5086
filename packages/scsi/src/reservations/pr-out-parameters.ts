// Decoding of a PERSISTENT RESERVE OUT command: the CDB (SPC-4 6.16.1, table 179) and its parameter list, basic
// (SPC-4 6.16.3, table 182) or REGISTER AND MOVE (SPC-4 6.16.4, table 184). Every length and field rule that does
// not depend on the reservation state is checked here, so that the service actions only see well-formed requests.
import { CheckCondition } from '../errors.js'
import { PrOutServiceAction, type PrOutServiceActionValue } from './pr-codes.js'
import { type TransportId, decodeTransportId } from './transport-id.js'

export interface PrOutCdb {
  readonly action: PrOutServiceActionValue
  readonly scope: number
  readonly type: number
  readonly parameterListLength: number
}

/** A TransportID from the parameter list with its byte offset (for the sense field pointer). */
export interface PlacedTransportId {
  readonly transportId: TransportId
  readonly offset: number
}

export interface BasicParameters {
  readonly kind: 'basic'
  readonly key: bigint
  readonly serviceActionKey: bigint
  readonly specifyInitiatorPorts: boolean
  readonly allTargetPorts: boolean
  readonly aptpl: boolean
  /** TransportIDs of the SPEC_I_PT additional parameter data, in order. */
  readonly transportIds: readonly PlacedTransportId[]
}

export interface MoveParameters {
  readonly kind: 'move'
  readonly key: bigint
  readonly serviceActionKey: bigint
  readonly unregister: boolean
  readonly aptpl: boolean
  readonly relativeTargetPortId: number
  readonly transportId: TransportId
}

export type PrOutParameters = BasicParameters | MoveParameters

/** Offsets in the basic parameter list (SPC-4 6.16.3, table 182). */
const BASIC_LENGTH = 24
const FLAGS_BYTE = 20
const SPEC_I_PT_BIT = 3
const ALL_TG_PT_BIT = 2
const APTPL_BIT = 0
const TRANSPORTID_LENGTH_OFFSET = 24
const TRANSPORTIDS_OFFSET = 28
/** Offsets in the REGISTER AND MOVE parameter list (SPC-4 6.16.4, table 184). */
const MOVE_FLAGS_BYTE = 17
const MOVE_RTPI_OFFSET = 18
const MOVE_TRANSPORTID_LENGTH_OFFSET = 20
const MOVE_TRANSPORTID_OFFSET = 24

const invalidCdb = (byte: number, bit: number | undefined, message: string) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { fieldPointer: bit === undefined ? { inCdb: true, byte } : { inCdb: true, byte, bit }, message })

export const invalidParameter = (byte: number, bit: number | undefined, message: string) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
    fieldPointer: bit === undefined ? { inCdb: false, byte } : { inCdb: false, byte, bit },
    message,
  })

const lengthError = (message: string) => new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message })

const isAction = (value: number): value is PrOutServiceActionValue => value <= PrOutServiceAction.REGISTER_AND_MOVE

export function decodePrOutCdb(cdb: Buffer): PrOutCdb {
  const action = (cdb[1] ?? 0) & 0x1f
  if (!isAction(action)) throw invalidCdb(1, 4, `PERSISTENT RESERVE OUT service action ${action} is not defined`)
  const byte2 = cdb[2] ?? 0
  const parameterListLength = cdb.length >= 9 ? cdb.readUInt32BE(5) : 0
  return { action, scope: byte2 >> 4, type: byte2 & 0x0f, parameterListLength }
}

/**
 * Decode the parameter list. `data` is what the initiator sent; only the first PARAMETER LIST LENGTH bytes count.
 * `aptplCapable` is false when there is no store (REPORT CAPABILITIES PTPL_C=0): APTPL=1 is then refused. More
 * than `maxTransportIds` SPEC_I_PT TransportIDs are refused before the rest is decoded.
 */
export function decodePrOutParameters(request: PrOutCdb, data: Buffer, aptplCapable: boolean, maxTransportIds: number): PrOutParameters {
  const length = request.parameterListLength
  // SPC-4 6.16.3: a basic list is 24 bytes; nothing shorter can be processed for any service action.
  if (length < BASIC_LENGTH) throw lengthError(`PARAMETER LIST LENGTH ${length} is shorter than ${BASIC_LENGTH}`)
  if (data.length < length) throw lengthError(`${data.length} bytes of parameter data for a PARAMETER LIST LENGTH of ${length}`)
  const list = data.subarray(0, length)
  const key = list.readBigUInt64BE(0)
  const serviceActionKey = list.readBigUInt64BE(8)

  if (request.action === PrOutServiceAction.REGISTER_AND_MOVE) {
    const flags = list[MOVE_FLAGS_BYTE] ?? 0
    const aptpl = (flags & 0x01) !== 0
    const unregister = (flags & 0x02) !== 0
    const relativeTargetPortId = list.readUInt16BE(MOVE_RTPI_OFFSET)
    const tidLength = list.readUInt32BE(MOVE_TRANSPORTID_LENGTH_OFFSET)
    // SPC-4 6.16.4: the TransportID must fit in the parameter list, and fill it exactly.
    if (MOVE_TRANSPORTID_OFFSET + tidLength > length) {
      throw lengthError(`TRANSPORTID PARAMETER DATA LENGTH ${tidLength} runs past the ${length}-byte parameter list`)
    }
    if (MOVE_TRANSPORTID_OFFSET + tidLength < length) {
      throw invalidParameter(MOVE_TRANSPORTID_LENGTH_OFFSET, undefined, `TRANSPORTID PARAMETER DATA LENGTH ${tidLength} leaves ${length - MOVE_TRANSPORTID_OFFSET - tidLength} bytes unused`)
    }
    const decoded = decodeTransportId(list, MOVE_TRANSPORTID_OFFSET, MOVE_TRANSPORTID_OFFSET + tidLength)
    if (!decoded.ok) throw invalidParameter(decoded.problem.byte, undefined, decoded.problem.reason)
    if (decoded.bytesRead !== tidLength) {
      throw invalidParameter(MOVE_TRANSPORTID_LENGTH_OFFSET, undefined, `TRANSPORTID PARAMETER DATA LENGTH ${tidLength} is not the TransportID length ${decoded.bytesRead}`)
    }
    if (aptpl && !aptplCapable) throw invalidParameter(MOVE_FLAGS_BYTE, APTPL_BIT, 'APTPL is not supported without a reservation store')
    return { kind: 'move', key, serviceActionKey, unregister, aptpl, relativeTargetPortId, transportId: decoded.value }
  }

  const flags = list[FLAGS_BYTE] ?? 0
  const specifyInitiatorPorts = (flags & (1 << SPEC_I_PT_BIT)) !== 0
  const registering = request.action === PrOutServiceAction.REGISTER || request.action === PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY
  // SPC-4 6.16.3: SPEC_I_PT is valid only for REGISTER.
  if (specifyInitiatorPorts && request.action !== PrOutServiceAction.REGISTER) {
    throw invalidParameter(FLAGS_BYTE, SPEC_I_PT_BIT, 'SPEC_I_PT is valid only for the REGISTER service action')
  }
  // SPC-4 6.16.3: APTPL and ALL_TG_PT are valid only for the register service actions, and ignored for the others.
  const aptpl = registering && (flags & (1 << APTPL_BIT)) !== 0
  const allTargetPorts = registering && (flags & (1 << ALL_TG_PT_BIT)) !== 0
  if (aptpl && !aptplCapable) throw invalidParameter(FLAGS_BYTE, APTPL_BIT, 'APTPL is not supported without a reservation store')
  if (!specifyInitiatorPorts) {
    // SPC-4 6.16.1: without SPEC_I_PT the parameter list length is exactly 24.
    if (length !== BASIC_LENGTH) throw lengthError(`PARAMETER LIST LENGTH ${length} is not 24 and SPEC_I_PT is zero`)
    return { kind: 'basic', key, serviceActionKey, specifyInitiatorPorts, allTargetPorts, aptpl, transportIds: [] }
  }
  if (length < TRANSPORTIDS_OFFSET) throw lengthError(`PARAMETER LIST LENGTH ${length} truncates the TRANSPORTID PARAMETER DATA LENGTH field`)
  const tidLength = list.readUInt32BE(TRANSPORTID_LENGTH_OFFSET)
  if (TRANSPORTIDS_OFFSET + tidLength > length) {
    throw lengthError(`TRANSPORTID PARAMETER DATA LENGTH ${tidLength} runs past the ${length}-byte parameter list`)
  }
  if (TRANSPORTIDS_OFFSET + tidLength < length) {
    throw invalidParameter(TRANSPORTID_LENGTH_OFFSET, undefined, `TRANSPORTID PARAMETER DATA LENGTH ${tidLength} leaves ${length - TRANSPORTIDS_OFFSET - tidLength} bytes unused`)
  }
  const transportIds: PlacedTransportId[] = []
  const end = TRANSPORTIDS_OFFSET + tidLength
  for (let at = TRANSPORTIDS_OFFSET; at < end; ) {
    const decoded = decodeTransportId(list, at, end)
    if (!decoded.ok) throw invalidParameter(decoded.problem.byte, undefined, decoded.problem.reason)
    transportIds.push({ transportId: decoded.value, offset: at })
    // Stop decoding early when the registrations could never fit (SPC-4 6.16.1).
    if (transportIds.length > maxTransportIds) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INSUFFICIENT_REGISTRATION_RESOURCES', { message: `more than ${maxTransportIds} TransportIDs` })
    }
    at += decoded.bytesRead
  }
  return { kind: 'basic', key, serviceActionKey, specifyInitiatorPorts, allTargetPorts, aptpl, transportIds }
}
