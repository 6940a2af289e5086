// The target's half of CHAP (RFC 7143 12.1.3, RFC 1994): choose CHAP_A, challenge, verify CHAP_N/CHAP_R, and
// for mutual CHAP answer the initiator's challenge after refusing reflections and replays.
import {
  ChapChallengeCache,
  DEFAULT_CHAP_ALGORITHMS,
  chapDigestLength,
  chapResponse,
  createChapChallenge,
  parseChapAlgorithms,
  sameSecret,
  verifyChapResponse,
} from './chap.js'
import type { ChapChallenge } from './chap.js'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { MAX_CHAP_BINARY_BYTES } from './keys.js'
import { LoginStatus } from './login-status.js'
import type { AuthPolicy, ChapAlgorithm, TextPair } from './types.js'
import { formatBinary, parseBinary, parseNumber } from './values.js'

type ChapPolicy = NonNullable<AuthPolicy['chap']>

function failure(code: NegotiationErrorCode, message: string): NegotiationError {
  return new NegotiationError(code, message, { kind: 'login', ...LoginStatus.AUTHENTICATION_FAILURE })
}

function malformed(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.ChapMalformed, message, {
    kind: 'login',
    ...LoginStatus.INITIATOR_ERROR,
  })
}

/** A secret nobody has, so that an unknown CHAP_N costs the same as a wrong CHAP_R. */
const DECOY_SECRET = Buffer.alloc(16)

export class TargetChapAuthenticator {
  readonly #policy: ChapPolicy | undefined
  readonly #cache: ChapChallengeCache
  #state: 'algorithms' | 'response' | 'done' = 'algorithms'
  #algorithm: ChapAlgorithm | undefined
  #challenge: ChapChallenge | undefined
  #user: string | undefined
  #mutual = false

  constructor(policy: ChapPolicy | undefined, cache?: ChapChallengeCache) {
    this.#policy = policy
    this.#cache = cache ?? new ChapChallengeCache(64)
  }

  get done(): boolean {
    return this.#state === 'done'
  }

  /** The CHAP_N that authenticated, once done. */
  get user(): string | undefined {
    return this.#user
  }

  get mutual(): boolean {
    return this.#mutual
  }

  /** Process the CHAP keys of one request; returns the CHAP keys of the response. */
  process(keys: ReadonlyMap<string, string>): TextPair[] {
    if (this.#state === 'algorithms') return this.#chooseAlgorithm(keys)
    if (this.#state === 'response') return this.#verify(keys)
    throw malformed('CHAP keys after CHAP completed (RFC 7143 12.1.3)')
  }

  #chooseAlgorithm(keys: ReadonlyMap<string, string>): TextPair[] {
    const offered = keys.get('CHAP_A')
    if (offered === undefined || keys.size !== 1) {
      throw malformed('the CHAP exchange must start with CHAP_A alone (RFC 7143 12.1.3)')
    }
    const accepted = this.#policy?.algorithms ?? DEFAULT_CHAP_ALGORITHMS
    const algorithm = parseChapAlgorithms(offered).find((a) => accepted.includes(a))
    if (algorithm === undefined || this.#policy === undefined) {
      throw failure(NegotiationErrorCode.ChapAlgorithm, 'no CHAP_A algorithm acceptable to both sides')
    }
    this.#algorithm = algorithm
    let challenge = createChapChallenge(algorithm)
    // Never hand out a challenge already seen (vanishingly unlikely, but the cache must stay truthful).
    while (!this.#cache.remember(challenge.challenge)) challenge = createChapChallenge(algorithm)
    this.#challenge = challenge
    this.#state = 'response'
    return [
      { key: 'CHAP_A', value: String(algorithm) },
      { key: 'CHAP_I', value: String(challenge.identifier) },
      { key: 'CHAP_C', value: formatBinary(challenge.challenge) },
    ]
  }

  #verify(keys: ReadonlyMap<string, string>): TextPair[] {
    const user = keys.get('CHAP_N')
    const responseText = keys.get('CHAP_R')
    if (user === undefined || responseText === undefined) {
      throw malformed('CHAP_N and CHAP_R expected (RFC 7143 12.1.3)')
    }
    for (const key of keys.keys()) {
      if (!['CHAP_N', 'CHAP_R', 'CHAP_I', 'CHAP_C'].includes(key)) throw malformed(`${key} out of sequence`)
    }
    const mutualId = keys.get('CHAP_I')
    const mutualChallengeText = keys.get('CHAP_C')
    if ((mutualId === undefined) !== (mutualChallengeText === undefined)) {
      throw malformed('mutual CHAP needs both CHAP_I and CHAP_C (RFC 7143 12.1.3)')
    }
    let response: Buffer
    let identifier: number | undefined
    let mutualChallenge: Buffer | undefined
    try {
      response = parseBinary(responseText, MAX_CHAP_BINARY_BYTES)
      if (mutualId !== undefined && mutualChallengeText !== undefined) {
        const id = parseNumber(mutualId)
        if (id > 255n) throw malformed('CHAP_I outside 0..255')
        identifier = Number(id)
        mutualChallenge = parseBinary(mutualChallengeText, MAX_CHAP_BINARY_BYTES)
      }
    } catch (cause) {
      if (cause instanceof NegotiationError && cause.code === NegotiationErrorCode.ChapMalformed) throw cause
      throw malformed('malformed CHAP value (RFC 7143 12.1.3)')
    }
    const algorithm = this.#algorithm!
    const challenge = this.#challenge!
    const policy = this.#policy!
    let secret: ReturnType<ChapPolicy['lookup']>
    try {
      secret = policy.lookup(user)
    } catch {
      secret = undefined
    }
    const ok = verifyChapResponse(
      algorithm,
      challenge.identifier,
      secret ?? DECOY_SECRET,
      challenge.challenge,
      response,
    )
    if (secret === undefined || !ok || response.length !== chapDigestLength(algorithm)) {
      this.#state = 'done'
      throw failure(NegotiationErrorCode.ChapResponse, 'CHAP authentication of the initiator failed')
    }
    this.#user = user
    this.#state = 'done'
    if (identifier === undefined || mutualChallenge === undefined) return []

    // Mutual CHAP: the target proves itself.
    const mutual = policy.mutual
    if (mutual === undefined) {
      throw failure(NegotiationErrorCode.ChapResponse, 'mutual CHAP requested but the target has no mutual secret')
    }
    if (mutualChallenge.equals(challenge.challenge)) {
      throw failure(NegotiationErrorCode.ChapReflection, 'the mutual CHAP challenge reflects our own (RFC 7143 12.1.3)')
    }
    if (!this.#cache.remember(mutualChallenge)) {
      throw failure(NegotiationErrorCode.ChapReplay, 'the mutual CHAP challenge was seen before (RFC 7143 12.1.3)')
    }
    if (sameSecret(mutual.secret, secret)) {
      throw failure(
        NegotiationErrorCode.ChapSecretReuse,
        'the same CHAP secret is configured for both directions (RFC 7143 12.1.3)',
      )
    }
    this.#mutual = true
    return [
      { key: 'CHAP_N', value: mutual.user },
      { key: 'CHAP_R', value: formatBinary(chapResponse(algorithm, identifier, mutual.secret, mutualChallenge)) },
    ]
  }
}
