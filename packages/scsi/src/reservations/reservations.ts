// Reservations of one logical unit: SPC-4 persistent reservations (5.9, PERSISTENT RESERVE IN 6.15 and OUT 6.16)
// and SPC-2 RESERVE(6)/(10) and RELEASE(6)/(10) with Compatible Reservation Handling (SPC-4 5.9.3, CRH=1).
//
// The device server calls `checkAccess` before every command (it throws RESERVATION CONFLICT when a reservation
// forbids the command for that I_T nexus), and routes PERSISTENT RESERVE IN/OUT, RESERVE and RELEASE here.
// PERSISTENT RESERVE OUT commands run one at a time: each works on a copy of the state, the copy is saved to the
// store when APTPL is (or was) active, and only then does it become the state and are its unit attentions and
// task aborts delivered. A failed save leaves the state and the other I_T nexuses untouched.
import { CheckCondition, StatusError } from '../errors.js'
import { ScsiStatus } from '../status.js'
import type { AscName } from '../sense/asc.js'
import type { Nexus } from '../device/nexus.js'
import { accessRule } from './access-table.js'
import { LU_SCOPE, PR_TYPE_TRAITS, PrInServiceAction, PrOutServiceAction, type PrTypeValue, isPrType } from './pr-codes.js'
import { type BasicParameters, type MoveParameters, type PrOutCdb, decodePrOutCdb, decodePrOutParameters, invalidParameter } from './pr-out-parameters.js'
import { type PrState, type Registration, cloneState, corruptStore, decodeState, emptyState, encodeState } from './pr-state.js'
import { type InitiatorIdentity, type TransportId, coversInitiator, overlapsInitiator, sameInitiator, transportIdOfNexus } from './transport-id.js'

/** Where APTPL state lives between restarts (docs/SCSI-CONTRACT.md). */
export interface ReservationStore {
  load(): Promise<Buffer | undefined>
  save(state: Buffer): Promise<void>
}

export interface ReservationsOptions {
  /** Persistence for APTPL; without it REPORT CAPABILITIES says PTPL_C=0 and APTPL=1 is refused. */
  readonly store?: ReservationStore
  /** Establish a unit attention condition for an I_T nexus (SAM-5 5.14). */
  readonly unitAttention: (nexusId: string, asc: AscName) => void
  /** Abort every task of these I_T nexuses on this logical unit (PREEMPT AND ABORT, SPC-4 5.9.11.5). */
  readonly abortTasks?: (nexusIds: string[]) => void
  /** Most registrations held at once; more get INSUFFICIENT REGISTRATION RESOURCES (SPC-4 6.16.1). Default 1024. */
  readonly maxRegistrations?: number
}

const OP_PERSISTENT_RESERVE_IN = 0x5e
const OP_PERSISTENT_RESERVE_OUT = 0x5f
const OP_RESERVE_6 = 0x16
const OP_RESERVE_10 = 0x56
const OP_RELEASE_10 = 0x57

/** ALLOW COMMANDS 011b (SPC-4 6.15.4, table 174): matches the 'read' rows of the access table. */
const ALLOW_COMMANDS = 0b011
const DEFAULT_MAX_REGISTRATIONS = 1024

const conflict = (message: string) => new StatusError(ScsiStatus.RESERVATION_CONFLICT, message)

const invalidCdb = (byte: number, bit: number, message: string) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { fieldPointer: { inCdb: true, byte, bit }, message })

const typeOf = (type: PrTypeValue) => PR_TYPE_TRAITS[type]

/** Side effects of a PERSISTENT RESERVE OUT, delivered only once the new state is committed. */
interface Effects {
  readonly unitAttentions: Map<string, Set<AscName>>
  readonly aborts: Set<string>
}

/** What a service action works with. */
interface Context {
  readonly state: PrState
  readonly nexus: Nexus
  readonly issuer: TransportId
  readonly known: () => readonly Nexus[]
  readonly effects: Effects
}

