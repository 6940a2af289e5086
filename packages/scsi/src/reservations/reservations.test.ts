import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ScsiError } from '../errors.js'
import type { AscName } from '../sense/asc.js'
import type { Nexus } from '../device/nexus.js'
import { PrOutServiceAction as SA, PrType, type PrTypeName } from './pr-codes.js'
import { Reservations, type ReservationStore } from './reservations.js'
import { encodeIscsiTransportId } from './transport-id.js'

// ---- fixtures ----

const TARGET = 'iqn.2024-01.org.iscsi-ts:disk'

function makeNexus(name: string, isid: string, relativeTargetPortId = 1): Nexus {
  const initiatorPort = `${name},i,0x${isid}`
  const targetPort = `${TARGET},t,0x${relativeTargetPortId.toString(16).padStart(4, '0')}`
  return { id: `${initiatorPort}|${targetPort}`, initiatorPort, targetPort, relativeTargetPortId, transportId: encodeIscsiTransportId(name, isid) }
}

const A = makeNexus('iqn.1994-05.com.example:a', '000000000001')
const B = makeNexus('iqn.1994-05.com.example:b', '000000000002')
const C = makeNexus('iqn.1994-05.com.example:c', '000000000003')
/** Initiator A again, through target port 2. */
const A2 = makeNexus('iqn.1994-05.com.example:a', '000000000001', 2)

/** PERSISTENT RESERVE OUT CDB (SPC-4 6.16.1, table 179). */
function prOutCdb(action: number, type: number, length: number, scope = 0): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x5f
  cdb[1] = action
  cdb[2] = (scope << 4) | type
  cdb.writeUInt32BE(length, 5)
  return cdb
}

/** PERSISTENT RESERVE IN CDB (SPC-4 6.15.1, table 166). */
function prInCdb(action: number, allocation = 0x2000): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x5e
  cdb[1] = action
  cdb.writeUInt16BE(allocation, 7)
  return cdb
}

interface BasicList {
  key?: bigint
  saKey?: bigint
  aptpl?: boolean
  allTgPt?: boolean
  specIPt?: boolean
  transportIds?: Buffer[]
}

/** Basic PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3, table 182). */
function basic({ key = 0n, saKey = 0n, aptpl = false, allTgPt = false, specIPt = false, transportIds = [] }: BasicList): Buffer {
  const list = Buffer.alloc(24)
  list.writeBigUInt64BE(key, 0) // RESERVATION KEY
  list.writeBigUInt64BE(saKey, 8) // SERVICE ACTION RESERVATION KEY
  list[20] = (specIPt ? 0x08 : 0) | (allTgPt ? 0x04 : 0) | (aptpl ? 0x01 : 0)
  if (!specIPt) return list
  const tids = Buffer.concat(transportIds)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(tids.length) // TRANSPORTID PARAMETER DATA LENGTH
  return Buffer.concat([list, length, tids])
}

/** REGISTER AND MOVE parameter list (SPC-4 6.16.4, table 184). */
function moveList(key: bigint, saKey: bigint, relativeTargetPortId: number, transportId: Buffer, { unreg = false, aptpl = false } = {}): Buffer {
  const list = Buffer.alloc(24)
  list.writeBigUInt64BE(key, 0)
  list.writeBigUInt64BE(saKey, 8)
  list[17] = (unreg ? 0x02 : 0) | (aptpl ? 0x01 : 0)
  list.writeUInt16BE(relativeTargetPortId, 18)
  list.writeUInt32BE(transportId.length, 20)
  return Buffer.concat([list, transportId])
}

class MemoryStore implements ReservationStore {
  saved: Buffer | undefined
  saves = 0
  fail = false
  load(): Promise<Buffer | undefined> {
    return Promise.resolve(this.saved)
  }
  save(state: Buffer): Promise<void> {
    if (this.fail) return Promise.reject(new Error('disk full'))
    this.saves++
    this.saved = Buffer.from(state)
    return Promise.resolve()
  }
}

function setup(options: { store?: ReservationStore; known?: Nexus[] } = {}) {
  const unitAttentions: Array<[string, AscName]> = []
  const aborted: string[][] = []
  const reservations = new Reservations({
    ...(options.store === undefined ? {} : { store: options.store }),
    unitAttention: (id, asc) => unitAttentions.push([id, asc]),
    abortTasks: (ids) => aborted.push(ids),
  })
  const known = options.known ?? [A, B, C, A2]
  const out = (nexus: Nexus, action: number, list: Buffer, type = 0, scope = 0) =>
    reservations.persistentReserveOut(nexus, prOutCdb(action, type, list.length, scope), list, () => known)
  const register = (nexus: Nexus, saKey: bigint, more: BasicList = {}) => out(nexus, SA.REGISTER, basic({ saKey, ...more }))
  const reserve = (nexus: Nexus, key: bigint, type: number) => out(nexus, SA.RESERVE, basic({ key }), type)
  const keys = () => {
    const data = reservations.persistentReserveIn(A, prInCdb(0))
    const n = data.readUInt32BE(4) / 8
    return { generation: data.readUInt32BE(0), keys: Array.from({ length: n }, (_, i) => data.readBigUInt64BE(8 + 8 * i)) }
  }
  const reservation = () => {
    const data = reservations.persistentReserveIn(A, prInCdb(1))
    if (data.readUInt32BE(4) === 0) return undefined
    return { key: data.readBigUInt64BE(8), scope: data[21]! >> 4, type: data[21]! & 0x0f }
  }
  const allowed = (nexus: Nexus, cdb: Buffer) => {
    try {
      reservations.checkAccess(nexus, cdb)
      return true
    } catch (error) {
      expect(error).toMatchObject({ status: 0x18 })
      return false
    }
  }
  return { reservations, unitAttentions, aborted, out, register, reserve, keys, reservation, allowed }
}

async function failure(p: Promise<unknown>): Promise<ScsiError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ScsiError)
  return error as ScsiError
}

function syncFailure(fn: () => unknown): ScsiError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ScsiError)
    return error as ScsiError
  }
  throw new Error('expected a ScsiError')
}

const CONFLICT = { status: 0x18 }
const LENGTH_ERROR = { status: 0x02, senseKey: 0x5, asc: 0x1a, ascq: 0x00 }
const INVALID_CDB = { status: 0x02, senseKey: 0x5, asc: 0x24, ascq: 0x00 }
const INVALID_PARAMETER = { status: 0x02, senseKey: 0x5, asc: 0x26, ascq: 0x00 }
const INVALID_RELEASE = { status: 0x02, senseKey: 0x5, asc: 0x26, ascq: 0x04 }

