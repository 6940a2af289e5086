import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ScsiError } from '../errors.js'
import { PrType } from './pr-codes.js'
import { type PrState, type Registration, cloneState, decodeState, emptyState, encodeState } from './pr-state.js'
import { decodeTransportId, encodeIscsiTransportId } from './transport-id.js'

function registration(name: string, key: bigint, relativeTargetPortId = 1, allTargetPorts = false, nexusId?: string): Registration {
  const decoded = decodeTransportId(encodeIscsiTransportId(name, '000000000001'))
  if (!decoded.ok) throw new Error('fixture')
  return { key, transportId: decoded.value.bytes, initiator: decoded.value.identity, relativeTargetPortId, allTargetPorts, nexusId }
}

describe('persistent reservation state serialisation (APTPL, SPC-4 5.9.5)', () => {
  it('writes a versioned JSON document', () => {
    const holder = registration('iqn.a', 0x0102n, 3, true, 'nexus-a')
    const state: PrState = { generation: 7, aptpl: true, registrations: [holder], reservation: { holder, type: PrType.EXCLUSIVE_ACCESS, scope: 0 } }
    expect(JSON.parse(encodeState(state).toString())).toEqual({
      format: 'iscsi-ts/persistent-reservations',
      version: 1,
      aptpl: true,
      registrations: [{ key: '0000000000000102', transportId: holder.transportId.toString('hex'), relativeTargetPortId: 3, allTargetPorts: true, nexusId: 'nexus-a' }],
      reservation: { holder: 0, type: 3, scope: 0 },
    })
  })

  it('round-trips registrations and the reservation holder; PRgeneration restarts at zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), rtpi: fc.nat(0xffff), all: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(...Object.values(PrType)),
        (entries, pick, type) => {
          const registrations = entries.map((e, i) => registration(`iqn.r${i}`, e.key, e.rtpi, e.all))
          const holder = registrations[pick % registrations.length]!
          const state: PrState = { generation: 5, aptpl: true, registrations, reservation: { holder, type, scope: 0 } }
          const back = decodeState(encodeState(state))
          expect(back.generation).toBe(0)
          expect(back.registrations).toEqual(registrations)
          expect(back.reservation?.holder).toBe(back.registrations[pick % registrations.length])
          expect(back.reservation?.type).toBe(type)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('stores nothing but the flag when APTPL is off', () => {
    const state: PrState = { ...emptyState(), registrations: [registration('iqn.a', 1n)] }
    expect(decodeState(encodeState(state))).toEqual(emptyState())
  })

  it('copies deeply enough that changing the copy leaves the original alone', () => {
    const holder = registration('iqn.a', 1n)
    const state: PrState = { generation: 1, aptpl: false, registrations: [holder], reservation: { holder, type: PrType.WRITE_EXCLUSIVE, scope: 0 } }
    const copy = cloneState(state)
    copy.registrations[0]!.key = 2n
    copy.registrations.push(registration('iqn.b', 3n))
    expect(copy.reservation?.holder).toBe(copy.registrations[0])
    expect(state.registrations).toHaveLength(1)
    expect(holder.key).toBe(1n)
  })

  it('rejects every malformed document with ISCSI_ERR_SCSI_RESERVATION_STORE_CORRUPT, never another error', () => {
    const good = JSON.parse(
      encodeState({ generation: 0, aptpl: true, registrations: [registration('iqn.a', 1n)], reservation: undefined }).toString(),
    ) as Record<string, unknown>
    const variants: unknown[] = [
      'garbage',
      [],
      { ...good, format: 'other' },
      { ...good, aptpl: 'yes' },
      { ...good, registrations: {} },
      { ...good, registrations: [{ key: '0000000000000000', transportId: '', relativeTargetPortId: 1, allTargetPorts: false }] },
      { ...good, registrations: [{ key: '0000000000000001', transportId: '0f00', relativeTargetPortId: 1, allTargetPorts: false }] },
      { ...good, registrations: [{ ...(good.registrations as object[])[0], relativeTargetPortId: 70000 }] },
      { ...good, reservation: { holder: 1, type: 1, scope: 0 } },
      { ...good, reservation: { holder: 0, type: 2, scope: 0 } },
      { ...good, reservation: { holder: 0, type: 1, scope: 1 } },
      { ...good, aptpl: false },
    ]
    for (const variant of variants) {
      expect(() => decodeState(Buffer.from(JSON.stringify(variant)))).toThrow(ScsiError)
      try {
        decodeState(Buffer.from(JSON.stringify(variant)))
      } catch (error) {
        expect((error as ScsiError).code).toBe('ISCSI_ERR_SCSI_RESERVATION_STORE_CORRUPT')
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        try {
          decodeState(Buffer.from(raw))
        } catch (error) {
          expect(error).toBeInstanceOf(ScsiError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