export class Reservations {
  readonly #store: ReservationStore | undefined
  readonly #unitAttention: (nexusId: string, asc: AscName) => void
  readonly #abortTasks: ((nexusIds: string[]) => void) | undefined
  readonly #maxRegistrations: number
  #state: PrState = emptyState()
  /** I_T nexus holding an SPC-2 RESERVE, if any. */
  #spc2Holder: string | undefined
  /** Serialises PERSISTENT RESERVE OUT commands (each may wait for the store). */
  #queue: Promise<void> = Promise.resolve()

  constructor(options: ReservationsOptions) {
    this.#store = options.store
    this.#unitAttention = options.unitAttention
    this.#abortTasks = options.abortTasks
    this.#maxRegistrations = Math.max(1, options.maxRegistrations ?? DEFAULT_MAX_REGISTRATIONS)
  }

  /** Restore the registrations and reservation saved with APTPL=1 (SPC-4 5.9.5). A corrupt store is a ScsiError. */
  async load(): Promise<void> {
    if (this.#store === undefined) return
    let saved: Buffer | undefined
    try {
      saved = await this.#store.load()
    } catch (cause) {
      throw new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { message: 'persistent reservation store failed to load', cause })
    }
    if (saved === undefined) return
    if (!Buffer.isBuffer(saved)) throw corruptStore('the store returned something other than a Buffer')
    const state = decodeState(saved)
    if (state.registrations.length > this.#maxRegistrations) {
      throw corruptStore(`${state.registrations.length} registrations exceed the limit of ${this.#maxRegistrations}`)
    }
    this.#state = state
  }

  // ---- access control ----

