import { afterEach, describe, expect, it } from 'vitest'
import { findPeer, requirePeer, skipReason } from '../../../tooling/interop/peers.js'

const savedCi = process.env.CI

afterEach(() => {
  if (savedCi === undefined) delete process.env.CI
  else process.env.CI = savedCi
})

describe('requirePeer', () => {
  it('finds a tool that exists on every machine', () => {
    const sh = findPeer('sh')
    expect(sh).toMatch(/\/sh$/)
    expect(requirePeer('sh')).toBe(sh)
  })

  it('returns undefined for a missing tool outside CI', () => {
    delete process.env.CI
    expect(requirePeer('iscsi-ts-no-such-tool')).toBeUndefined()
  })

  it('throws for a missing tool under CI', () => {
    process.env.CI = 'true'
    expect(() => requirePeer('iscsi-ts-no-such-tool')).toThrow(/required in CI/)
  })

  it('refuses names with a path separator that are not absolute', () => {
    expect(findPeer('bin/sh')).toBeUndefined()
    expect(findPeer('')).toBeUndefined()
  })

  it('names the package to install', () => {
    expect(skipReason('iscsi-ls')).toContain('libiscsi-bin')
  })
})
