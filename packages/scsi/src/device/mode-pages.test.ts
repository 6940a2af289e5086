import { describe, expect, it } from 'vitest'
import { CheckCondition } from '../errors.js'
import { ModeParameters } from './mode-pages.js'

describe('ModeParameters', () => {
  it('applies every page of a MODE SELECT or none of them', () => {
    const modes = new ModeParameters({ writeCache: true })
    const caching = modes.page(0x08, 'current')
    caching[2] = 0x00 // WCE off
    const control = modes.page(0x0a, 'current')
    control[3] = 0x00 // QUEUE ALGORITHM MODIFIER is not changeable
    expect(() => modes.select(Buffer.concat([caching, control]), 4)).toThrow(CheckCondition)
    expect(modes.writeCache).toBe(true)
    control[3] = 0x10
    control[2] = 0x06 // D_SENSE on
    expect(modes.select(Buffer.concat([caching, control]), 4)).toBe(true)
    expect(modes.writeCache).toBe(false)
    expect(modes.descriptorSense).toBe(true)
    expect(modes.select(Buffer.concat([caching, control]), 4)).toBe(false)
    modes.reset()
    expect(modes.writeCache).toBe(true)
    expect(modes.descriptorSense).toBe(false)
  })

  it('knows its pages and starts write-through when asked', () => {
    expect(ModeParameters.codes()).toEqual([0x01, 0x08, 0x0a, 0x1c])
    expect(ModeParameters.has(0x19)).toBe(false)
    expect(new ModeParameters({ writeCache: false }).writeCache).toBe(false)
    expect(() => new ModeParameters().page(0x19, 'current')).toThrow(RangeError)
  })
})