  /**
   * Throw RESERVATION CONFLICT when a reservation forbids `cdb` for `nexus` (SPC-4 5.9.1 tables 62 and 63, SBC-3
   * 4.17.2 table 13, SPC-2 5.5.1). Never throws anything else, whatever the CDB holds.
   */
  checkAccess(nexus: Nexus, cdb: Buffer): void {
    // No reservation of either kind (the usual state): every command has access, without looking it up.
    if (this.#spc2Holder === undefined && this.#state.reservation === undefined) return
    const opcode = cdb[0]
    const rule = accessRule(cdb)
    if (this.#spc2Holder !== undefined) {
      // SPC-2 5.5.1: while a RESERVE reservation exists, PERSISTENT RESERVE IN/OUT conflict regardless of initiator.
      if (opcode === OP_PERSISTENT_RESERVE_IN || opcode === OP_PERSISTENT_RESERVE_OUT) {
        throw conflict('persistent reservation command while an SPC-2 reservation exists')
      }
      if (this.#spc2Holder !== nexus.id && rule.spc2 === 'conflict') throw conflict('logical unit is reserved by another I_T nexus')
    }
    const reservation = this.#state.reservation
    if (reservation === undefined) return
    const registration = this.#registrationOf(this.#state, nexus)
    if (this.#isHolder(this.#state, registration)) return
    const traits = typeOf(reservation.type)
    const registrantAccess = registration !== undefined && traits.registrants !== 'none'
    switch (rule.pr) {
      case 'allowed':
        return
      case 'read':
        if (traits.writeExclusive || registrantAccess) return
        throw conflict('persistent reservation forbids reads from this I_T nexus')
      case 'write':
        if (registrantAccess) return
        throw conflict('persistent reservation forbids this command from this I_T nexus')
      case 'pr-out': {
        // SPC-4 5.9.1 table 63: registering is always allowed; CLEAR, PREEMPT(AND ABORT) and RELEASE need a
        // registration; RESERVE and REGISTER AND MOVE only come from the holder.
        const action = (cdb[1] ?? 0) & 0x1f
        if (action === PrOutServiceAction.REGISTER || action === PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY) return
        if (
          registration !== undefined &&
          (action === PrOutServiceAction.CLEAR ||
            action === PrOutServiceAction.PREEMPT ||
            action === PrOutServiceAction.PREEMPT_AND_ABORT ||
            action === PrOutServiceAction.RELEASE)
        ) {
          return
        }
        throw conflict('PERSISTENT RESERVE OUT service action not allowed from this I_T nexus')
      }
    }
  }

  // ---- PERSISTENT RESERVE IN (SPC-4 6.15) ----

  /** The whole parameter data of a PERSISTENT RESERVE IN; the device cuts it to the ALLOCATION LENGTH. */
  persistentReserveIn(nexus: Nexus, cdb: Buffer): Buffer {
    if (this.#spc2Holder !== undefined) throw conflict('persistent reservation command while an SPC-2 reservation exists')
    const action = (cdb[1] ?? 0) & 0x1f
    switch (action) {
      case PrInServiceAction.READ_KEYS:
        return this.#readKeys()
      case PrInServiceAction.READ_RESERVATION:
        return this.#readReservation()
      case PrInServiceAction.REPORT_CAPABILITIES:
        return this.#reportCapabilities()
      case PrInServiceAction.READ_FULL_STATUS:
        return this.#readFullStatus()
      default:
        throw invalidCdb(1, 4, `PERSISTENT RESERVE IN service action ${action} is not defined (nexus ${nexus.id})`)
    }
  }

  /** SPC-4 6.15.2, table 168. */
  #readKeys(): Buffer {
    const { registrations, generation } = this.#state
    const out = Buffer.alloc(8 + 8 * registrations.length)
    out.writeUInt32BE(generation, 0)
    out.writeUInt32BE(8 * registrations.length, 4)
    registrations.forEach((r, i) => out.writeBigUInt64BE(r.key, 8 + 8 * i))
    return out
  }

  /** SPC-4 6.15.3, tables 169 and 170. */
  #readReservation(): Buffer {
    const { reservation, generation } = this.#state
    const out = Buffer.alloc(reservation === undefined ? 8 : 24)
    out.writeUInt32BE(generation, 0)
    if (reservation === undefined) return out
    out.writeUInt32BE(16, 4)
    // SPC-4 5.9.10: an all-registrants reservation reports a zero key.
    const key = typeOf(reservation.type).registrants === 'all-registrants' ? 0n : reservation.holder.key
    out.writeBigUInt64BE(key, 8)
    out[21] = (reservation.scope << 4) | reservation.type
    return out
  }

  /** SPC-4 6.15.4, table 173. */
  #reportCapabilities(): Buffer {
    const out = Buffer.alloc(8)
    out.writeUInt16BE(8, 0)
    const persist = this.#store !== undefined
    // CRH (bit 4): SPC-2 RESERVE/RELEASE follow 5.9.3; SIP_C (bit 3): SPEC_I_PT; ATP_C (bit 2): ALL_TG_PT;
    // PTPL_C (bit 0): APTPL, when a store exists.
    out[2] = 0x10 | 0x08 | 0x04 | (persist ? 0x01 : 0)
    // TMV (bit 7): the type mask is valid; ALLOW COMMANDS (bits 6-4); PTPL_A (bit 0): APTPL active.
    out[3] = 0x80 | (ALLOW_COMMANDS << 4) | (persist && this.#state.aptpl ? 0x01 : 0)
    let mask = 0
    for (const traits of Object.values(PR_TYPE_TRAITS)) mask |= traits.mask
    out.writeUInt16BE(mask, 4)
    return out
  }

  /** SPC-4 6.15.5, tables 177 and 178. */
  #readFullStatus(): Buffer {
    const { registrations, reservation, generation } = this.#state
    const descriptors = registrations.map((r) => {
      const d = Buffer.alloc(24 + r.transportId.length)
      d.writeBigUInt64BE(r.key, 0)
      const holder = this.#isHolder(this.#state, r)
      d[12] = (r.allTargetPorts ? 0x02 : 0) | (holder ? 0x01 : 0)
      // SCOPE and TYPE are meaningful only for a holder.
      if (holder && reservation !== undefined) d[13] = (reservation.scope << 4) | reservation.type
      d.writeUInt16BE(r.relativeTargetPortId, 18)
      d.writeUInt32BE(r.transportId.length, 20)
      r.transportId.copy(d, 24)
      return d
    })
    const body = Buffer.concat(descriptors)
    const out = Buffer.alloc(8 + body.length)
    out.writeUInt32BE(generation, 0)
    out.writeUInt32BE(body.length, 4)
    body.copy(out, 8)
    return out
  }

  // ---- PERSISTENT RESERVE OUT (SPC-4 6.16) ----

  /** Run a PERSISTENT RESERVE OUT. `knownNexuses` lists the I_T nexuses that may receive unit attentions. */
  persistentReserveOut(nexus: Nexus, cdb: Buffer, parameters: Buffer, knownNexuses: () => Iterable<Nexus>): Promise<void> {
    const run = this.#queue.then(() => this.#persistentReserveOut(nexus, cdb, parameters, knownNexuses))
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  async #persistentReserveOut(nexus: Nexus, cdb: Buffer, parameters: Buffer, knownNexuses: () => Iterable<Nexus>): Promise<void> {
    if (this.#spc2Holder !== undefined) throw conflict('persistent reservation command while an SPC-2 reservation exists')
    const request = decodePrOutCdb(cdb)
    const params = decodePrOutParameters(request, parameters, this.#store !== undefined, this.#maxRegistrations)
    const state = cloneState(this.#state)
    let known: readonly Nexus[] | undefined
    const context: Context = {
      state,
      nexus,
      issuer: transportIdOfNexus(nexus),
      known: () => (known ??= Array.from(knownNexuses())),
      effects: { unitAttentions: new Map(), aborts: new Set() },
    }
    if (params.kind === 'move') this.#registerAndMove(context, params)
    else this.#basic(context, request, params)

    if (this.#store !== undefined && (state.aptpl || this.#state.aptpl)) {
      try {
        await this.#store.save(encodeState(state))
      } catch (cause) {
        throw new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { message: 'persistent reservation store failed to save', cause })
      }
    }
    this.#state = state
    for (const [nexusId, ascs] of context.effects.unitAttentions) for (const asc of ascs) this.#unitAttention(nexusId, asc)
    if (context.effects.aborts.size > 0) this.#abortTasks?.([...context.effects.aborts])
  }

  #basic(context: Context, request: PrOutCdb, params: BasicParameters): void {
    switch (request.action) {
      case PrOutServiceAction.REGISTER:
      case PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY:
        return this.#register(context, request, params)
      case PrOutServiceAction.RESERVE:
        return this.#reserve(context, request, params)
      case PrOutServiceAction.RELEASE:
        return this.#release(context, request, params)
      case PrOutServiceAction.CLEAR:
        return this.#clear(context, params)
      case PrOutServiceAction.PREEMPT:
      case PrOutServiceAction.PREEMPT_AND_ABORT:
        return this.#preempt(context, request, params)
      case PrOutServiceAction.REGISTER_AND_MOVE:
        // Decoded as MoveParameters; never a basic list.
        throw invalidParameter(0, undefined, 'REGISTER AND MOVE needs its own parameter list')
    }
  }

  /** The registration of the issuing I_T nexus, checked against RESERVATION KEY (SPC-4 6.16.3). */
  #registered(context: Context, key: bigint): Registration {
    const registration = this.#registrationOf(context.state, context.nexus, context.issuer)
    if (registration === undefined) throw conflict('I_T nexus is not registered')
    if (registration.key !== key) throw conflict('RESERVATION KEY does not match the registered key')
    return registration
  }

  /** REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.9.7, tables 55 and 56). */
  #register(context: Context, request: PrOutCdb, params: BasicParameters): void {
    const { state } = context
    const ignoreKey = request.action === PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY
    const registration = this.#registrationOf(state, context.nexus, context.issuer)
    if (registration === undefined) {
      if (!ignoreKey && params.key !== 0n) throw conflict('RESERVATION KEY must be zero to register an unregistered I_T nexus')
      if (params.serviceActionKey !== 0n) {
        const own = this.#newRegistration(context.issuer, context.nexus.relativeTargetPortId, params.allTargetPorts, params.serviceActionKey, context.nexus.id)
        // With ALL_TG_PT the initiator port may already be registered through another target port.
        if (state.registrations.some((r) => this.#overlaps(r, own))) {
          throw invalidParameter(20, 2, 'the initiator port is already registered through another target port')
        }
        const fresh: Registration[] = [own]
        for (const { transportId, offset } of params.transportIds) {
          if (context.issuer.protocol !== transportId.protocol) throw invalidParameter(offset, undefined, 'TransportID protocol differs from the target port protocol')
          const candidate = this.#newRegistration(transportId, context.nexus.relativeTargetPortId, params.allTargetPorts, params.serviceActionKey, undefined)
          // SPC-4 6.16.3: a TransportID naming an I_T nexus that is (or is being) registered is an error.
          if ([...state.registrations, ...fresh].some((r) => this.#overlaps(r, candidate))) {
            throw invalidParameter(offset, undefined, 'TransportID names an I_T nexus that is already registered')
          }
          fresh.push(candidate)
        }
        this.#ensureRoom(state, fresh.length)
        state.registrations.push(...fresh)
        state.aptpl = params.aptpl
      }
    } else {
      if (!ignoreKey && params.key !== registration.key) throw conflict('RESERVATION KEY does not match the registered key')
      if (params.specifyInitiatorPorts) throw invalidParameter(20, 3, 'SPEC_I_PT is not allowed from a registered I_T nexus')
      if (params.serviceActionKey === 0n) this.#unregister(context, registration)
      else registration.key = params.serviceActionKey
      state.aptpl = params.aptpl
    }
    this.#bumpGeneration(state)
  }

  /** Unregistering (SPC-4 5.9.11.3): releases a reservation this registration held. */
  #unregister(context: Context, registration: Registration): void {
    const { state } = context
    const reservation = state.reservation
    state.registrations = state.registrations.filter((r) => r !== registration)
    if (reservation === undefined) return
    const registrants = typeOf(reservation.type).registrants
    if (registrants === 'all-registrants') {
      // Released only with the last registration; the remaining registrants keep holding it.
      if (state.registrations.length === 0) state.reservation = undefined
      else if (reservation.holder === registration) state.reservation = { ...reservation, holder: state.registrations[0] ?? registration }
      return
    }
    if (reservation.holder !== registration) return
    state.reservation = undefined
    if (registrants === 'registrants-only') this.#notifyRegistered(context, 'RESERVATIONS_RELEASED')
  }

  /** RESERVE (SPC-4 5.9.9). */
  #reserve(context: Context, request: PrOutCdb, params: BasicParameters): void {
    const type = this.#checkScopeAndType(request)
    const { state } = context
    const registration = this.#registered(context, params.key)
    const existing = state.reservation
    if (existing !== undefined) {
      if (!this.#isHolder(state, registration)) throw conflict('another I_T nexus holds the persistent reservation')
      if (existing.type !== type || existing.scope !== request.scope) throw conflict('the holder may not change the type or scope with RESERVE')
      return
    }
    state.reservation = { holder: registration, type, scope: LU_SCOPE }
  }

  /** RELEASE (SPC-4 5.9.11.2). */
  #release(context: Context, request: PrOutCdb, params: BasicParameters): void {
    const { state } = context
    const registration = this.#registered(context, params.key)
    const reservation = state.reservation
    if (reservation === undefined || !this.#isHolder(state, registration)) return
    if (reservation.type !== request.type || reservation.scope !== request.scope) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_RELEASE_OF_PERSISTENT_RESERVATION', { message: 'TYPE or SCOPE differs from the persistent reservation' })
    }
    state.reservation = undefined
    if (typeOf(reservation.type).registrants !== 'none') this.#notifyRegistered(context, 'RESERVATIONS_RELEASED')
  }

