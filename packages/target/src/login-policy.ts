// The target's side of login negotiation as @iscsi-ts/negotiation wants it: authentication policies from the
// AuthConfig of a target, ACL or discovery (RFC 7143 12), and the operational preferences from the limits
// (RFC 7143 13).
import { ChapAlgorithm } from '@iscsi-ts/negotiation'
import type { AuthPolicy, OperationalPreferences } from '@iscsi-ts/negotiation'
import type { AuthConfig, ResolvedLimits } from './config.js'

/** CHAP when credentials are configured, else no authentication. */
export function authPolicy(auth: AuthConfig | undefined): AuthPolicy {
  const chap = auth?.chap
  if (chap === undefined) return { methods: ['None'] }
  const mutual = auth?.mutual
  const algorithms = auth?.algorithms?.map((name) => ChapAlgorithm[name])
  return {
    methods: ['CHAP'],
    chap: {
      // The one user this policy knows; any other CHAP_N fails authentication (0x0201).
      lookup: (user: string) => (user === chap.user ? chap.secret : undefined),
      ...(mutual !== undefined ? { mutual: { user: mutual.user, secret: mutual.secret } } : {}),
      ...(algorithms !== undefined ? { algorithms } : {}),
    },
  }
}

/**
 * What the target offers and accepts. ErrorRecoveryLevel 0 only; DataPDUInOrder and DataSequenceInOrder Yes (the
 * data-out path relies on in-order data: RFC 7143 13.18/13.19, OR results, so Yes wins).
 */
export function operationalPreferences(limits: ResolvedLimits): OperationalPreferences {
  return {
    maxRecvDataSegmentLength: limits.maxRecvDataSegmentLength,
    maxBurstLength: limits.maxBurstLength,
    firstBurstLength: limits.firstBurstLength,
    maxConnections: limits.maxConnections,
    maxOutstandingR2T: limits.maxOutstandingR2T,
    immediateData: limits.immediateData,
    initialR2T: limits.initialR2T,
    dataPDUInOrder: true,
    dataSequenceInOrder: true,
    errorRecoveryLevel: 0,
    headerDigest: limits.headerDigest,
    dataDigest: limits.dataDigest,
  }
}