const cdb10 = (opcode: number) => Buffer.from([opcode, 0, 0, 0, 0, 0, 0, 0, 1, 0])
const READ_10 = cdb10(0x28)
const WRITE_10 = cdb10(0x2a)
const SYNCHRONIZE_CACHE_10 = cdb10(0x35)
const TEST_UNIT_READY = Buffer.alloc(6)
const INQUIRY = Buffer.from([0x12, 0, 0, 0, 36, 0])
const MODE_SENSE_6 = Buffer.from([0x1a, 0, 0x3f, 0, 0xff, 0])
const REPORT_LUNS = Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0])
const READ_CAPACITY_16 = Buffer.from([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0])
const GET_LBA_STATUS = Buffer.from([0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0])

// ---- PERSISTENT RESERVE IN data, byte by byte ----

describe('PERSISTENT RESERVE IN (SPC-4 6.15)', () => {
  it('READ KEYS lists PRgeneration and every registered key (6.15.2, table 168)', async () => {
    const { reservations, register } = setup()
    expect(reservations.persistentReserveIn(A, prInCdb(0))).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))
    await register(A, 0x0102030405060708n)
    await register(B, 0xaabbn)
    expect(reservations.persistentReserveIn(C, prInCdb(0))).toEqual(
      Buffer.from([
        0x00, 0x00, 0x00, 0x02, // PRGENERATION: two REGISTERs
        0x00, 0x00, 0x00, 0x10, // ADDITIONAL LENGTH: two keys
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // key of A
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb, // key of B
      ]),
    )
  })

  it('READ RESERVATION reports the holder key, scope and type (6.15.3, table 169)', async () => {
    const { reservations, register, reserve } = setup()
    await register(A, 0x1111n)
    expect(reservations.persistentReserveIn(A, prInCdb(1))).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]))
    await reserve(A, 0x1111n, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    expect(reservations.persistentReserveIn(B, prInCdb(1))).toEqual(
      Buffer.from([
        0x00, 0x00, 0x00, 0x01, // PRGENERATION: RESERVE does not count
        0x00, 0x00, 0x00, 0x10, // ADDITIONAL LENGTH 16
        0, 0, 0, 0, 0, 0, 0x11, 0x11, // RESERVATION KEY of the holder
        0, 0, 0, 0, // obsolete
        0x00, // reserved
        0x06, // SCOPE 0h (LU_SCOPE), TYPE 6h
        0, 0, // obsolete
      ]),
    )
  })

  it('READ RESERVATION reports a zero key for an all-registrants type (5.9.10)', async () => {
    const { register, reserve, reservation } = setup()
    await register(A, 0x1111n)
    await reserve(A, 0x1111n, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    expect(reservation()).toEqual({ key: 0n, scope: 0, type: 7 })
  })

  it('REPORT CAPABILITIES advertises CRH, SIP_C, ATP_C, the six types and ALLOW COMMANDS 011b (6.15.4, table 173)', async () => {
    const { reservations } = setup()
    expect(reservations.persistentReserveIn(A, prInCdb(2))).toEqual(
      Buffer.from([
        0x00, 0x08, // LENGTH
        0x1c, // CRH, SIP_C, ATP_C; no PTPL_C without a store
        0xb0, // TMV, ALLOW COMMANDS 011b, PTPL_A 0
        0xea, // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
        0x01, // EX_AC_AR
        0x00, 0x00,
      ]),
    )
    const store = new MemoryStore()
    const persisted = setup({ store })
    expect([...persisted.reservations.persistentReserveIn(A, prInCdb(2)).subarray(2, 4)]).toEqual([0x1d, 0xb0]) // PTPL_C
    await persisted.register(A, 1n, { aptpl: true })
    expect([...persisted.reservations.persistentReserveIn(A, prInCdb(2)).subarray(2, 4)]).toEqual([0x1d, 0xb1]) // PTPL_A
  })

  it('READ FULL STATUS gives each registration with holder flags, relative target port and TransportID (6.15.5, table 178)', async () => {
    const { reservations, register, reserve } = setup()
    await register(A, 0x1111n)
    await register(B, 0x2222n, { allTgPt: true })
    await reserve(A, 0x1111n, PrType.WRITE_EXCLUSIVE)
    const data = reservations.persistentReserveIn(C, prInCdb(3))
    const tidA = encodeIscsiTransportId('iqn.1994-05.com.example:a', '000000000001')
    const tidB = encodeIscsiTransportId('iqn.1994-05.com.example:b', '000000000002')
    expect(tidA).toHaveLength(48)
    expect(data).toEqual(
      Buffer.concat([
        Buffer.from([0, 0, 0, 2, 0, 0, 0, 2 * (24 + 48)]), // PRGENERATION 2, ADDITIONAL LENGTH
        Buffer.from([
          0, 0, 0, 0, 0, 0, 0x11, 0x11, // RESERVATION KEY
          0, 0, 0, 0, // reserved
          0x01, // ALL_TG_PT 0, R_HOLDER 1
          0x01, // SCOPE 0h, TYPE 1h (Write Exclusive)
          0, 0, 0, 0, // reserved
          0x00, 0x01, // RELATIVE TARGET PORT IDENTIFIER
          0, 0, 0, 48, // ADDITIONAL DESCRIPTOR LENGTH
        ]),
        tidA,
        Buffer.from([
          0, 0, 0, 0, 0, 0, 0x22, 0x22,
          0, 0, 0, 0,
          0x02, // ALL_TG_PT 1, R_HOLDER 0
          0x00, // SCOPE and TYPE are zero for a non-holder
          0, 0, 0, 0,
          0x00, 0x01,
          0, 0, 0, 48,
        ]),
        tidB,
      ]),
    )
  })

  it('refuses an undefined service action with INVALID FIELD IN CDB pointing at byte 1', () => {
    const { reservations } = setup()
    for (const action of [4, 0x1f]) {
      const error = syncFailure(() => reservations.persistentReserveIn(A, prInCdb(action)))
      expect(error).toMatchObject({ ...INVALID_CDB, fieldPointer: { inCdb: true, byte: 1, bit: 4 } })
    }
  })
})

// ---- PERSISTENT RESERVE OUT service actions ----

