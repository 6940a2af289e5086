// CHAP for iSCSI (RFC 1994 as profiled by RFC 7143 12.1.3): response = H(identifier || secret || challenge) with
// the CHAP_A algorithm (MD5 5, SHA1 6, SHA-256 7, SHA3-256 8), constant-time checks, random challenges at least as
// long as the digest, and a cache that recognises a challenge seen before (replay or reflection).
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import { ChapAlgorithm } from './types.js'
import type { ChapAlgorithmName, ChapSecret } from './types.js'

/** node:crypto digest name and digest length of each CHAP_A value. */
export const CHAP_DIGEST: Readonly<Record<ChapAlgorithm, { readonly hash: string; readonly length: number }>> = {
  [ChapAlgorithm.MD5]: { hash: 'md5', length: 16 },
  [ChapAlgorithm.SHA1]: { hash: 'sha1', length: 20 },
  [ChapAlgorithm['SHA-256']]: { hash: 'sha256', length: 32 },
  [ChapAlgorithm['SHA3-256']]: { hash: 'sha3-256', length: 32 },
}

/** Strongest first; MD5 is the one every implementation supports (RFC 7143 12.1.3). */
export const DEFAULT_CHAP_ALGORITHMS: readonly ChapAlgorithm[] = [
  ChapAlgorithm['SHA3-256'],
  ChapAlgorithm['SHA-256'],
  ChapAlgorithm.SHA1,
  ChapAlgorithm.MD5,
]

/** Smallest challenge we send (RFC 7143 12.1.3 asks for challenges that are hard to predict). */
export const MIN_CHALLENGE_LENGTH = 16

export function isChapAlgorithm(value: number): value is ChapAlgorithm {
  return Object.prototype.hasOwnProperty.call(CHAP_DIGEST, value)
}

/** The CHAP_A number of an algorithm name ('MD5', 'SHA1', 'SHA-256', 'SHA3-256'). */
export function chapAlgorithmByName(name: ChapAlgorithmName): ChapAlgorithm {
  return ChapAlgorithm[name]
}

export function chapDigestLength(algorithm: ChapAlgorithm): number {
  return CHAP_DIGEST[algorithm].length
}

export function secretBytes(secret: ChapSecret): Buffer {
  return typeof secret === 'string'
    ? Buffer.from(secret, 'utf8')
    : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
}

/** RFC 1994 4.1: H(identifier || secret || challenge). */
export function chapResponse(
  algorithm: ChapAlgorithm,
  identifier: number,
  secret: ChapSecret,
  challenge: Uint8Array,
): Buffer {
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) {
    throw new RangeError('CHAP identifier must be 0..255')
  }
  return createHash(CHAP_DIGEST[algorithm].hash)
    .update(Uint8Array.of(identifier))
    .update(secretBytes(secret))
    .update(challenge)
    .digest()
}

/** Constant-time check of a received CHAP_R. A length mismatch is a failure, not an exception. */
export function verifyChapResponse(
  algorithm: ChapAlgorithm,
  identifier: number,
  secret: ChapSecret,
  challenge: Uint8Array,
  response: Uint8Array,
): boolean {
  const expected = chapResponse(algorithm, identifier, secret, challenge)
  // Compare against a same-length buffer either way, so a wrong length takes the same path.
  const candidate = response.length === expected.length ? response : Buffer.alloc(expected.length)
  return timingSafeEqual(expected, candidate) && response.length === expected.length
}

/** Constant-time equality of two secrets (RFC 7143 12.1.3 forbids one secret for both directions). */
export function sameSecret(a: ChapSecret, b: ChapSecret): boolean {
  const left = createHash('sha256').update(secretBytes(a)).digest()
  const right = createHash('sha256').update(secretBytes(b)).digest()
  return timingSafeEqual(left, right)
}

export interface ChapChallenge {
  readonly identifier: number
  readonly challenge: Buffer
}

/** A fresh identifier and a random challenge of the digest length, at least 16 bytes. */
export function createChapChallenge(algorithm: ChapAlgorithm): ChapChallenge {
  return {
    identifier: randomInt(0, 256),
    challenge: randomBytes(Math.max(MIN_CHALLENGE_LENGTH, chapDigestLength(algorithm))),
  }
}

/**
 * Remembers challenges (as SHA-256 fingerprints) so that one offered again (a replay, or a target's own challenge
 * reflected back) is recognised. Bounded: the oldest entries are forgotten first. Share one across logins.
 */
export class ChapChallengeCache {
  readonly capacity: number
  #seen = new Set<string>()

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.capacity = capacity
  }

  get size(): number {
    return this.#seen.size
  }

  static #fingerprint(challenge: Uint8Array): string {
    return createHash('sha256').update(challenge).digest('base64')
  }

  has(challenge: Uint8Array): boolean {
    return this.#seen.has(ChapChallengeCache.#fingerprint(challenge))
  }

  /** Record a challenge; returns false when it was already known. */
  remember(challenge: Uint8Array): boolean {
    const key = ChapChallengeCache.#fingerprint(challenge)
    if (this.#seen.has(key)) return false
    this.#seen.add(key)
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.values().next()
      if (oldest.done !== true) this.#seen.delete(oldest.value)
    }
    return true
  }
}

/** Parse CHAP_A's list of algorithm numbers, keeping only the ones we know (RFC 7143 6.2.1: ignore the rest). */
export function parseChapAlgorithms(value: string): ChapAlgorithm[] {
  const result: ChapAlgorithm[] = []
  for (const item of value.split(',')) {
    if (!/^[0-9]{1,3}$/.test(item)) continue
    const n = Number(item)
    if (isChapAlgorithm(n)) result.push(n)
  }
  return result
}
