import { describe, expect, it } from 'vitest'
import { ordered, workers } from './pipeline.js'

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('ordered', () => {
  it('yields in index order with at most `depth` tasks in flight', async () => {
    let inFlight = 0
    let peak = 0
    const out: number[] = []
    for await (const value of ordered(10, 3, async (i) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await tick((10 - i) % 4) // later tasks often finish first
      inFlight--
      return i * 2
    })) {
      out.push(value)
    }
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    expect(peak).toBe(3)
  })

  it('rejects with the first failure in order and leaves no unhandled rejection', async () => {
    const seen: number[] = []
    const run = async (): Promise<void> => {
      for await (const value of ordered(6, 4, async (i) => {
        await tick(1)
        if (i === 2 || i === 3) throw new Error(`task ${i}`)
        return i
      })) {
        seen.push(value)
      }
    }
    await expect(run()).rejects.toThrow('task 2')
    expect(seen).toEqual([0, 1])
  })

  it('does nothing for zero tasks', async () => {
    const out: number[] = []
    for await (const value of ordered(0, 4, () => Promise.resolve(1))) out.push(value)
    expect(out).toEqual([])
  })
})

describe('workers', () => {
  it('runs `depth` loops until the work runs out', async () => {
    let next = 0
    const byWorker = new Map<number, number>()
    await workers(4, async (worker) => {
      if (next >= 20) return false
      next++
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1)
      await tick(1)
      return true
    })
    expect(next).toBe(20)
    expect([...byWorker.keys()].sort()).toEqual([0, 1, 2, 3])
  })

  it('stops every worker after the first error and throws it', async () => {
    let started = 0
    await expect(
      workers(3, async () => {
        started++
        await tick(2)
        if (started === 5) throw new Error('boom')
        return started < 1000
      }),
    ).rejects.toThrow('boom')
    expect(started).toBeLessThan(12)
  })
})