describe('REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.9.7)', () => {
  it('registers, changes the key and unregisters, counting PRgeneration', async () => {
    const { out, register, keys } = setup()
    await register(A, 0x10n)
    expect(keys()).toEqual({ generation: 1, keys: [0x10n] })
    await out(A, SA.REGISTER, basic({ key: 0x10n, saKey: 0x11n }))
    expect(keys()).toEqual({ generation: 2, keys: [0x11n] })
    await out(A, SA.REGISTER, basic({ key: 0x11n, saKey: 0n }))
    expect(keys()).toEqual({ generation: 3, keys: [] })
    // An unregistered I_T nexus with both keys zero: nothing happens, but the command completed (6.15.2).
    await register(A, 0n)
    expect(keys()).toEqual({ generation: 4, keys: [] })
  })

  it('conflicts on a non-zero key from an unregistered nexus and on a wrong key, without counting', async () => {
    const { out, register, keys } = setup()
    expect(await failure(out(A, SA.REGISTER, basic({ key: 5n, saKey: 6n })))).toMatchObject(CONFLICT)
    await register(A, 0x10n)
    expect(await failure(out(A, SA.REGISTER, basic({ key: 0x99n, saKey: 7n })))).toMatchObject(CONFLICT)
    expect(keys()).toEqual({ generation: 1, keys: [0x10n] })
  })

  it('REGISTER AND IGNORE EXISTING KEY ignores RESERVATION KEY', async () => {
    const { out, keys } = setup()
    await out(A, SA.REGISTER_AND_IGNORE_EXISTING_KEY, basic({ key: 0xdeadn, saKey: 0x10n }))
    await out(A, SA.REGISTER_AND_IGNORE_EXISTING_KEY, basic({ key: 0xbeefn, saKey: 0x20n }))
    expect(keys()).toEqual({ generation: 2, keys: [0x20n] })
    await out(A, SA.REGISTER_AND_IGNORE_EXISTING_KEY, basic({ key: 0n, saKey: 0n }))
    expect(keys().keys).toEqual([])
  })

  it('SPEC_I_PT registers the listed initiator ports on the receiving target port too (6.16.3)', async () => {
    const { out, reservations, allowed, reserve } = setup()
    const tidB = encodeIscsiTransportId('iqn.1994-05.com.example:b', '000000000002')
    const tidC = encodeIscsiTransportId('iqn.1994-05.com.example:c') // format 00b: every port of C
    await out(A, SA.REGISTER, basic({ saKey: 0x77n, specIPt: true, transportIds: [tidB, tidC] }))
    const full = reservations.persistentReserveIn(A, prInCdb(3))
    const tidA = encodeIscsiTransportId('iqn.1994-05.com.example:a', '000000000001')
    expect([tidA.length, tidB.length, tidC.length]).toEqual([48, 48, 32])
    expect(full.readUInt32BE(4)).toBe(3 * 24 + 48 + 48 + 32)
    expect(full.subarray(8 + 24, 8 + 72)).toEqual(tidA)
    expect(full.subarray(8 + 72 + 24, 8 + 72 + 72)).toEqual(tidB)
    expect(full.subarray(8 + 144 + 24)).toEqual(tidC)
    // B and C are now registrants: a registrants-only reservation lets them write.
    await reserve(A, 0x77n, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    expect(allowed(B, WRITE_10)).toBe(true)
    expect(allowed(C, WRITE_10)).toBe(true)
  })

  it('refuses SPEC_I_PT with an already registered port, a bad TransportID, a length mismatch or from a registered nexus', async () => {
    const { out, register, keys } = setup()
    await register(B, 0x5n)
    const tidB = encodeIscsiTransportId('iqn.1994-05.com.example:b', '000000000002')
    const duplicate = await failure(out(A, SA.REGISTER, basic({ saKey: 1n, specIPt: true, transportIds: [tidB] })))
    expect(duplicate).toMatchObject({ ...INVALID_PARAMETER, fieldPointer: { inCdb: false, byte: 28 } })
    const broken = Buffer.from(tidB)
    broken[0] = 0x0f // protocol Fh: no specific protocol
    expect(await failure(out(A, SA.REGISTER, basic({ saKey: 1n, specIPt: true, transportIds: [broken] })))).toMatchObject(INVALID_PARAMETER)
    const list = basic({ saKey: 1n, specIPt: true, transportIds: [encodeIscsiTransportId('iqn.x', '000000000009')] })
    list.writeUInt32BE(200, 24) // TRANSPORTID PARAMETER DATA LENGTH past the end
    expect(await failure(out(A, SA.REGISTER, list))).toMatchObject(LENGTH_ERROR)
    expect(await failure(out(A, SA.REGISTER, basic({ saKey: 1n, specIPt: true }).subarray(0, 26)))).toMatchObject(LENGTH_ERROR)
    expect(await failure(out(B, SA.REGISTER, basic({ key: 5n, saKey: 6n, specIPt: true, transportIds: [] })))).toMatchObject({
      ...INVALID_PARAMETER,
      fieldPointer: { inCdb: false, byte: 20, bit: 3 },
    })
    expect(keys()).toEqual({ generation: 1, keys: [5n] })
  })

  it('ALL_TG_PT registers the initiator port through every target port', async () => {
    const { register, reserve, allowed, out } = setup()
    await register(A, 0x1n, { allTgPt: true })
    // The same initiator through target port 2 is registered, so it is the holder after reserving from port 1...
    await reserve(A, 0x1n, PrType.EXCLUSIVE_ACCESS)
    expect(allowed(A2, WRITE_10)).toBe(true)
    // ...and may itself release.
    await out(A2, SA.RELEASE, basic({ key: 0x1n }), PrType.EXCLUSIVE_ACCESS)
    const single = setup()
    await single.register(A, 0x1n)
    await single.reserve(A, 0x1n, PrType.EXCLUSIVE_ACCESS)
    expect(single.allowed(A2, WRITE_10)).toBe(false)
  })

  it('reaches I_T nexuses registered by SPEC_I_PT or ALL_TG_PT with unit attentions through the known nexuses', async () => {
    const { out, register, reserve, unitAttentions } = setup()
    const tidB = encodeIscsiTransportId('iqn.1994-05.com.example:b', '000000000002')
    await out(A, SA.REGISTER, basic({ saKey: 0xan, specIPt: true, transportIds: [tidB] }))
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    await out(A, SA.RELEASE, basic({ key: 0xan }), PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    expect(unitAttentions).toEqual([[B.id, 'RESERVATIONS_RELEASED']])
    unitAttentions.length = 0
    // C registers through every target port; A registered through port 1 only. CLEAR from C reaches A, not C itself.
    await register(C, 0xcn, { allTgPt: true })
    await out(C, SA.CLEAR, basic({ key: 0xcn }))
    expect(unitAttentions).toEqual([
      [A.id, 'RESERVATIONS_PREEMPTED'],
      [B.id, 'RESERVATIONS_PREEMPTED'],
    ])
  })

  it('sends CLEAR unit attentions to the other target ports of an ALL_TG_PT registration, not to the issuer', async () => {
    const { out, register, unitAttentions } = setup()
    await register(A, 0xan, { allTgPt: true })
    await out(A, SA.CLEAR, basic({ key: 0xan }))
    expect(unitAttentions).toEqual([[A2.id, 'RESERVATIONS_PREEMPTED']])
  })

  it('refuses ALL_TG_PT when the initiator port is registered through another target port, and too many TransportIDs', async () => {
    const { register, out, keys } = setup()
    await register(A2, 0x2n)
    expect(await failure(register(A, 0x1n, { allTgPt: true }))).toMatchObject({ ...INVALID_PARAMETER, fieldPointer: { inCdb: false, byte: 20, bit: 2 } })
    const small = new Reservations({ unitAttention: () => undefined, maxRegistrations: 2 })
    const tids = ['x', 'y', 'z'].map((n) => encodeIscsiTransportId(`iqn.${n}`, '000000000001'))
    const list = basic({ saKey: 1n, specIPt: true, transportIds: tids })
    expect(await failure(small.persistentReserveOut(A, prOutCdb(SA.REGISTER, 0, list.length), list, () => []))).toMatchObject({ status: 2, senseKey: 5, asc: 0x55, ascq: 0x04 })
    expect(keys().keys).toEqual([0x2n])
    await out(A, SA.REGISTER, basic({ saKey: 0x1n }))
    expect(keys().keys).toEqual([0x2n, 0x1n])
  })

  it('unregistering the holder of a registrants-only reservation releases it with RESERVATIONS RELEASED (5.9.11.3)', async () => {
    const { out, register, reserve, reservation, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    await out(A, SA.REGISTER, basic({ key: 0xan, saKey: 0n }))
    expect(reservation()).toBeUndefined()
    expect(unitAttentions).toEqual([[B.id, 'RESERVATIONS_RELEASED']])
  })

  it('keeps an all-registrants reservation until the last registrant leaves', async () => {
    const { out, register, reserve, reservation, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS)
    await out(A, SA.REGISTER, basic({ key: 0xan, saKey: 0n }))
    expect(reservation()).toEqual({ key: 0n, scope: 0, type: 8 })
    await out(B, SA.REGISTER, basic({ key: 0xbn, saKey: 0n }))
    expect(reservation()).toBeUndefined()
    expect(unitAttentions).toEqual([])
  })
})

describe('RESERVE (SPC-4 5.9.9)', () => {
  it('creates the reservation and accepts the same RESERVE again from the holder', async () => {
    const { register, reserve, reservation, keys } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 1 })
    expect(keys().generation).toBe(1)
  })

  it('conflicts for an unregistered nexus, a wrong key, another holder, and a type change', async () => {
    const { register, reserve, reservation } = setup()
    expect(await failure(reserve(A, 0n, PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    await register(A, 0xan)
    await register(B, 0xbn)
    expect(await failure(reserve(A, 0xbn, PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(await failure(reserve(B, 0xbn, PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    expect(await failure(reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS))).toMatchObject(CONFLICT)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 1 })
  })

  it('lets every registrant of an all-registrants reservation repeat RESERVE', async () => {
    const { register, reserve } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    await reserve(B, 0xbn, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
  })

  it('refuses an invalid TYPE or SCOPE with INVALID FIELD IN CDB at byte 2', async () => {
    const { register, out } = setup()
    await register(A, 0xan)
    for (const type of [0, 2, 4, 9, 0xf]) {
      expect(await failure(out(A, SA.RESERVE, basic({ key: 0xan }), type))).toMatchObject({ ...INVALID_CDB, fieldPointer: { inCdb: true, byte: 2, bit: 3 } })
    }
    expect(await failure(out(A, SA.RESERVE, basic({ key: 0xan }), PrType.WRITE_EXCLUSIVE, 1))).toMatchObject({
      ...INVALID_CDB,
      fieldPointer: { inCdb: true, byte: 2, bit: 7 },
    })
  })
})

describe('RELEASE (SPC-4 5.9.11.2)', () => {
  it('does nothing, with GOOD, without a reservation or from a registered non-holder', async () => {
    const { out, register, reserve, reservation } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await out(A, SA.RELEASE, basic({ key: 0xan }), PrType.WRITE_EXCLUSIVE)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    await out(B, SA.RELEASE, basic({ key: 0xbn }), PrType.WRITE_EXCLUSIVE)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 1 })
  })

  it('conflicts for an unregistered nexus or a wrong key', async () => {
    const { out, register, reserve } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(await failure(out(C, SA.RELEASE, basic({ key: 0n }), PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    expect(await failure(out(A, SA.RELEASE, basic({ key: 0xbn }), PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
  })

  it('refuses a TYPE that differs from the reservation with INVALID RELEASE OF PERSISTENT RESERVATION', async () => {
    const { out, register, reserve, reservation } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(await failure(out(A, SA.RELEASE, basic({ key: 0xan }), PrType.EXCLUSIVE_ACCESS))).toMatchObject(INVALID_RELEASE)
    expect(reservation()).toBeDefined()
  })

  it('raises RESERVATIONS RELEASED for other registrants only for registrants-only and all-registrants types', async () => {
    for (const [type, expected] of [
      [PrType.WRITE_EXCLUSIVE, []],
      [PrType.EXCLUSIVE_ACCESS, []],
      [PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, [[B.id, 'RESERVATIONS_RELEASED']]],
      [PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, [[B.id, 'RESERVATIONS_RELEASED']]],
    ] as const) {
      const { out, register, reserve, reservation, unitAttentions } = setup()
      await register(A, 0xan)
      await register(B, 0xbn)
      await reserve(A, 0xan, type)
      await out(A, SA.RELEASE, basic({ key: 0xan }), type)
      expect(reservation()).toBeUndefined()
      expect(unitAttentions).toEqual(expected)
    }
  })
})

describe('CLEAR (SPC-4 5.9.11.6)', () => {
  it('removes every registration and the reservation, with RESERVATIONS PREEMPTED to the others', async () => {
    const { out, register, reserve, reservation, keys, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await register(C, 0xcn)
    await reserve(B, 0xbn, PrType.EXCLUSIVE_ACCESS)
    await out(A, SA.CLEAR, basic({ key: 0xan }))
    expect(keys()).toEqual({ generation: 4, keys: [] })
    expect(reservation()).toBeUndefined()
    expect(unitAttentions).toEqual([
      [B.id, 'RESERVATIONS_PREEMPTED'],
      [C.id, 'RESERVATIONS_PREEMPTED'],
    ])
  })

  it('conflicts for an unregistered nexus or a wrong key', async () => {
    const { out, register, keys } = setup()
    await register(A, 0xan)
    expect(await failure(out(B, SA.CLEAR, basic({ key: 0n })))).toMatchObject(CONFLICT)
    expect(await failure(out(A, SA.CLEAR, basic({ key: 0xbn })))).toMatchObject(CONFLICT)
    expect(keys().keys).toEqual([0xan])
  })
})

describe('PREEMPT and PREEMPT AND ABORT (SPC-4 5.9.11.4, 5.9.11.5)', () => {
  it('without a reservation removes the registrations with the key, with REGISTRATIONS PREEMPTED', async () => {
    const { out, register, keys, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await register(C, 0xbn)
    await out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0xbn }), PrType.WRITE_EXCLUSIVE)
    expect(keys()).toEqual({ generation: 4, keys: [0xan] })
    expect(unitAttentions).toEqual([
      [B.id, 'REGISTRATIONS_PREEMPTED'],
      [C.id, 'REGISTRATIONS_PREEMPTED'],
    ])
  })

  it('takes the reservation of the holder, and announces the type change to the remaining registrants', async () => {
    const { out, register, reserve, reservation, keys, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await register(C, 0xcn)
    await reserve(B, 0xbn, PrType.WRITE_EXCLUSIVE)
    await out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0xbn }), PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 6 })
    expect(keys().keys).toEqual([0xan, 0xcn])
    expect(unitAttentions).toEqual([
      [C.id, 'RESERVATIONS_RELEASED'],
      [B.id, 'REGISTRATIONS_PREEMPTED'],
    ])
  })

  it('lets the holder preempt itself to change the type, keeping its registration', async () => {
    const { out, register, reserve, reservation, keys } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    await out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0xan }), PrType.EXCLUSIVE_ACCESS)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 3 })
    expect(keys().keys).toEqual([0xan])
  })

  it('with a zero key preempts an all-registrants reservation: every other registration goes', async () => {
    const { out, register, reserve, reservation, keys, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await reserve(B, 0xbn, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    await out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0n }), PrType.EXCLUSIVE_ACCESS)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 3 })
    expect(keys().keys).toEqual([0xan])
    expect(unitAttentions).toEqual([[B.id, 'REGISTRATIONS_PREEMPTED']])
  })

  it('with a non-holder key removes only those registrations and keeps the reservation', async () => {
    const { out, register, reserve, reservation, keys } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await register(C, 0xcn)
    await reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    await out(B, SA.PREEMPT, basic({ key: 0xbn, saKey: 0xcn }), PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 6 })
    expect(keys().keys).toEqual([0xan, 0xbn])
  })

  it('refuses a zero key without a reservation (INVALID FIELD IN PARAMETER LIST) and an unknown key (conflict)', async () => {
    const { out, register, keys } = setup()
    await register(A, 0xan)
    expect(await failure(out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0n }), PrType.WRITE_EXCLUSIVE))).toMatchObject({
      ...INVALID_PARAMETER,
      fieldPointer: { inCdb: false, byte: 8 },
    })
    expect(await failure(out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0x99n }), PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    expect(await failure(out(B, SA.PREEMPT, basic({ key: 0n, saKey: 0xan }), PrType.WRITE_EXCLUSIVE))).toMatchObject(CONFLICT)
    expect(await failure(out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0xan }), 2))).toMatchObject(INVALID_CDB)
    expect(keys()).toEqual({ generation: 1, keys: [0xan] })
  })

  it('PREEMPT AND ABORT aborts the tasks of every preempted I_T nexus', async () => {
    const { out, register, reserve, aborted, unitAttentions } = setup()
    await register(A, 0xan)
    await register(B, 0xbn, { allTgPt: true })
    await reserve(B, 0xbn, PrType.EXCLUSIVE_ACCESS)
    await out(A, SA.PREEMPT_AND_ABORT, basic({ key: 0xan, saKey: 0xbn }), PrType.EXCLUSIVE_ACCESS)
    expect(aborted).toEqual([[B.id]])
    expect(unitAttentions).toEqual([[B.id, 'REGISTRATIONS_PREEMPTED']])
    // PREEMPT alone aborts nothing.
    const plain = setup()
    await plain.register(A, 0xan)
    await plain.register(B, 0xbn)
    await plain.out(A, SA.PREEMPT, basic({ key: 0xan, saKey: 0xbn }), PrType.EXCLUSIVE_ACCESS)
    expect(plain.aborted).toEqual([])
  })
})

