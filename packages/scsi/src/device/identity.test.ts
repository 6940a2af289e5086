import { describe, expect, it } from 'vitest'
import { deriveSerial, unitIdentity } from './identity.js'

describe('unit identity', () => {
  it('derives a stable serial from the backstore name, or from vendor, product and LUN', () => {
    expect(deriveSerial('V', 'P', 0, '/srv/disk.img')).toBe(deriveSerial('X', 'Y', 9, '/srv/disk.img'))
    expect(deriveSerial('V', 'P', 0, '/srv/disk.img')).not.toBe(deriveSerial('V', 'P', 0, '/srv/other.img'))
    expect(deriveSerial('V', 'P', 0, undefined)).not.toBe(deriveSerial('V', 'P', 1, undefined))
    expect(deriveSerial('V', 'P', 0, undefined)).toMatch(/^[0-9a-f]{24}$/)
  })

  it('derives the NAA 3h designator from the serial, and refuses an unprintable serial', () => {
    const a = unitIdentity({ vendor: 'V', product: 'P', revision: '1', serial: 'abc' }, 0, undefined)
    const b = unitIdentity({ vendor: 'W', product: 'Q', revision: '2', serial: 'abc' }, 5, '/x')
    expect(a.naa).toEqual(b.naa)
    expect(a.naa[0]! >> 4).toBe(3)
    expect(() => unitIdentity({ vendor: 'V', product: 'P', revision: '1', serial: 'a\nb' }, 0, undefined)).toThrow(RangeError)
  })
})