  /** CLEAR (SPC-4 5.9.11.6). */
  #clear(context: Context, params: BasicParameters): void {
    const { state } = context
    this.#registered(context, params.key)
    this.#notifyRegistered(context, 'RESERVATIONS_PREEMPTED')
    state.registrations = []
    state.reservation = undefined
    this.#bumpGeneration(state)
  }

  /** PREEMPT and PREEMPT AND ABORT (SPC-4 5.9.11.4 and 5.9.11.5). */
  #preempt(context: Context, request: PrOutCdb, params: BasicParameters): void {
    const type = this.#checkScopeAndType(request)
    const { state } = context
    const registration = this.#registered(context, params.key)
    const target = params.serviceActionKey
    const reservation = state.reservation
    let removed: Registration[]

    if (reservation !== undefined && typeOf(reservation.type).registrants === 'all-registrants' && target === 0n) {
      // 5.9.11.4.3: a zero key preempts an all-registrants reservation: every other registration goes and the issuer
      // holds a new reservation of the requested type.
      removed = state.registrations.filter((r) => r !== registration)
      this.#remove(state, removed)
      state.reservation = { holder: registration, type, scope: LU_SCOPE }
    } else if (reservation !== undefined && typeOf(reservation.type).registrants !== 'all-registrants' && target === reservation.holder.key) {
      // 5.9.11.4.3: the key of the holder: release it, remove every registration with that key except the issuer's,
      // and reserve for the issuer (preempting itself is not an error).
      removed = state.registrations.filter((r) => r !== registration && r.key === target)
      this.#remove(state, removed)
      state.reservation = { holder: registration, type, scope: LU_SCOPE }
      if (reservation.type !== type || reservation.scope !== request.scope) {
        this.#notifyRegistered(context, 'RESERVATIONS_RELEASED')
      }
    } else {
      // 5.9.11.4.4 (removing registrations): any other key removes the registrations with that key, the issuer's too;
      // the reservation, if any, stays. A zero key names no registration.
      if (target === 0n) throw invalidParameter(8, undefined, 'SERVICE ACTION RESERVATION KEY is zero')
      removed = state.registrations.filter((r) => r.key === target)
      if (removed.length === 0) throw conflict('SERVICE ACTION RESERVATION KEY matches no registration')
      this.#remove(state, removed)
      if (state.reservation !== undefined) {
        const still = state.registrations.includes(state.reservation.holder)
        if (typeOf(state.reservation.type).registrants === 'all-registrants') {
          if (state.registrations.length === 0) state.reservation = undefined
          else if (!still) state.reservation = { ...state.reservation, holder: state.registrations[0] ?? registration }
        } else if (!still) {
          state.reservation = undefined
        }
      }
    }

    for (const r of removed) {
      for (const id of this.#nexusIdsOf(context, r)) {
        if (id === context.nexus.id) continue
        this.#addUnitAttention(context, id, 'REGISTRATIONS_PREEMPTED')
        if (request.action === PrOutServiceAction.PREEMPT_AND_ABORT) context.effects.aborts.add(id)
      }
    }
    this.#bumpGeneration(state)
  }

  /** REGISTER AND MOVE (SPC-4 5.9.8, table 57). */
  #registerAndMove(context: Context, params: MoveParameters): void {
    const { state } = context
    const registration = this.#registered(context, params.key)
    if (params.serviceActionKey === 0n) throw invalidParameter(8, undefined, 'SERVICE ACTION RESERVATION KEY is zero')
    const reservation = state.reservation
    if (reservation === undefined || !this.#isHolder(state, registration)) throw conflict('REGISTER AND MOVE needs the persistent reservation holder')
    if (typeOf(reservation.type).registrants === 'all-registrants') throw conflict('an all-registrants reservation cannot be moved')
    const destination = params.transportId
    if (context.issuer.protocol !== destination.protocol) throw invalidParameter(24, undefined, 'TransportID protocol differs from the target port protocol')
    if (sameInitiator(destination.identity, context.issuer.identity)) throw invalidParameter(24, undefined, 'TransportID names the initiator port of this I_T nexus')
    if (!this.#targetPortExists(context, params.relativeTargetPortId)) {
      throw invalidParameter(18, undefined, `RELATIVE TARGET PORT IDENTIFIER ${params.relativeTargetPortId} names no target port`)
    }
    const candidate = this.#newRegistration(destination, params.relativeTargetPortId, false, params.serviceActionKey, undefined)
    let target = state.registrations.find((r) => this.#overlaps(r, candidate))
    if (target === registration) throw invalidParameter(24, undefined, 'TransportID names an I_T nexus of the issuing registration')
    if (target === undefined) {
      this.#ensureRoom(state, 1)
      target = candidate
      state.registrations.push(target)
    } else {
      target.key = params.serviceActionKey
    }
    state.reservation = { holder: target, type: reservation.type, scope: reservation.scope }
    if (params.unregister) state.registrations = state.registrations.filter((r) => r !== registration)
    state.aptpl = params.aptpl
    this.#bumpGeneration(state)
  }

  // ---- SPC-2 RESERVE / RELEASE with CRH=1 (SPC-4 5.9.3) ----

  /** RESERVE(6)/(10): an exclusive reservation for this I_T nexus; no third-party or extent reservations. */
  reserve(nexus: Nexus, cdb: Buffer): void {
    this.#checkSpc2Cdb(cdb)
    if (this.#spc2UnderPersistent(nexus)) return
    if (this.#spc2Holder !== undefined && this.#spc2Holder !== nexus.id) throw conflict('logical unit is reserved by another I_T nexus')
    this.#spc2Holder = nexus.id
  }

  /** RELEASE(6)/(10): releases this I_T nexus's reservation; from any other I_T nexus it does nothing (SPC-2 7.17). */
  release(nexus: Nexus, cdb: Buffer): void {
    this.#checkSpc2Cdb(cdb)
    if (this.#spc2UnderPersistent(nexus)) return
    if (this.#spc2Holder === nexus.id) this.#spc2Holder = undefined
  }

  /**
   * SPC-4 5.9.3: while registrations exist, RESERVE and RELEASE complete with GOOD and change nothing when they come
   * from the persistent reservation holder or from a registrant of a registrants-only or all-registrants type; from
   * anyone else they conflict (SPC-2 5.5.1). Returns true when the command is thereby done.
   */
  #spc2UnderPersistent(nexus: Nexus): boolean {
    const state = this.#state
    if (state.registrations.length === 0) return false
    const registration = this.#registrationOf(state, nexus)
    const reservation = state.reservation
    if (registration !== undefined && reservation !== undefined) {
      if (this.#isHolder(state, registration) || typeOf(reservation.type).registrants !== 'none') return true
    }
    throw conflict('RESERVE/RELEASE while persistent reservation registrations exist')
  }

  #checkSpc2Cdb(cdb: Buffer): void {
    const byte1 = cdb[1] ?? 0
    if (cdb[0] === OP_RESERVE_6 && (byte1 & 0x01) !== 0) throw invalidCdb(1, 0, 'extent reservations are not supported')
    if (cdb[0] === OP_RESERVE_10 || cdb[0] === OP_RELEASE_10) {
      if ((byte1 & 0x10) !== 0) throw invalidCdb(1, 4, 'third-party reservations are not supported')
      if ((byte1 & 0x02) !== 0) throw invalidCdb(1, 1, 'LONGID third-party reservations are not supported')
    }
  }

  /** I_T nexus loss (SAM-5 6.3.4): the SPC-2 reservation of that nexus goes; persistent reservations stay. */
  nexusLoss(nexus: Nexus): void {
    if (this.#spc2Holder === nexus.id) this.#spc2Holder = undefined
  }

  /** LOGICAL UNIT RESET / target reset: the SPC-2 reservation goes; persistent reservations stay (SPC-4 5.9.1). */
  reset(): void {
    this.#spc2Holder = undefined
  }

  // ---- helpers ----

  #registrationOf(state: PrState, nexus: Nexus, issuer: TransportId = transportIdOfNexus(nexus)): Registration | undefined {
    return state.registrations.find((r) => this.#registrationMatches(r, issuer.identity, nexus.relativeTargetPortId))
  }

  #registrationMatches(r: Registration, initiator: InitiatorIdentity, relativeTargetPortId: number): boolean {
    return coversInitiator(r.initiator, initiator) && (r.allTargetPorts || r.relativeTargetPortId === relativeTargetPortId)
  }

  /** Two registrations would cover a common I_T nexus. */
  #overlaps(a: Registration, b: Registration): boolean {
    return overlapsInitiator(a.initiator, b.initiator) && (a.allTargetPorts || b.allTargetPorts || a.relativeTargetPortId === b.relativeTargetPortId)
  }

  /** SPC-4 5.9.10: the holder, or with an all-registrants type every registration. */
  #isHolder(state: PrState, registration: Registration | undefined): boolean {
    const reservation = state.reservation
    if (reservation === undefined || registration === undefined) return false
    if (typeOf(reservation.type).registrants === 'all-registrants') return state.registrations.includes(registration)
    return reservation.holder === registration
  }

  #newRegistration(transportId: TransportId, relativeTargetPortId: number, allTargetPorts: boolean, key: bigint, nexusId: string | undefined): Registration {
    return { key, transportId: transportId.bytes, initiator: transportId.identity, relativeTargetPortId, allTargetPorts, nexusId }
  }

  #ensureRoom(state: PrState, more: number): void {
    if (state.registrations.length + more > this.#maxRegistrations) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INSUFFICIENT_REGISTRATION_RESOURCES', { message: `at most ${this.#maxRegistrations} registrations` })
    }
  }

  #remove(state: PrState, removed: readonly Registration[]): void {
    const gone = new Set(removed)
    state.registrations = state.registrations.filter((r) => !gone.has(r))
  }

  #checkScopeAndType(request: PrOutCdb): PrTypeValue {
    if (request.scope !== LU_SCOPE) throw invalidCdb(2, 7, `SCOPE ${request.scope} is not LU_SCOPE`)
    if (!isPrType(request.type)) throw invalidCdb(2, 3, `TYPE ${request.type} is not a persistent reservation type`)
    return request.type
  }

  #bumpGeneration(state: PrState): void {
    state.generation = (state.generation + 1) >>> 0
  }

  #targetPortExists(context: Context, relativeTargetPortId: number): boolean {
    if (context.nexus.relativeTargetPortId === relativeTargetPortId) return true
    if (context.known().some((n) => n.relativeTargetPortId === relativeTargetPortId)) return true
    return context.state.registrations.some((r) => !r.allTargetPorts && r.relativeTargetPortId === relativeTargetPortId)
  }

  /** I_T nexuses registered through `registration`: the one that registered plus every known nexus it covers. */
  #nexusIdsOf(context: Context, registration: Registration): string[] {
    const ids = new Set<string>()
    if (registration.nexusId !== undefined) ids.add(registration.nexusId)
    for (const n of context.known()) {
      if (this.#registrationMatches(registration, transportIdOfNexus(n).identity, n.relativeTargetPortId)) ids.add(n.id)
    }
    return [...ids]
  }

  /** A unit attention for every registered I_T nexus except the issuer (computed on the state as it is now). */
  #notifyRegistered(context: Context, asc: AscName): void {
    for (const r of context.state.registrations) {
      for (const id of this.#nexusIdsOf(context, r)) if (id !== context.nexus.id) this.#addUnitAttention(context, id, asc)
    }
  }

  #addUnitAttention(context: Context, nexusId: string, asc: AscName): void {
    let set = context.effects.unitAttentions.get(nexusId)
    if (set === undefined) context.effects.unitAttentions.set(nexusId, (set = new Set()))
    set.add(asc)
  }
}