describe('REGISTER AND MOVE (SPC-4 5.9.8)', () => {
  const tidC = encodeIscsiTransportId('iqn.1994-05.com.example:c', '000000000003')

  it('registers the destination, moves the reservation and optionally unregisters the source', async () => {
    const { out, register, reserve, reservation, keys, allowed } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS)
    await out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0xcn, 1, tidC))
    expect(reservation()).toEqual({ key: 0xcn, scope: 0, type: 3 })
    expect(keys()).toEqual({ generation: 2, keys: [0xan, 0xcn] })
    expect(allowed(C, WRITE_10)).toBe(true)
    expect(allowed(A, WRITE_10)).toBe(false)
    // C moves it on to B (already registered: its key is replaced) and unregisters itself.
    await register(B, 0xbn)
    const tidB = encodeIscsiTransportId('iqn.1994-05.com.example:b', '000000000002')
    await out(C, SA.REGISTER_AND_MOVE, moveList(0xcn, 0xb2n, 1, tidB, { unreg: true }))
    expect(reservation()).toEqual({ key: 0xb2n, scope: 0, type: 3 })
    expect(keys().keys).toEqual([0xan, 0xb2n])
  })

  it('conflicts unless the issuer holds a reservation that is not all-registrants', async () => {
    const { out, register, reserve } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0xcn, 1, tidC)))).toMatchObject(CONFLICT) // no reservation
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(await failure(out(B, SA.REGISTER_AND_MOVE, moveList(0xbn, 0xcn, 1, tidC)))).toMatchObject(CONFLICT) // not the holder
    expect(await failure(out(C, SA.REGISTER_AND_MOVE, moveList(0n, 0xcn, 1, tidC)))).toMatchObject(CONFLICT) // unregistered
    const allRegistrants = setup()
    await allRegistrants.register(A, 0xan)
    await allRegistrants.reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    expect(await failure(allRegistrants.out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0xcn, 1, tidC)))).toMatchObject(CONFLICT)
  })

  it('refuses a zero key, its own initiator port, an unknown target port and malformed lengths', async () => {
    const { out, register, reserve, reservation } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0n, 1, tidC)))).toMatchObject({ ...INVALID_PARAMETER, fieldPointer: { inCdb: false, byte: 8 } })
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0x5n, 2, A.transportId)))).toMatchObject({
      ...INVALID_PARAMETER,
      fieldPointer: { inCdb: false, byte: 24 },
    })
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0x5n, 9, tidC)))).toMatchObject({
      ...INVALID_PARAMETER,
      fieldPointer: { inCdb: false, byte: 18 },
    })
    const long = moveList(0xan, 0x5n, 1, tidC)
    long.writeUInt32BE(tidC.length + 4, 20)
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, long))).toMatchObject(LENGTH_ERROR)
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, Buffer.concat([moveList(0xan, 0x5n, 1, tidC), Buffer.alloc(4)])))).toMatchObject(INVALID_PARAMETER)
    expect(await failure(out(A, SA.REGISTER_AND_MOVE, moveList(0xan, 0x5n, 1, tidC).subarray(0, 20)))).toMatchObject(LENGTH_ERROR)
    expect(reservation()).toEqual({ key: 0xan, scope: 0, type: 1 })
  })
})

