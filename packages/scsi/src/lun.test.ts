import { describe, expect, it } from 'vitest'
import { ScsiDecodeError } from './errors.js'
import { decodeLun, encodeLun } from './lun.js'

describe('LUN structure (SAM-5 4.7.7)', () => {
  it('uses peripheral device addressing below 256 and flat space addressing above', () => {
    expect(encodeLun(5)).toEqual(Buffer.from([0x00, 0x05, 0, 0, 0, 0, 0, 0]))
    expect(encodeLun(0x1234)).toEqual(Buffer.from([0x52, 0x34, 0, 0, 0, 0, 0, 0]))
    for (const lun of [0, 1, 255, 256, 0x3fff]) expect(decodeLun(encodeLun(lun))).toBe(lun)
    expect(() => encodeLun(0x4000)).toThrow(RangeError)
    expect(() => encodeLun(-1)).toThrow(RangeError)
  })

  it('refuses what it cannot decode', () => {
    expect(() => decodeLun(Buffer.alloc(7))).toThrow(ScsiDecodeError)
    expect(() => decodeLun(Buffer.from([0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0]))).toThrow(ScsiDecodeError) // second level
    expect(() => decodeLun(Buffer.from([0x80, 0x01, 0, 0, 0, 0, 0, 0]))).toThrow(ScsiDecodeError) // logical unit addressing
    expect(() => decodeLun(Buffer.from([0x01, 0x01, 0, 0, 0, 0, 0, 0]))).toThrow(ScsiDecodeError) // bus identifier
  })
})
