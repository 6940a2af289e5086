import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DataInAssembler } from './data-in.js'

describe('DataInAssembler', () => {
  it('writes each Data-In at its offset in the caller buffer, without intermediate copies of the whole', () => {
    const into = Buffer.alloc(12, 0xee)
    const assembler = new DataInAssembler(into, 10)
    expect(assembler.accept({ dataSN: 0, bufferOffset: 0, data: Buffer.from('abcd') })).toBeUndefined()
    expect(assembler.accept({ dataSN: 1, bufferOffset: 4, data: Buffer.from('efgh') })).toBeUndefined()
    expect(assembler.accept({ dataSN: 2, bufferOffset: 8, data: Buffer.from('ij') })).toBeUndefined()
    expect(assembler.received).toBe(10)
    const result = assembler.result()
    expect(result.toString()).toBe('abcdefghij')
    // The result is a view of the caller's buffer, and bytes past the transfer are untouched.
    expect(result.buffer).toBe(into.buffer)
    expect(result.byteOffset).toBe(into.byteOffset)
    expect(into.subarray(10)).toEqual(Buffer.from([0xee, 0xee]))
  })

  it('returns a short result on underflow (INQUIRY with a large allocation length)', () => {
    const assembler = new DataInAssembler(Buffer.alloc(255), 255)
    expect(assembler.accept({ dataSN: 0, bufferOffset: 0, data: Buffer.alloc(36, 1) })).toBeUndefined()
    expect(assembler.result()).toHaveLength(36)
  })

  it('refuses a DataSN gap, an offset gap or overlap, and data past the expected length', () => {
    const a = new DataInAssembler(Buffer.alloc(16), 16)
    expect(a.accept({ dataSN: 1, bufferOffset: 0, data: Buffer.alloc(4) })).toMatch(/DataSN 1, expected 0/)
    expect(a.accept({ dataSN: 0, bufferOffset: 4, data: Buffer.alloc(4) })).toMatch(/offset 4, expected 0/)
    expect(a.accept({ dataSN: 0, bufferOffset: 0, data: Buffer.alloc(8) })).toBeUndefined()
    expect(a.accept({ dataSN: 1, bufferOffset: 4, data: Buffer.alloc(4) })).toMatch(/offset 4, expected 8/)
    expect(a.accept({ dataSN: 1, bufferOffset: 8, data: Buffer.alloc(12) })).toMatch(/up to byte 20 of a 16-byte/)
    // Nothing was written by the refused PDUs.
    expect(a.received).toBe(8)
  })

  it('shares the sequence with R2Ts of a bidirectional command', () => {
    const a = new DataInAssembler(Buffer.alloc(8), 8)
    expect(a.countR2T(0)).toBeUndefined()
    expect(a.accept({ dataSN: 0, bufferOffset: 0, data: Buffer.alloc(4) })).toMatch(/DataSN 0, expected 1/)
    expect(a.accept({ dataSN: 1, bufferOffset: 0, data: Buffer.alloc(4) })).toBeUndefined()
    expect(a.countR2T(1)).toMatch(/R2TSN 1, expected 2/)
  })

  it('rejects a buffer smaller than the expected transfer', () => {
    expect(() => new DataInAssembler(Buffer.alloc(4), 8)).toThrow(RangeError)
  })

  it('reassembles any in-order split of a payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 50 }), (payload, sizes) => {
        const into = Buffer.alloc(payload.length)
        const a = new DataInAssembler(into, payload.length)
        let at = 0
        let sn = 0
        for (let i = 0; at < payload.length; i++) {
          const n = Math.min(sizes[i % sizes.length] ?? 1, payload.length - at)
          expect(a.accept({ dataSN: sn++, bufferOffset: at, data: payload.subarray(at, at + n) })).toBeUndefined()
          at += n
        }
        expect(Buffer.compare(a.result(), Buffer.from(payload))).toBe(0)
      }),
      { numRuns: 300 },
    )
  })
})
