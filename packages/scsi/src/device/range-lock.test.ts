import { describe, expect, it } from 'vitest'
import { RangeLock } from './range-lock.js'

describe('RangeLock', () => {
  it('serializes overlapping ranges in arrival order and lets disjoint ones run together', async () => {
    const lock = new RangeLock()
    const events: string[] = []
    const releaseA = await lock.acquire(0, 10)
    const b = lock.acquire(5, 10).then((release) => {
      events.push('b')
      return release
    })
    const c = lock.acquire(20, 5).then((release) => {
      events.push('c')
      return release
    })
    const d = lock.acquire(8, 1).then((release) => {
      events.push('d')
      return release
    })
    ;(await c)()
    expect(events).toEqual(['c'])
    releaseA()
    const releaseB = await b
    expect(events).toEqual(['c', 'b'])
    releaseB()
    ;(await d)()
    expect(events).toEqual(['c', 'b', 'd'])
    expect(lock.pending).toBe(0)
  })

  it('a waiter whose signal aborts leaves the queue', async () => {
    const lock = new RangeLock()
    const release = await lock.acquire(0, Infinity)
    const controller = new AbortController()
    const waiting = lock.acquire(3, 1, controller.signal)
    controller.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    expect(lock.pending).toBe(1)
    release()
    expect(lock.pending).toBe(0)
  })
})