describe('PERSISTENT RESERVE OUT CDB and parameter list checks (SPC-4 6.16)', () => {
  it('requires PARAMETER LIST LENGTH 24 without SPEC_I_PT', async () => {
    const { out, register, keys } = setup()
    expect(await failure(out(A, SA.REGISTER, basic({ saKey: 1n }).subarray(0, 23)))).toMatchObject(LENGTH_ERROR)
    expect(await failure(out(A, SA.REGISTER, Buffer.concat([basic({ saKey: 1n }), Buffer.alloc(4)])))).toMatchObject(LENGTH_ERROR)
    await register(A, 0xan)
    expect(await failure(out(A, SA.CLEAR, Buffer.concat([basic({ key: 0xan }), Buffer.alloc(8)])))).toMatchObject(LENGTH_ERROR)
    expect(keys().keys).toEqual([0xan])
  })

  it('refuses SPEC_I_PT for any service action but REGISTER, and an undefined service action', async () => {
    const { out, register, reservations } = setup()
    await register(A, 0xan)
    const error = await failure(out(A, SA.REGISTER_AND_IGNORE_EXISTING_KEY, basic({ saKey: 2n, specIPt: true })))
    expect(error).toMatchObject({ ...INVALID_PARAMETER, fieldPointer: { inCdb: false, byte: 20, bit: 3 } })
    expect(await failure(out(A, SA.RESERVE, basic({ key: 0xan, specIPt: true }), PrType.WRITE_EXCLUSIVE))).toMatchObject(INVALID_PARAMETER)
    const cdb = prOutCdb(0x08, 0, 24)
    expect(await failure(reservations.persistentReserveOut(A, cdb, Buffer.alloc(24), () => []))).toMatchObject({
      ...INVALID_CDB,
      fieldPointer: { inCdb: true, byte: 1, bit: 4 },
    })
  })

  it('refuses APTPL without a store, consistent with PTPL_C=0', async () => {
    const { register, keys } = setup()
    expect(await failure(register(A, 1n, { aptpl: true }))).toMatchObject({ ...INVALID_PARAMETER, fieldPointer: { inCdb: false, byte: 20, bit: 0 } })
    expect(keys().keys).toEqual([])
  })

  it('refuses more registrations than the limit with INSUFFICIENT REGISTRATION RESOURCES', async () => {
    const reservations = new Reservations({ unitAttention: () => undefined, maxRegistrations: 2 })
    const out = (n: Nexus, saKey: bigint) => reservations.persistentReserveOut(n, prOutCdb(SA.REGISTER, 0, 24), basic({ saKey }), () => [])
    await out(A, 1n)
    await out(B, 2n)
    expect(await failure(out(C, 3n))).toMatchObject({ status: 2, senseKey: 5, asc: 0x55, ascq: 0x04 })
  })
})

