import { describe, expect, it } from 'vitest'
import { LoginThrottle } from './login-throttle.js'

function throttle(overrides: { maxFailures?: number; maxAddresses?: number } = {}): { t: LoginThrottle; clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const t = new LoginThrottle({
    maxFailures: overrides.maxFailures ?? 5,
    windowMs: 60_000,
    lockoutMs: 10_000,
    maxAddresses: overrides.maxAddresses ?? 100,
    now: () => clock.now,
  })
  return { t, clock }
}

describe('LoginThrottle', () => {
  it('locks an address out after maxFailures failures inside the window, and only that address', () => {
    const { t, clock } = throttle()
    for (let i = 0; i < 4; i++) t.failed('10.0.0.1')
    expect(t.lockedFor('10.0.0.1')).toBe(0)
    t.failed('10.0.0.1')
    expect(t.lockedFor('10.0.0.1')).toBe(10_000)
    expect(t.lockedFor('10.0.0.2')).toBe(0)
    clock.now += 4_000
    expect(t.lockedFor('10.0.0.1')).toBe(6_000)
    clock.now += 6_000
    expect(t.lockedFor('10.0.0.1')).toBe(0)
  })

  it('does not count failures spread over more than the window', () => {
    const { t, clock } = throttle()
    for (let i = 0; i < 20; i++) {
      t.failed('10.0.0.1')
      clock.now += 15_001
    }
    expect(t.lockedFor('10.0.0.1')).toBe(0)
  })

  it('doubles the lock-out while an address keeps failing, up to 16 times', () => {
    const { t, clock } = throttle()
    const lockouts: number[] = []
    for (let round = 0; round < 7; round++) {
      for (let i = 0; i < 5; i++) t.failed('10.0.0.1')
      const locked = t.lockedFor('10.0.0.1')
      lockouts.push(locked)
      clock.now += locked
    }
    expect(lockouts).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 160_000, 160_000])
  })

  it('remembers at most maxAddresses addresses, forgetting the least recently failing', () => {
    const { t } = throttle({ maxFailures: 1, maxAddresses: 3 })
    for (const address of ['a', 'b', 'c']) t.failed(address)
    t.failed('a')
    t.failed('d')
    expect(t.size).toBe(3)
    expect(t.lockedFor('b')).toBe(0)
    expect(t.lockedFor('a')).toBeGreaterThan(0)
    expect(t.lockedFor('d')).toBeGreaterThan(0)
    for (let i = 0; i < 10_000; i++) t.failed(`192.0.2.${i}`)
    expect(t.size).toBe(3)
  })

  it('is off with maxFailures 0, and reconfiguration keeps what it knows within the new bound', () => {
    const { t } = throttle({ maxFailures: 0 })
    for (let i = 0; i < 50; i++) t.failed('10.0.0.1')
    expect(t.lockedFor('10.0.0.1')).toBe(0)
    expect(t.size).toBe(0)
    t.configure({ maxFailures: 2, windowMs: 60_000, lockoutMs: 10_000, maxAddresses: 2 })
    for (const address of ['a', 'a', 'b', 'b', 'c']) t.failed(address)
    expect(t.lockedFor('b')).toBe(10_000)
    t.configure({ maxFailures: 2, windowMs: 60_000, lockoutMs: 10_000, maxAddresses: 1 })
    expect(t.size).toBe(1)
    expect(t.lockedFor('b')).toBe(0)
    t.configure({ maxFailures: 0, windowMs: 60_000, lockoutMs: 10_000, maxAddresses: 1 })
    expect(t.lockedFor('c')).toBe(0)
  })
})
