import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { coversInitiator, decodeTransportId, encodeIscsiTransportId, overlapsInitiator, sameInitiator, transportIdOfNexus } from './transport-id.js'
import type { Nexus } from '../device/nexus.js'

describe('iSCSI TransportID (SPC-4 7.6.4.6)', () => {
  // Format 01b: "name,i,0x<isid>", NUL-terminated, padded to a multiple of four.
  const port = Buffer.concat([
    Buffer.from([
      0x45, // FORMAT CODE 01b, PROTOCOL IDENTIFIER 5h (iSCSI)
      0x00, // reserved
      0x00,
      0x2c, // ADDITIONAL LENGTH 44: 42 characters, NUL, one pad byte
    ]),
    Buffer.from('iqn.1994-05.com.example:a,i,0x00023d000001\0\0', 'latin1'),
  ])

  it('decodes a format 01b TransportID into a port identity', () => {
    const decoded = decodeTransportId(port)
    expect(decoded.ok).toBe(true)
    if (!decoded.ok) return
    expect(decoded.bytesRead).toBe(48)
    expect(decoded.value.protocol).toBe(5)
    expect(decoded.value.identity).toEqual({ kind: 'iscsi', name: 'iqn.1994-05.com.example:a', isid: '00023d000001' })
    expect(decoded.value.bytes).toEqual(port)
  })

  it('encodes the same bytes', () => {
    expect(encodeIscsiTransportId('iqn.1994-05.com.example:a', '00023d000001')).toEqual(port)
  })

  it('encodes a format 00b name with the 20-byte minimum ADDITIONAL LENGTH', () => {
    const bytes = encodeIscsiTransportId('iqn.x')
    expect([...bytes.subarray(0, 4)]).toEqual([0x05, 0x00, 0x00, 0x14])
    expect(bytes).toHaveLength(24)
    expect(bytes.subarray(4, 10).toString('latin1')).toBe('iqn.x\0')
    const decoded = decodeTransportId(bytes)
    expect(decoded.ok && decoded.value.identity).toEqual({ kind: 'iscsi', name: 'iqn.x', isid: undefined })
  })

  it('round-trips names and ISIDs, comparing names without case', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9.:-]{1,100}$/), fc.option(fc.stringMatching(/^[0-9a-f]{12}$/), { nil: undefined }), (name, isid) => {
        const bytes = encodeIscsiTransportId(name, isid)
        expect(bytes.length % 4).toBe(0)
        const decoded = decodeTransportId(bytes)
        expect(decoded.ok).toBe(true)
        if (decoded.ok) expect(decoded.value.identity).toEqual({ kind: 'iscsi', name: name.toLowerCase(), isid })
      }),
      { numRuns: 300 },
    )
  })

  it('reads a fixed 24-byte TransportID (SAS, SPC-4 7.6.4.7)', () => {
    const sas = Buffer.alloc(24)
    sas[0] = 0x06
    sas.writeBigUInt64BE(0x5000c50012345678n, 4)
    const decoded = decodeTransportId(sas)
    expect(decoded.ok && decoded.bytesRead).toBe(24)
    expect(decoded.ok && decoded.value.identity.kind).toBe('fixed')
  })

  it('refuses truncated, unterminated, reserved-format and unknown-protocol TransportIDs with the byte at fault', () => {
    expect(decodeTransportId(port.subarray(0, 3))).toEqual({ ok: false, problem: { byte: 0, reason: 'TransportID truncated' } })
    expect(decodeTransportId(port, 0, 40)).toMatchObject({ ok: false, problem: { byte: 2 } })
    const badLength = Buffer.from(port)
    badLength.writeUInt16BE(18, 2) // below 20
    expect(decodeTransportId(badLength)).toMatchObject({ ok: false, problem: { byte: 2 } })
    const unterminated = Buffer.from(port)
    unterminated.fill(0x41, 4)
    expect(decodeTransportId(unterminated)).toMatchObject({ ok: false, problem: { byte: 4 } })
    const reserved = Buffer.from(port)
    reserved[0] = 0x85 // format 10b
    expect(decodeTransportId(reserved)).toMatchObject({ ok: false, problem: { byte: 0 } })
    const noIsid = Buffer.from(port)
    noIsid[0] = 0x45
    noIsid.write('iqn.bare-name-without-port-part\0', 4, 'latin1')
    expect(decodeTransportId(noIsid)).toMatchObject({ ok: false })
    const unknown = Buffer.alloc(24)
    unknown[0] = 0x0f
    expect(decodeTransportId(unknown)).toMatchObject({ ok: false, problem: { byte: 0 } })
  })

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (raw, offset) => {
        const result = decodeTransportId(Buffer.from(raw), offset)
        if (result.ok) expect(offset + result.bytesRead).toBeLessThanOrEqual(raw.length)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('initiator identities', () => {
  const nexus = (initiatorPort: string, transportId: Buffer = Buffer.alloc(0)): Nexus => ({
    id: initiatorPort,
    initiatorPort,
    targetPort: 'iqn.t,t,0x1',
    relativeTargetPortId: 1,
    transportId,
  })

  it("uses the nexus's own TransportID, else derives one from an iSCSI port name, else keeps the name opaque", () => {
    const own = transportIdOfNexus(nexus('whatever', encodeIscsiTransportId('iqn.a', '000000000001')))
    expect(own.identity).toEqual({ kind: 'iscsi', name: 'iqn.a', isid: '000000000001' })
    const derived = transportIdOfNexus(nexus('iqn.B,i,0x23D000001'))
    expect(derived.identity).toEqual({ kind: 'iscsi', name: 'iqn.b', isid: '00023d000001' })
    expect(derived.bytes[0]).toBe(0x45)
    const opaque = transportIdOfNexus(nexus('nbd-client\0-7'))
    expect(opaque.identity).toEqual({ kind: 'iscsi', name: 'nbd-client?-7', isid: undefined })
    const decodedBack = decodeTransportId(opaque.bytes)
    expect(decodedBack.ok && decodedBack.value.identity).toEqual(opaque.identity)
  })

  it('lets a name-only identity cover every port of that initiator, and not the reverse', () => {
    const device = { kind: 'iscsi', name: 'iqn.a', isid: undefined } as const
    const port1 = { kind: 'iscsi', name: 'iqn.a', isid: '000000000001' } as const
    const port2 = { kind: 'iscsi', name: 'iqn.a', isid: '000000000002' } as const
    expect(coversInitiator(device, port1)).toBe(true)
    expect(coversInitiator(port1, device)).toBe(false)
    expect(coversInitiator(port1, port2)).toBe(false)
    expect(overlapsInitiator(port1, device)).toBe(true)
    expect(overlapsInitiator(port1, port2)).toBe(false)
    expect(sameInitiator(port1, { ...port1 })).toBe(true)
    expect(sameInitiator(port1, device)).toBe(false)
  })
})
