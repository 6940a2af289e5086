import { describe, expect, it } from 'vitest'
import { bits, fieldPointer, flag, markField, readField, uint, writeField } from './fields.js'

describe('CDB fields', () => {
  it('point at the most significant byte and bit of a field (SPC-4 4.5.2.4.2)', () => {
    expect(fieldPointer(flag(1, 3))).toEqual({ inCdb: true, byte: 1, bit: 3 })
    expect(fieldPointer(bits(1, 5, 3))).toEqual({ inCdb: true, byte: 1, bit: 7 })
    expect(fieldPointer(uint(2, 8))).toEqual({ inCdb: true, byte: 2 })
    // READ(6) LBA: 21 bits in bytes 1-3, its top bit is byte 1 bit 4.
    expect(fieldPointer(uint(1, 3, 21))).toEqual({ inCdb: true, byte: 1, bit: 4 })
    expect(fieldPointer(bits(2, 0, 6), false)).toEqual({ inCdb: false, byte: 2, bit: 5 })
  })

  it('mark the bits they cover', () => {
    const mask = Buffer.alloc(6)
    markField(mask, uint(1, 3, 21))
    markField(mask, flag(4, 7))
    expect(mask).toEqual(Buffer.from([0x00, 0x1f, 0xff, 0xff, 0x80, 0x00]))
  })

  it('write without disturbing neighbouring bits, and read back', () => {
    const cdb = Buffer.from([0, 0xff, 0, 0, 0, 0])
    writeField(cdb, bits(1, 1, 2), 0)
    expect(cdb[1]).toBe(0xf9)
    writeField(cdb, uint(1, 3, 21), 0x012345)
    expect(cdb.subarray(1, 4)).toEqual(Buffer.from([0xe1, 0x23, 0x45]))
    expect(readField(cdb, uint(1, 3, 21))).toBe(0x012345)
    const long = Buffer.alloc(10)
    writeField(long, uint(2, 8), 0xffff_ffff_ffff_ffffn)
    expect(readField(long, uint(2, 8))).toBe(2 ** 64)
  })
})
