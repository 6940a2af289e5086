// Access control for a target (per initiator IQN): who may log in, which LUNs it sees under which numbers, and which
// CHAP policy applies (an ACL's auth overrides the target's).
import type { AclConfig, AuthConfig, TargetConfig } from './config.js'
import { normalizeName } from './config.js'

export interface AccessDecision {
  readonly allowed: boolean
  /** Initiator-visible LUN -> target LUN; undefined = every LUN under its own number. */
  readonly lunMap: ReadonlyMap<number, number> | undefined
  readonly auth: AuthConfig | undefined
}

/** The ACL entry that applies to an initiator: an exact name first, then '*'. */
export function findAcl(target: TargetConfig, initiatorName: string): AclConfig | undefined {
  const acls = target.acls ?? []
  const wanted = normalizeName(initiatorName)
  return acls.find((acl) => acl.initiator !== '*' && normalizeName(acl.initiator) === wanted) ?? acls.find((acl) => acl.initiator === '*')
}

export function decideAccess(target: TargetConfig, initiatorName: string): AccessDecision {
  const acls = target.acls ?? []
  if (acls.length === 0) return { allowed: true, lunMap: undefined, auth: target.auth }
  const acl = findAcl(target, initiatorName)
  if (acl === undefined) return { allowed: false, lunMap: undefined, auth: target.auth }
  const lunMap =
    acl.luns === undefined ? undefined : new Map(Object.entries(acl.luns).map(([visible, real]) => [Number(visible), real] as const))
  return { allowed: true, lunMap, auth: acl.auth ?? target.auth }
}
