import { describe, expect, it } from 'vitest'
import { DeadlineTimer } from './deadline-timer.js'

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `done()` (a loaded machine may run timers late), at most 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!done() && Date.now() < deadline) await wait(5)
}

/** A table of named deadlines swept by a DeadlineTimer, recording when each one fired. */
function harness(): { timer: DeadlineTimer; add: (name: string, inMs: number) => void; remove: (name: string) => void; fired: Array<{ name: string; lateMs: number }>; sweeps: () => number } {
  const deadlines = new Map<string, number>()
  const fired: Array<{ name: string; lateMs: number }> = []
  let sweeps = 0
  const timer = new DeadlineTimer((now) => {
    sweeps++
    let next = Number.POSITIVE_INFINITY
    for (const [name, deadline] of [...deadlines].sort((a, b) => a[1] - b[1])) {
      if (deadline <= now) {
        deadlines.delete(name)
        fired.push({ name, lateMs: now - deadline })
      } else next = Math.min(next, deadline)
    }
    return next
  })
  return {
    timer,
    fired,
    sweeps: () => sweeps,
    add: (name, inMs) => {
      const deadline = DeadlineTimer.now() + inMs
      deadlines.set(name, deadline)
      timer.schedule(deadline)
    },
    remove: (name) => void deadlines.delete(name),
  }
}

describe('DeadlineTimer', () => {
  it('fires every deadline, earliest first, with one timer re-armed for the next', async () => {
    const h = harness()
    h.add('slow', 90)
    h.add('fast', 20)
    h.add('middle', 50)
    await until(() => h.fired.length === 3)
    expect(h.fired.map((f) => f.name)).toEqual(['fast', 'middle', 'slow'])
    for (const f of h.fired) expect(f.lateMs).toBeGreaterThanOrEqual(0)
    // About one sweep per distinct deadline (one more when Node wakes a timer a little early), not one per add.
    expect(h.sweeps()).toBeLessThanOrEqual(6)
  })

  it('is not re-armed by later deadlines: a thousand same-timeout commands cost one sweep', async () => {
    const h = harness()
    for (let i = 0; i < 1000; i++) h.add(`c${i}`, 30 + i / 1000)
    await until(() => h.fired.length === 1000)
    expect(h.fired).toHaveLength(1000)
    expect(h.sweeps()).toBeLessThanOrEqual(4)
  })

  it('skips deadlines removed before they are due, and stops when nothing is left', async () => {
    const h = harness()
    h.add('done-early', 20)
    h.add('times-out', 40)
    h.remove('done-early')
    await until(() => h.fired.length === 1)
    expect(h.fired.map((f) => f.name)).toEqual(['times-out'])
    const sweeps = h.sweeps()
    await wait(40)
    expect(h.sweeps()).toBe(sweeps)
  })

  it('keeps deadlines scheduled from inside a sweep', async () => {
    const fired: string[] = []
    let added = false
    const timer: DeadlineTimer = new DeadlineTimer((now) => {
      // Node's timers may wake a little before the deadline: not due yet means "look again then".
      if (!added && now < start + 20) return start + 20
      if (!added) {
        added = true
        fired.push('first')
        later = DeadlineTimer.now() + 20
        timer.schedule(later)
        return Number.POSITIVE_INFINITY
      }
      if (later !== 0 && now >= later) {
        fired.push('second')
        later = 0
      }
      return later === 0 ? Number.POSITIVE_INFINITY : later
    })
    const start = DeadlineTimer.now()
    let later = 0
    timer.schedule(start + 20)
    await until(() => fired.length === 2)
    expect(fired).toEqual(['first', 'second'])
  })

  it('does not keep the process alive once told nothing is pending, and cancel disarms it', async () => {
    const h = harness()
    h.add('x', 30)
    h.timer.keepAlive(false)
    h.timer.keepAlive(true)
    h.timer.cancel()
    await wait(50)
    expect(h.fired).toEqual([])
  })
})
