import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  CHAP_DIGEST,
  ChapChallengeCache,
  DEFAULT_CHAP_ALGORITHMS,
  MIN_CHALLENGE_LENGTH,
  chapAlgorithmByName,
  chapDigestLength,
  chapResponse,
  createChapChallenge,
  parseChapAlgorithms,
  sameSecret,
  verifyChapResponse,
} from './chap.js'
import { ChapAlgorithm } from './types.js'

const identifier = 0x2a
const secret = 'iscsi-ts-secret'
const challenge = Buffer.from([...Array(16).keys()])

// Expected values computed outside node (Python hashlib) from RFC 1994 4.1: H(identifier || secret || challenge).
const VECTORS = [
  [ChapAlgorithm.MD5, 'md5', '464bf5ff27e4861ee2e9032699360a1b'],
  [ChapAlgorithm.SHA1, 'sha1', '616b6b3502219411cb470be6c588629a23c12495'],
  [ChapAlgorithm['SHA-256'], 'sha256', '184388c7bef08778121b6e18f5fcc3ae0db3510fb8d2d4c189cdbb1373642942'],
  [ChapAlgorithm['SHA3-256'], 'sha3-256', 'cf58c95e3dda1036c97f11690489ec16f232d2484056afbf5de63ad7824385e1'],
] as const

describe('CHAP responses (RFC 1994 4.1, RFC 7143 12.1.3)', () => {
  it.each(VECTORS)('CHAP_A=%s (%s) known answer', (algorithm, hash, hex) => {
    const independent = createHash(hash)
      .update(Buffer.concat([Buffer.of(identifier), Buffer.from(secret, 'utf8'), challenge]))
      .digest('hex')
    expect(independent).toBe(hex)
    expect(chapResponse(algorithm, identifier, secret, challenge).toString('hex')).toBe(hex)
    expect(chapResponse(algorithm, identifier, Buffer.from(secret), challenge).toString('hex')).toBe(hex)
    expect(chapDigestLength(algorithm)).toBe(hex.length / 2)
  })

  it.each(VECTORS)('CHAP_A=%s verifies the right response and refuses wrong ones', (algorithm, _hash, hex) => {
    const good = Buffer.from(hex, 'hex')
    expect(verifyChapResponse(algorithm, identifier, secret, challenge, good)).toBe(true)
    const flipped = Buffer.from(good)
    flipped[0]! ^= 1
    expect(verifyChapResponse(algorithm, identifier, secret, challenge, flipped)).toBe(false)
    expect(verifyChapResponse(algorithm, identifier + 1, secret, challenge, good)).toBe(false)
    expect(verifyChapResponse(algorithm, identifier, `${secret}x`, challenge, good)).toBe(false)
    // A response of the wrong length is a failure, not an exception (timingSafeEqual needs equal lengths).
    expect(verifyChapResponse(algorithm, identifier, secret, challenge, good.subarray(1))).toBe(false)
    expect(verifyChapResponse(algorithm, identifier, secret, challenge, Buffer.concat([good, good]))).toBe(false)
  })

  it('refuses an identifier outside 0..255', () => {
    expect(() => chapResponse(ChapAlgorithm.MD5, 256, secret, challenge)).toThrow(RangeError)
    expect(() => chapResponse(ChapAlgorithm.MD5, -1, secret, challenge)).toThrow(RangeError)
  })

  it('maps algorithm names to CHAP_A numbers', () => {
    expect(chapAlgorithmByName('MD5')).toBe(5)
    expect(chapAlgorithmByName('SHA1')).toBe(6)
    expect(chapAlgorithmByName('SHA-256')).toBe(7)
    expect(chapAlgorithmByName('SHA3-256')).toBe(8)
    expect(Object.keys(CHAP_DIGEST)).toEqual(['5', '6', '7', '8'])
    expect(DEFAULT_CHAP_ALGORITHMS.at(-1)).toBe(ChapAlgorithm.MD5)
  })

  it('parses CHAP_A lists, ignoring values it does not know (RFC 7143 6.2.1)', () => {
    expect(parseChapAlgorithms('7,5')).toEqual([7, 5])
    expect(parseChapAlgorithms('129,8,foo,,5')).toEqual([8, 5])
    expect(parseChapAlgorithms('')).toEqual([])
  })
})

describe('challenges', () => {
  it.each(VECTORS)('CHAP_A=%s challenges are random, at least 16 bytes and the digest length', (algorithm) => {
    const a = createChapChallenge(algorithm)
    const b = createChapChallenge(algorithm)
    expect(a.challenge.length).toBe(Math.max(MIN_CHALLENGE_LENGTH, chapDigestLength(algorithm)))
    expect(a.challenge.equals(b.challenge)).toBe(false)
    expect(a.identifier).toBeGreaterThanOrEqual(0)
    expect(a.identifier).toBeLessThanOrEqual(255)
  })

  it('the cache recognises a challenge seen before and forgets the oldest beyond capacity', () => {
    const cache = new ChapChallengeCache(2)
    const one = Buffer.from('one')
    expect(cache.remember(one)).toBe(true)
    expect(cache.remember(Buffer.from('one'))).toBe(false)
    expect(cache.has(one)).toBe(true)
    cache.remember(Buffer.from('two'))
    cache.remember(Buffer.from('three'))
    expect(cache.size).toBe(2)
    expect(cache.has(one)).toBe(false)
    expect(() => new ChapChallengeCache(0)).toThrow(RangeError)
  })

  it('compares secrets without revealing them', () => {
    expect(sameSecret('abc', Buffer.from('abc'))).toBe(true)
    expect(sameSecret('abc', 'abd')).toBe(false)
  })
})