// ---- access control ----

describe('access control under persistent reservations (SPC-4 5.9.1 tables 62/63, SBC-3 4.17.2 table 13)', () => {
  // [type, registrant (read, write), non-registrant (read, write)], as iscsi-test-cu ProutReserve.Access* expects.
  const matrix: Array<[PrTypeName, [boolean, boolean], [boolean, boolean]]> = [
    ['WRITE_EXCLUSIVE', [true, false], [true, false]],
    ['EXCLUSIVE_ACCESS', [false, false], [false, false]],
    ['WRITE_EXCLUSIVE_REGISTRANTS_ONLY', [true, true], [true, false]],
    ['EXCLUSIVE_ACCESS_REGISTRANTS_ONLY', [true, true], [false, false]],
    ['WRITE_EXCLUSIVE_ALL_REGISTRANTS', [true, true], [true, false]],
    ['EXCLUSIVE_ACCESS_ALL_REGISTRANTS', [true, true], [false, false]],
  ]

  for (const [name, [registrantRead, registrantWrite], [otherRead, otherWrite]] of matrix) {
    it(`${name}: holder, registrant and non-registrant`, async () => {
      const { register, reserve, allowed } = setup()
      await register(A, 0xan)
      await register(B, 0xbn)
      await reserve(A, 0xan, PrType[name])
      for (const cdb of [READ_10, WRITE_10, MODE_SENSE_6, SYNCHRONIZE_CACHE_10, GET_LBA_STATUS]) expect(allowed(A, cdb)).toBe(true)
      // Reads and the read-like commands (ALLOW COMMANDS 011b) follow the read column...
      for (const cdb of [READ_10, MODE_SENSE_6, GET_LBA_STATUS]) {
        expect(allowed(B, cdb)).toBe(registrantRead)
        expect(allowed(C, cdb)).toBe(otherRead)
      }
      // ...writes and the other commands that change the medium follow the write column.
      for (const cdb of [WRITE_10, SYNCHRONIZE_CACHE_10]) {
        expect(allowed(B, cdb)).toBe(registrantWrite)
        expect(allowed(C, cdb)).toBe(otherWrite)
      }
      // Always allowed (table 62): TEST UNIT READY, INQUIRY, REPORT LUNS, READ CAPACITY, PERSISTENT RESERVE IN.
      for (const cdb of [TEST_UNIT_READY, INQUIRY, REPORT_LUNS, READ_CAPACITY_16, prInCdb(0)]) expect(allowed(C, cdb)).toBe(true)
    })
  }

  it('filters PERSISTENT RESERVE OUT service actions by registration (table 63)', async () => {
    const { register, reserve, allowed } = setup()
    await register(A, 0xan)
    await register(B, 0xbn)
    await reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS)
    const cdb = (action: number) => prOutCdb(action, PrType.EXCLUSIVE_ACCESS, 24)
    for (const action of [SA.REGISTER, SA.REGISTER_AND_IGNORE_EXISTING_KEY]) {
      expect(allowed(B, cdb(action))).toBe(true)
      expect(allowed(C, cdb(action))).toBe(true)
    }
    for (const action of [SA.CLEAR, SA.PREEMPT, SA.PREEMPT_AND_ABORT, SA.RELEASE]) {
      expect(allowed(B, cdb(action))).toBe(true)
      expect(allowed(C, cdb(action))).toBe(false)
    }
    for (const action of [SA.RESERVE, SA.REGISTER_AND_MOVE]) expect(allowed(B, cdb(action))).toBe(false)
  })

  it('restricts nothing with registrations alone', async () => {
    const { register, allowed } = setup()
    await register(A, 0xan)
    expect(allowed(C, WRITE_10)).toBe(true)
  })

  it('never throws anything but RESERVATION CONFLICT for any CDB', async () => {
    const { register, reserve, reservations } = setup()
    await register(A, 0xan)
    await reserve(A, 0xan, PrType.EXCLUSIVE_ACCESS)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (raw) => {
        try {
          reservations.checkAccess(C, Buffer.from(raw))
        } catch (error) {
          expect(error).toMatchObject(CONFLICT)
        }
      }),
      { numRuns: 1000 },
    )
  })
})

