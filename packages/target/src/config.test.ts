import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, isIscsiName, resolveLimits } from './config.js'
import { TargetConfigError } from './errors.js'

describe('limits', () => {
  it('defaults to the contract values within RFC 7143 ranges', () => {
    const limits = resolveLimits()
    expect(limits).toEqual(DEFAULT_LIMITS)
    expect(limits.maxBurstLength).toBe(0xffffff)
    expect(limits.queueDepth).toBe(128)
    expect(limits.nopInIntervalMs).toBe(5000)
  })

  it('refuses values outside their ranges', () => {
    expect(() => resolveLimits({ maxRecvDataSegmentLength: 100 })).toThrow(TargetConfigError)
    expect(() => resolveLimits({ queueDepth: 0 })).toThrow(TargetConfigError)
    expect(() => resolveLimits({ headerDigest: [] })).toThrow(TargetConfigError)
    expect(() => resolveLimits({ dataDigest: ['CRC32C', 'CRC32C'] })).toThrow(TargetConfigError)
    expect(resolveLimits({ nopInIntervalMs: 0 }).nopInIntervalMs).toBe(0)
  })
})

describe('iSCSI names (RFC 7143 4.2.7)', () => {
  it('accepts iqn, eui and naa names', () => {
    expect(isIscsiName('iqn.2026-11.io.iscsi-ts:disk1')).toBe(true)
    expect(isIscsiName('iqn.2001-04.com.example')).toBe(true)
    expect(isIscsiName('eui.02004567A425678D')).toBe(true)
    expect(isIscsiName('naa.52004567BA64678D')).toBe(true)
    expect(isIscsiName('disk1')).toBe(false)
    expect(isIscsiName(`iqn.2026-11.io.x:${'a'.repeat(300)}`)).toBe(false)
  })
})
