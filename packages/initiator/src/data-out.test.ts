import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { planR2T, planUnsolicited, splitSequence, type DataOutLimits } from './data-out.js'

const KiB = 1024
const base: DataOutLimits = {
  immediateData: true,
  initialR2T: false,
  firstBurstLength: 64 * KiB,
  maxBurstLength: 256 * KiB,
  maxSendDataSegmentLength: 8 * KiB,
}

describe('planUnsolicited', () => {
  it('sends a small write entirely as immediate data', () => {
    expect(planUnsolicited(4 * KiB, base)).toEqual({ immediateLength: 4 * KiB, dataOut: [], final: true, unsolicitedLength: 4 * KiB })
  })

  it('fills FirstBurstLength with immediate data then unsolicited Data-Out (ImmediateData=Yes, InitialR2T=No)', () => {
    const plan = planUnsolicited(1024 * KiB, base)
    expect(plan.immediateLength).toBe(8 * KiB)
    expect(plan.final).toBe(false)
    expect(plan.unsolicitedLength).toBe(64 * KiB)
    expect(plan.dataOut).toHaveLength(7)
    expect(plan.dataOut[0]).toEqual({ offset: 8 * KiB, length: 8 * KiB, final: false })
    expect(plan.dataOut[6]).toEqual({ offset: 56 * KiB, length: 8 * KiB, final: true })
  })

  it('sends only immediate data when InitialR2T=Yes (tgt default)', () => {
    expect(planUnsolicited(1024 * KiB, { ...base, initialR2T: true })).toEqual({ immediateLength: 8 * KiB, dataOut: [], final: true, unsolicitedLength: 8 * KiB })
  })

  it('sends nothing unsolicited with ImmediateData=No and InitialR2T=Yes', () => {
    expect(planUnsolicited(1024 * KiB, { ...base, immediateData: false, initialR2T: true })).toEqual({ immediateLength: 0, dataOut: [], final: true, unsolicitedLength: 0 })
  })

  it('sends unsolicited Data-Out only with ImmediateData=No and InitialR2T=No', () => {
    const plan = planUnsolicited(20 * KiB, { ...base, immediateData: false })
    expect(plan.immediateLength).toBe(0)
    expect(plan.dataOut).toEqual([
      { offset: 0, length: 8 * KiB, final: false },
      { offset: 8 * KiB, length: 8 * KiB, final: false },
      { offset: 16 * KiB, length: 4 * KiB, final: true },
    ])
    expect(plan.final).toBe(false)
  })

  it('keeps immediate data within FirstBurstLength even when the segment limit is larger', () => {
    const plan = planUnsolicited(1024 * KiB, { ...base, firstBurstLength: 4 * KiB, maxSendDataSegmentLength: 256 * KiB })
    expect(plan).toEqual({ immediateLength: 4 * KiB, dataOut: [], final: true, unsolicitedLength: 4 * KiB })
  })

  it('respects every limit for random lengths and limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 * 1024 * KiB }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 512, max: 1024 * KiB }),
        fc.integer({ min: 512, max: 512 * KiB }),
        (length, immediateData, initialR2T, firstBurstLength, maxSendDataSegmentLength) => {
          const limits = { immediateData, initialR2T, firstBurstLength, maxBurstLength: 16 * 1024 * KiB, maxSendDataSegmentLength }
          const plan = planUnsolicited(length, limits)
          const total = plan.immediateLength + plan.dataOut.reduce((n, s) => n + s.length, 0)
          expect(total).toBe(plan.unsolicitedLength)
          expect(total).toBeLessThanOrEqual(Math.min(length, firstBurstLength))
          expect(plan.immediateLength).toBeLessThanOrEqual(maxSendDataSegmentLength)
          if (!immediateData) expect(plan.immediateLength).toBe(0)
          if (initialR2T) expect(plan.dataOut).toHaveLength(0)
          // Contiguous from 0, and each PDU within the target's segment limit.
          let at = plan.immediateLength
          for (const s of plan.dataOut) {
            expect(s.offset).toBe(at)
            expect(s.length).toBeGreaterThan(0)
            expect(s.length).toBeLessThanOrEqual(maxSendDataSegmentLength)
            at += s.length
          }
          expect(plan.final).toBe(plan.dataOut.length === 0)
          if (plan.dataOut.length > 0) expect(plan.dataOut.at(-1)?.final).toBe(true)
          // Unsolicited data is as large as the rules allow (nothing left on the table).
          if (!initialR2T && length > 0) expect(total).toBe(Math.min(length, firstBurstLength))
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('planR2T', () => {
  it('answers an R2T in PDUs of the target MaxRecvDataSegmentLength, the last one final', () => {
    expect(planR2T({ bufferOffset: 64 * KiB, desiredDataTransferLength: 20 * KiB }, 1024 * KiB, base)).toEqual([
      { offset: 64 * KiB, length: 8 * KiB, final: false },
      { offset: 72 * KiB, length: 8 * KiB, final: false },
      { offset: 80 * KiB, length: 4 * KiB, final: true },
    ])
  })

  it('refuses an R2T outside the command, beyond MaxBurstLength, or empty', () => {
    expect(planR2T({ bufferOffset: 1000 * KiB, desiredDataTransferLength: 64 * KiB }, 1024 * KiB, base)).toMatch(/asks for bytes/)
    expect(planR2T({ bufferOffset: 0, desiredDataTransferLength: 512 * KiB }, 1024 * KiB, base)).toMatch(/MaxBurstLength/)
    expect(planR2T({ bufferOffset: 0, desiredDataTransferLength: 0 }, 1024 * KiB, base)).toMatch(/length of 0/)
  })

  it('splits without gaps or overlaps', () => {
    expect(splitSequence(10, 25, 10)).toEqual([
      { offset: 10, length: 10, final: false },
      { offset: 20, length: 10, final: false },
      { offset: 30, length: 5, final: true },
    ])
    expect(splitSequence(0, 0, 10)).toEqual([])
    expect(() => splitSequence(0, 10, 0)).toThrow(RangeError)
  })
})
