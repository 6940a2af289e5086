import { describe, expect, it } from 'vitest'
import { CmdSnWindow } from './cmdsn-window.js'

describe('CmdSnWindow', () => {
  it('advertises MaxCmdSN = ExpCmdSN + free slots - 1 and closes when full', () => {
    const w = new CmdSnWindow<string>(100, 3)
    expect(w.expCmdSN).toBe(100)
    expect(w.maxCmdSN).toBe(102)
    expect(w.submit(100, 'a')).toEqual(['a'])
    expect(w.submit(101, 'b')).toEqual(['b'])
    expect(w.submit(102, 'c')).toEqual(['c'])
    expect(w.expCmdSN).toBe(103)
    // Three in flight: no free slot, MaxCmdSN = ExpCmdSN - 1.
    expect(w.maxCmdSN).toBe(102)
    expect(w.accepts(103)).toBe(false)
    expect(w.submit(103, 'd')).toBeUndefined()
    w.release()
    expect(w.maxCmdSN).toBe(103)
    expect(w.submit(103, 'd')).toEqual(['d'])
  })

  it('ignores duplicates and commands below ExpCmdSN or above MaxCmdSN', () => {
    const w = new CmdSnWindow<string>(10, 4)
    expect(w.submit(9, 'old')).toBeUndefined()
    expect(w.submit(14, 'beyond')).toBeUndefined()
    expect(w.submit(10, 'a')).toEqual(['a'])
    expect(w.submit(10, 'again')).toBeUndefined()
    expect(w.submit(12, 'c')).toEqual([])
    expect(w.submit(12, 'dup')).toBeUndefined()
  })

  it('delivers in CmdSN order once a gap fills, without lowering MaxCmdSN', () => {
    const w = new CmdSnWindow<string>(0xfffffffe, 8)
    const max = w.maxCmdSN
    expect(w.submit(0, 'c')).toEqual([])
    expect(w.submit(0xffffffff, 'b')).toEqual([])
    expect(w.maxCmdSN).toBe(max)
    expect(w.submit(0xfffffffe, 'a')).toEqual(['a', 'b', 'c'])
    expect(w.expCmdSN).toBe(1)
    expect(w.maxCmdSN).toBe(max)
    expect(w.inFlight).toBe(3)
  })

  it('consumes a CmdSN that never comes (RFC 7143 11.5.1 b) and ignores it later', () => {
    const w = new CmdSnWindow<string>(5, 4)
    expect(w.submit(6, 'b')).toEqual([])
    expect(w.consume(5)).toEqual(['b'])
    expect(w.expCmdSN).toBe(7)
    expect(w.submit(5, 'late')).toBeUndefined()
    expect(w.consume(4)).toBeUndefined()
  })

  it('never advertises a MaxCmdSN lower than before (property over random traffic)', () => {
    const w = new CmdSnWindow<number>(0xfffffff0, 16)
    let next = 0xfffffff0
    let last = w.maxCmdSN
    for (let i = 0; i < 5000; i++) {
      if (Math.random() < 0.6 && w.accepts(next)) {
        w.submit(next, i)
        next = (next + 1) >>> 0
      } else if (w.inFlight > 0) {
        w.release()
      }
      const max = w.maxCmdSN
      expect(((max - last) >>> 0) < 0x80000000).toBe(true)
      last = max
      expect(w.inFlight).toBeLessThanOrEqual(16)
    }
  })
})
