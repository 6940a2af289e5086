import { describe, expect, it } from 'vitest'
import { decodePdu, encodePdu } from './codec.js'
import { Opcode } from './opcode.js'
import { buildLoginRequest, builders, decodeAll, frameChunks, loginText, pduBytes } from './testing.js'

describe('testing helpers', () => {
  it('has a builder for every opcode whose output survives strict decoding', () => {
    expect(Object.keys(builders).map(Number).sort((a, b) => a - b)).toEqual(Object.values(Opcode).sort((a, b) => a - b))
    for (const build of Object.values(builders)) {
      const pdu = build()
      expect(decodePdu(encodePdu(pdu), 0, { strict: true }).value).toEqual(pdu)
    }
  })

  it('builds a login request from partial fields', () => {
    const pdu = buildLoginRequest({ cid: 7, data: loginText({ InitiatorName: 'iqn.2024-01.test:i', SessionType: 'Normal' }) })
    expect(pdu).toMatchObject({ opcode: Opcode.LoginRequest, cid: 7, transit: true, csg: 0, nsg: 1 })
    expect(pdu.data.toString()).toBe('InitiatorName=iqn.2024-01.test:i\0SessionType=Normal\0')
  })

  it('pduBytes, decodeAll and frameChunks agree', () => {
    const list = Object.values(builders).map((build) => build())
    const bytes = pduBytes(list, { headerDigest: true, dataDigest: true })
    expect(decodeAll(bytes, { headerDigest: true, dataDigest: true })).toEqual(list)
    expect(frameChunks([bytes], { headerDigest: true, dataDigest: true }).pdus).toEqual(list)
  })
})
