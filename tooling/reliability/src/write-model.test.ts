import { describe, expect, it } from 'vitest'
import { WriteModel } from './write-model.js'

describe('WriteModel', () => {
  it('accepts the old or the new contents of a write that was not stable', () => {
    const model = new WriteModel(4)
    const g = model.issue(0, 2)
    model.complete(0, 2, g, { acked: true, fua: false })
    expect(model.check(0, 0)).toBeUndefined()
    expect(model.check(1, g)).toBeUndefined()
  })

  it('refuses older contents once a FUA write completed', () => {
    const model = new WriteModel(4)
    const g1 = model.issue(0, 1)
    model.complete(0, 1, g1, { acked: true, fua: true })
    const g2 = model.issue(0, 1)
    model.complete(0, 1, g2, { acked: false, fua: false })
    expect(model.check(0, 0)).toMatch(/older than its stable generation/)
    expect(model.check(0, g1)).toBeUndefined()
    expect(model.check(0, g2)).toBeUndefined()
    expect(model.stableWrites).toBe(1)
  })

  it('makes writes acknowledged before a SYNCHRONIZE CACHE stable, not the ones after it started', () => {
    const model = new WriteModel(4)
    const g1 = model.issue(0, 1)
    model.complete(0, 1, g1, { acked: true, fua: false })
    const snapshot = model.snapshot()
    const g2 = model.issue(1, 1)
    model.complete(1, 1, g2, { acked: true, fua: false })
    model.synced(snapshot)
    expect(model.check(0, 0)).toMatch(/stable write was lost/)
    expect(model.check(1, 0)).toBeUndefined()
  })

  it('refuses generations never written to the block, and locks blocks while written', () => {
    const model = new WriteModel(8)
    const g = model.issue(2, 2)
    expect(model.free(0, 2)).toBe(true)
    expect(model.free(1, 2)).toBe(false)
    expect(model.check(5, g)).toMatch(/never written there/)
    model.complete(2, 2, g, { acked: true, fua: false })
    expect(model.free(1, 2)).toBe(true)
    model.observe(2, g)
    expect(model.check(2, 0)).toMatch(/older/)
  })
})
