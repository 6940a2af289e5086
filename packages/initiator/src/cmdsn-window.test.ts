import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CmdSnWindow } from './cmdsn-window.js'
import { serialAdd, serialDiff, serialGt, serialLt } from './serial.js'

describe('serial arithmetic (RFC 1982, 32 bits)', () => {
  it('compares across the wrap', () => {
    expect(serialLt(0xffffffff, 0)).toBe(true)
    expect(serialGt(0, 0xffffffff)).toBe(true)
    expect(serialLt(5, 5)).toBe(false)
    expect(serialLt(0, 0x7fffffff)).toBe(true)
    expect(serialLt(0, 0x80000000)).toBe(false) // undefined distance: neither order
    expect(serialGt(0, 0x80000000)).toBe(false)
    expect(serialAdd(0xffffffff, 2)).toBe(1)
    expect(serialAdd(0, -1)).toBe(0xffffffff)
    expect(serialDiff(0xfffffffe, 3)).toBe(5)
    expect(serialDiff(3, 0xfffffffe)).toBe(-5)
  })

  it('agrees with plain arithmetic on small distances anywhere on the circle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -1000, max: 1000 }), (a, n) => {
        const b = serialAdd(a, n)
        expect(serialDiff(a, b)).toBe(n)
        expect(serialLt(a, b)).toBe(n > 0)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('CmdSnWindow', () => {
  it('sends up to MaxCmdSN and queues the rest in order', () => {
    // After login: CmdSN 10, the target accepts 10..13.
    const window = new CmdSnWindow<string>({ cmdSN: 10, expCmdSN: 10, maxCmdSN: 13 })
    expect(window.room).toBe(4)
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) window.enqueue(name)
    expect(window.drain()).toEqual([
      { item: 'a', cmdSN: 10 },
      { item: 'b', cmdSN: 11 },
      { item: 'c', cmdSN: 12 },
      { item: 'd', cmdSN: 13 },
    ])
    expect(window.room).toBe(0)
    expect(window.queued).toBe(2)
    expect(window.drain()).toEqual([])
    // The target completes 10 and 11 and slides the window by two.
    expect(window.update(12, 15)).toBe(true)
    expect(window.drain()).toEqual([
      { item: 'e', cmdSN: 14 },
      { item: 'f', cmdSN: 15 },
    ])
    expect(window.cmdSN).toBe(16)
  })

  it('treats MaxCmdSN = ExpCmdSN - 1 as a closed window', () => {
    const window = new CmdSnWindow<number>({ cmdSN: 1, expCmdSN: 1, maxCmdSN: 0 })
    expect(window.room).toBe(0)
    window.enqueue(7)
    expect(window.drain()).toEqual([])
    expect(() => window.take()).toThrow(RangeError)
    expect(window.update(1, 1)).toBe(true)
    expect(window.drain()).toEqual([{ item: 7, cmdSN: 1 }])
  })

  it('ignores both numbers when MaxCmdSN < ExpCmdSN - 1 (RFC 7143 4.2.2.1)', () => {
    const window = new CmdSnWindow<number>({ cmdSN: 100, expCmdSN: 100, maxCmdSN: 110 })
    expect(window.update(100, 98)).toBe(false)
    expect(window.maxCmdSN).toBe(110)
    expect(window.expCmdSN).toBe(100)
  })

  it('never moves ExpCmdSN or MaxCmdSN backwards (stale PDUs on other connections)', () => {
    const window = new CmdSnWindow<number>({ cmdSN: 5, expCmdSN: 5, maxCmdSN: 20 })
    window.take()
    window.take()
    expect(window.update(7, 30)).toBe(true)
    expect(window.update(6, 25)).toBe(false)
    expect(window.expCmdSN).toBe(7)
    expect(window.maxCmdSN).toBe(30)
  })

  it('ignores an ExpCmdSN beyond the commands actually sent', () => {
    const window = new CmdSnWindow<number>({ cmdSN: 5, expCmdSN: 5, maxCmdSN: 20 })
    expect(window.update(9, 40)).toBe(false)
    expect(window.maxCmdSN).toBe(20)
  })

  it('works across the 2^32 wrap', () => {
    const window = new CmdSnWindow<string>({ cmdSN: 0xfffffffe, expCmdSN: 0xfffffffe, maxCmdSN: 1 })
    expect(window.room).toBe(4)
    window.enqueue('a')
    window.enqueue('b')
    window.enqueue('c')
    window.enqueue('d')
    window.enqueue('e')
    expect(window.drain().map((x) => x.cmdSN)).toEqual([0xfffffffe, 0xffffffff, 0, 1])
    expect(window.update(0, 2)).toBe(true)
    expect(window.drain()).toEqual([{ item: 'e', cmdSN: 2 }])
  })

  it('removes a waiting command and requeues retried ones at the head', () => {
    const window = new CmdSnWindow<string>({ cmdSN: 1, expCmdSN: 1, maxCmdSN: 0 })
    window.enqueue('x')
    window.enqueue('y')
    expect(window.remove('x')).toBe(true)
    expect(window.remove('x')).toBe(false)
    window.requeueFront(['r1', 'r2'])
    window.reset({ cmdSN: 50, expCmdSN: 50, maxCmdSN: 51 })
    expect(window.drain()).toEqual([
      { item: 'r1', cmdSN: 50 },
      { item: 'r2', cmdSN: 51 },
    ])
    expect(window.clear()).toEqual(['y'])
  })

  it('never hands out a CmdSN outside [ExpCmdSN, MaxCmdSN] under random target updates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.tuple(fc.integer({ min: -3, max: 6 }), fc.integer({ min: -4, max: 40 }), fc.integer({ min: 0, max: 8 })), { maxLength: 60 }),
        (start, steps) => {
          const window = new CmdSnWindow<number>({ cmdSN: start, expCmdSN: start, maxCmdSN: serialAdd(start, 3) })
          let next = 0
          let acked = start
          let sent: number[] = []
          for (const [ackDelta, maxDelta, add] of steps) {
            for (let i = 0; i < add; i++) window.enqueue(next++)
            for (const { cmdSN } of window.drain()) {
              expect(serialDiff(window.expCmdSN, cmdSN)).toBeGreaterThanOrEqual(0)
              expect(serialDiff(cmdSN, window.maxCmdSN)).toBeGreaterThanOrEqual(0)
              sent.push(cmdSN)
            }
            // A well-behaved target acknowledges some of what was sent and opens the window a bit.
            const ack = Math.max(0, Math.min(sent.length, ackDelta))
            acked = serialAdd(acked, ack)
            sent = sent.slice(ack)
            window.update(acked, serialAdd(acked, maxDelta))
          }
          // CmdSNs are handed out consecutively, without gaps or repeats.
          expect(serialDiff(start, window.cmdSN)).toBe(next - window.queued)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('next() gives the waiting commands in order while the window has room, then nothing', () => {
    const window = new CmdSnWindow<string>({ cmdSN: 10, expCmdSN: 10, maxCmdSN: 11 })
    for (const c of ['a', 'b', 'c']) window.enqueue(c)
    const sent: Array<[string, number]> = []
    for (let item = window.next(); item !== undefined; item = window.next()) sent.push([item, window.take()])
    expect(sent).toEqual([
      ['a', 10],
      ['b', 11],
    ])
    expect(window.queued).toBe(1)
    // The target opens the window: the last one goes.
    expect(window.update(11, 12)).toBe(true)
    expect(window.next()).toBe('c')
    expect(window.take()).toBe(12)
    expect(window.next()).toBeUndefined()
  })
})

