import { describe, expect, it } from 'vitest'
import { commandResiduals, residualOf } from './residual.js'

describe('residuals (RFC 7143 11.4.5)', () => {
  it('underflow when the command needs less than expected, overflow when more', () => {
    expect(residualOf(10000, 512)).toEqual({ overflow: false, underflow: true, count: 9488 })
    expect(residualOf(0, 512)).toEqual({ overflow: true, underflow: false, count: 512 })
    expect(residualOf(512, 512)).toEqual({ overflow: false, underflow: false, count: 0 })
  })

  it('reports the write direction in the main fields and the read direction in the bidi fields', () => {
    const r = commandResiduals({
      read: true,
      write: true,
      expectedDataTransferLength: 1024,
      expectedBidirectionalReadLength: 512,
      dataInLength: 1024,
      dataOutLength: 512,
    })
    expect(r.main).toEqual({ overflow: false, underflow: true, count: 512 })
    expect(r.bidiRead).toEqual({ overflow: true, underflow: false, count: 512 })
  })

  it('uses the data-in length for reads and the data-out length for writes', () => {
    const base = { expectedDataTransferLength: 200, expectedBidirectionalReadLength: 0, dataInLength: 512, dataOutLength: 512 }
    expect(commandResiduals({ ...base, read: true, write: false }).main).toEqual({ overflow: true, underflow: false, count: 312 })
    expect(commandResiduals({ ...base, read: false, write: true }).main).toEqual({ overflow: true, underflow: false, count: 312 })
    expect(commandResiduals({ ...base, expectedDataTransferLength: 0, read: false, write: false }).main.count).toBe(512)
  })
})