// ---- APTPL ----

describe('APTPL: persistence through power loss (SPC-4 5.9.5)', () => {
  it('restores registrations and reservation in a new instance over the same store', async () => {
    const store = new MemoryStore()
    const before = setup({ store })
    await before.register(A, 0xan, { aptpl: true })
    await before.register(B, 0xbn, { aptpl: true })
    await before.reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    expect(store.saves).toBe(3)

    const after = setup({ store })
    await after.reservations.load()
    // PRgeneration restarts at zero at power on (6.15.2); the rest is as it was.
    expect(after.keys()).toEqual({ generation: 0, keys: [0xan, 0xbn] })
    expect(after.reservation()).toEqual({ key: 0xan, scope: 0, type: 5 })
    expect(after.allowed(B, WRITE_10)).toBe(true)
    expect(after.allowed(C, WRITE_10)).toBe(false)
    expect([...after.reservations.persistentReserveIn(A, prInCdb(2)).subarray(2, 4)]).toEqual([0x1d, 0xb1])
  })

  it('does not persist state registered with APTPL=0, and APTPL=0 clears what was persisted', async () => {
    const store = new MemoryStore()
    const plain = setup({ store })
    await plain.register(A, 0xan)
    expect(store.saves).toBe(0)

    const first = setup({ store })
    await first.register(A, 0xan, { aptpl: true })
    await first.out(A, SA.REGISTER, basic({ key: 0xan, saKey: 0xa2n })) // APTPL=0 now
    expect(store.saves).toBe(2)
    const restarted = setup({ store })
    await restarted.reservations.load()
    expect(restarted.keys().keys).toEqual([])
  })

  it('reports a corrupt store as a typed error at load', async () => {
    const store = new MemoryStore()
    const corrupt = async (saved: Buffer) => {
      store.saved = saved
      const error = await failure(new Reservations({ store, unitAttention: () => undefined }).load())
      expect(error.code).toBe('ISCSI_ERR_SCSI_RESERVATION_STORE_CORRUPT')
    }
    await corrupt(Buffer.from('{not json'))
    await corrupt(Buffer.from(JSON.stringify({ format: 'iscsi-ts/persistent-reservations', version: 99, aptpl: true, registrations: [], reservation: null })))
    await corrupt(
      Buffer.from(
        JSON.stringify({
          format: 'iscsi-ts/persistent-reservations',
          version: 1,
          aptpl: true,
          registrations: [{ key: 'xyz', transportId: '00', relativeTargetPortId: 1, allTargetPorts: false }],
          reservation: null,
        }),
      ),
    )
    await corrupt(Buffer.from(JSON.stringify({ format: 'iscsi-ts/persistent-reservations', version: 1, aptpl: true, registrations: [], reservation: { holder: 0, type: 1, scope: 0 } })))
  })

  it('leaves the state and the other nexuses untouched when the store fails to save', async () => {
    const store = new MemoryStore()
    const { register, out, keys, unitAttentions } = setup({ store })
    await register(A, 0xan, { aptpl: true })
    await register(B, 0xbn, { aptpl: true })
    store.fail = true
    const error = await failure(out(A, SA.CLEAR, basic({ key: 0xan })))
    expect(error).toMatchObject({ status: 2, senseKey: 0x4, asc: 0x44, ascq: 0 })
    expect(keys().keys).toEqual([0xan, 0xbn])
    expect(unitAttentions).toEqual([])
  })
})

// ---- SPC-2 RESERVE / RELEASE ----

