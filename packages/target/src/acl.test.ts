import { describe, expect, it } from 'vitest'
import { decideAccess } from './acl.js'
import type { TargetConfig } from './config.js'

const base: TargetConfig = { name: 'iqn.2026-11.io.x:t', portalGroups: [1], luns: new Map() }

describe('ACL decisions', () => {
  it('admits everyone without ACLs, with the target auth and every LUN', () => {
    const auth = { chap: { user: 'u', secret: 's' } }
    expect(decideAccess({ ...base, auth }, 'iqn.2026-11.io.x:any')).toEqual({ allowed: true, lunMap: undefined, auth })
  })

  it('prefers an exact (case-insensitive) entry over the wildcard, and refuses the unlisted', () => {
    const target: TargetConfig = {
      ...base,
      acls: [
        { initiator: '*', luns: { 0: 1 } },
        { initiator: 'iqn.2026-11.io.x:Alice', auth: { chap: { user: 'a', secret: 'b' } } },
      ],
    }
    const alice = decideAccess(target, 'iqn.2026-11.io.x:alice')
    expect(alice.allowed).toBe(true)
    expect(alice.lunMap).toBeUndefined()
    expect(alice.auth?.chap?.user).toBe('a')
    const other = decideAccess(target, 'iqn.2026-11.io.x:bob')
    expect([...other.lunMap!]).toEqual([[0, 1]])
    expect(decideAccess({ ...base, acls: [{ initiator: 'iqn.2026-11.io.x:alice' }] }, 'iqn.2026-11.io.x:bob').allowed).toBe(false)
  })
})
