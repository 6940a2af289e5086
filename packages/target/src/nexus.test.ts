import { describe, expect, it } from 'vitest'
import { decodeTransportId } from '@iscsi-ts/scsi'
import { buildNexus, iscsiTransportId } from './nexus.js'

describe('I_T nexus names (RFC 7143 4.4.2, SPC-4 7.6.4.6)', () => {
  const isid = Buffer.from([0x80, 0x01, 0x02, 0x03, 0x04, 0x05])

  it('names the ports the RFC way', () => {
    const nexus = buildNexus('iqn.2026-11.io.x:i', isid, 'iqn.2026-11.io.x:t', 3)
    expect(nexus.initiatorPort).toBe('iqn.2026-11.io.x:i,i,0x800102030405')
    expect(nexus.targetPort).toBe('iqn.2026-11.io.x:t,t,0x0003')
    expect(nexus.id).toBe('iqn.2026-11.io.x:i,i,0x800102030405|iqn.2026-11.io.x:t,t,0x0003')
    expect(nexus.relativeTargetPortId).toBe(3)
  })

  it('builds a format 01b iSCSI TransportID: NUL terminated, padded to 4, at least 20 bytes', () => {
    const id = iscsiTransportId('iqn.2026-11.io.x:i', isid)
    expect(id[0]).toBe(0x45)
    const length = id.readUInt16BE(2)
    expect(length % 4).toBe(0)
    expect(length).toBeGreaterThanOrEqual(20)
    expect(id.length).toBe(4 + length)
    const name = 'iqn.2026-11.io.x:i,i,0x800102030405'
    expect(id.subarray(4, 4 + name.length).toString()).toBe(name)
    expect(id[4 + name.length]).toBe(0)
    // 'iqn.a:b,i,0x800102030405' is 24 bytes, 25 with the NUL, padded to 28.
    expect(iscsiTransportId('iqn.a:b', isid).readUInt16BE(2)).toBe(28)
    const decoded = decodeTransportId(id)
    expect(decoded.ok && decoded.value.identity).toEqual({ kind: 'iscsi', name: 'iqn.2026-11.io.x:i', isid: '800102030405' })
  })
})