describe('RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21, 7.17; SPC-4 5.9.3)', () => {
  const RESERVE_6 = Buffer.from([0x16, 0, 0, 0, 0, 0])
  const RELEASE_6 = Buffer.from([0x17, 0, 0, 0, 0, 0])
  const RESERVE_10 = Buffer.from([0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  const RELEASE_10 = Buffer.from([0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0])

  it('reserves the logical unit for one I_T nexus across two initiators (iscsi-test-cu Reserve6.2Initiators)', () => {
    const { reservations, allowed } = setup()
    reservations.reserve(A, RESERVE_6)
    reservations.reserve(A, RESERVE_6) // the holder may reserve again
    expect(syncFailure(() => reservations.reserve(B, RESERVE_6))).toMatchObject(CONFLICT)
    reservations.release(B, RELEASE_6) // a non-holder's RELEASE is GOOD and does nothing
    expect(allowed(A, MODE_SENSE_6)).toBe(true)
    expect(allowed(B, MODE_SENSE_6)).toBe(false)
    expect(allowed(B, READ_10)).toBe(false)
    expect(allowed(B, TEST_UNIT_READY)).toBe(false)
    for (const cdb of [INQUIRY, REPORT_LUNS, READ_CAPACITY_16, RELEASE_6, RESERVE_6]) expect(allowed(B, cdb)).toBe(true)
    reservations.release(A, RELEASE_6)
    reservations.reserve(B, RESERVE_10)
    expect(allowed(A, WRITE_10)).toBe(false)
    reservations.release(B, RELEASE_10)
    expect(allowed(A, WRITE_10)).toBe(true)
  })

  it('is released by I_T nexus loss and by a reset', () => {
    const { reservations, allowed } = setup()
    reservations.reserve(A, RESERVE_10)
    reservations.nexusLoss(B)
    expect(allowed(B, WRITE_10)).toBe(false)
    reservations.nexusLoss(A)
    expect(allowed(B, WRITE_10)).toBe(true)
    reservations.reserve(A, RESERVE_10)
    reservations.reset()
    expect(allowed(B, WRITE_10)).toBe(true)
  })

  it('makes persistent reservation commands conflict while it exists (SPC-2 5.5.1)', async () => {
    const { reservations, register, allowed } = setup()
    reservations.reserve(A, RESERVE_6)
    expect(allowed(A, prInCdb(0))).toBe(false)
    expect(syncFailure(() => reservations.persistentReserveIn(A, prInCdb(0)))).toMatchObject(CONFLICT)
    expect(await failure(register(A, 1n))).toMatchObject(CONFLICT)
  })

  it('conflicts while registrations exist, except from the holder or a registrant of a registrants type (SPC-4 5.9.3)', async () => {
    const { reservations, register, reserve } = setup()
    await register(A, 0xan)
    expect(syncFailure(() => reservations.reserve(A, RESERVE_6))).toMatchObject(CONFLICT) // registered, no reservation
    expect(syncFailure(() => reservations.release(C, RELEASE_6))).toMatchObject(CONFLICT)
    await register(B, 0xbn)
    await reserve(A, 0xan, PrType.WRITE_EXCLUSIVE)
    reservations.reserve(A, RESERVE_6) // GOOD, nothing established
    expect(syncFailure(() => reservations.reserve(B, RESERVE_6))).toMatchObject(CONFLICT)
    const registrants = setup()
    await registrants.register(A, 0xan)
    await registrants.register(B, 0xbn)
    await registrants.reserve(A, 0xan, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    registrants.reservations.reserve(B, RESERVE_10)
    registrants.reservations.release(B, RELEASE_10)
    expect(registrants.allowed(C, READ_10)).toBe(true) // no SPC-2 reservation was created
  })

  it('refuses extent and third-party reservations with INVALID FIELD IN CDB', () => {
    const { reservations } = setup()
    expect(syncFailure(() => reservations.reserve(A, Buffer.from([0x16, 0x01, 0, 0, 0, 0])))).toMatchObject({ ...INVALID_CDB, fieldPointer: { inCdb: true, byte: 1, bit: 0 } })
    expect(syncFailure(() => reservations.reserve(A, Buffer.from([0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0])))).toMatchObject({
      ...INVALID_CDB,
      fieldPointer: { inCdb: true, byte: 1, bit: 4 },
    })
    expect(syncFailure(() => reservations.release(A, Buffer.from([0x57, 0x02, 0, 0, 0, 0, 0, 0, 0, 0])))).toMatchObject(INVALID_CDB)
  })
})

// ---- robustness ----

describe('robustness', () => {
  const nexuses = [A, B, C, A2]
  const keyArb = fc.constantFrom(0n, 0xan, 0xbn, 0xcn, 0xffffffffffffffffn)
  const transportIdArb = fc.oneof(
    fc.constantFrom(...nexuses.map((n) => n.transportId)),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  )
  const listArb = fc.oneof(
    // Well-formed basic lists with random flags and keys.
    fc
      .record({ key: keyArb, saKey: keyArb, flags: fc.nat(255), tids: fc.array(transportIdArb, { maxLength: 3 }) })
      .map(({ key, saKey, flags, tids }) => {
        const list = basic({ key, saKey, specIPt: (flags & 8) !== 0, transportIds: tids })
        list[20] = flags
        return list
      }),
    fc.record({ key: keyArb, saKey: keyArb, flags: fc.nat(3), rtpi: fc.nat(3), tid: transportIdArb }).map(({ key, saKey, flags, rtpi, tid }) => {
      const list = moveList(key, saKey, rtpi, tid)
      list[17] = flags
      return list
    }),
    // Random bytes.
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
  )
  const commandArb = fc.record({
    nexus: fc.nat(nexuses.length - 1),
    action: fc.oneof(fc.nat(7), fc.nat(31)),
    type: fc.oneof(fc.constantFrom(1, 3, 5, 6, 7, 8), fc.nat(15)),
    scope: fc.oneof(fc.constant(0), fc.nat(15)),
    list: listArb,
    lengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -30, max: 30 })),
  })

  it('random PERSISTENT RESERVE OUT sequences only ever fail with a ScsiError and keep the state coherent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 25 }), async (commands) => {
        const store = new MemoryStore()
        const reservations = new Reservations({ store, unitAttention: () => undefined, abortTasks: () => undefined })
        for (const command of commands) {
          const nexus = nexuses[command.nexus]!
          const length = Math.max(0, command.list.length + command.lengthDelta)
          const cdb = prOutCdb(command.action, command.type, length, command.scope)
          const result = await reservations.persistentReserveOut(nexus, cdb, command.list, () => nexuses).then(
            () => undefined,
            (e: unknown) => e,
          )
          if (result !== undefined) expect(result).toBeInstanceOf(ScsiError)
          for (const action of [0, 1, 2, 3]) reservations.persistentReserveIn(nexus, prInCdb(action))
          for (const n of nexuses) {
            try {
              reservations.checkAccess(n, WRITE_10)
            } catch (error) {
              expect(error).toMatchObject(CONFLICT)
            }
          }
        }
        // Whatever was persisted reads back.
        const restarted = new Reservations({ store, unitAttention: () => undefined })
        await restarted.load()
        const keys = reservations.persistentReserveIn(A, prInCdb(0))
        const restartedKeys = restarted.persistentReserveIn(A, prInCdb(0))
        const aptplActive = ((reservations.persistentReserveIn(A, prInCdb(2))[3] ?? 0) & 1) === 1
        if (aptplActive) expect(restartedKeys.subarray(4)).toEqual(keys.subarray(4))
        else expect(restartedKeys.readUInt32BE(4)).toBe(0)
      }),
      { numRuns: 150, interruptAfterTimeLimit: 2500 },
    )
  })
})
