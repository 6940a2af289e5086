import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PduErrorCode } from './errors.js'
import { decodeLun, encodeLun, MAX_LUN } from './lun.js'

function lunBytes(field: bigint): string {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(field)
  return b.toString('hex')
}

describe('LUN (SAM-5 4.6)', () => {
  it('uses peripheral device addressing below 256', () => {
    expect(lunBytes(encodeLun(0))).toBe('0000000000000000')
    expect(lunBytes(encodeLun(1))).toBe('0001000000000000')
    expect(lunBytes(encodeLun(255))).toBe('00ff000000000000')
  })

  it('uses flat space addressing from 256 to 16383', () => {
    expect(lunBytes(encodeLun(256))).toBe('4100000000000000')
    expect(lunBytes(encodeLun(300))).toBe('412c000000000000')
    expect(lunBytes(encodeLun(MAX_LUN))).toBe('7fff000000000000')
  })

  it('decodes both methods, including flat space below 256', () => {
    expect(decodeLun(0x0005000000000000n)).toBe(5)
    expect(decodeLun(0x4005000000000000n)).toBe(5)
    expect(decodeLun(0x7fff000000000000n)).toBe(16383)
  })

  it('round-trips every LUN', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_LUN }), (n) => decodeLun(encodeLun(n)) === n))
  })

  it('throws LunError for numbers out of range', () => {
    for (const n of [-1, 16384, 1.5, Number.NaN]) {
      expect(() => encodeLun(n)).toThrow(expect.objectContaining({ code: PduErrorCode.LunRange, reaction: { kind: 'none' } }))
    }
    expect(() => decodeLun(-1n)).toThrow(expect.objectContaining({ code: PduErrorCode.LunRange }))
  })

  it('throws LunError for unsupported address methods, buses and levels', () => {
    for (const field of [
      0x8001000000000000n, // logical unit addressing
      0xc101000000000000n, // extended addressing (well-known LUN)
      0x0101000000000000n, // peripheral, bus 1
      0x0001000100000000n, // second level
    ]) {
      expect(() => decodeLun(field)).toThrow(expect.objectContaining({ code: PduErrorCode.LunAddressMethod }))
    }
  })
})
