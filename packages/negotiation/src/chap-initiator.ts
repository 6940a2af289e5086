// The initiator's half of CHAP (RFC 7143 12.1.3, RFC 1994): offer CHAP_A, answer the target's challenge, and for
// mutual CHAP challenge the target and check its answer in constant time.
import {
  DEFAULT_CHAP_ALGORITHMS,
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
import { ChapAlgorithm } from './types.js'
import type { ChapSecret, TextPair } from './types.js'
import { formatBinary, parseBinary, parseNumber } from './values.js'

export interface InitiatorChapConfig {
  readonly user: string
  readonly secret: ChapSecret
  readonly mutual?: { readonly user?: string; readonly secret: ChapSecret }
  readonly algorithms?: readonly ChapAlgorithm[]
}

function failure(code: NegotiationErrorCode, message: string): NegotiationError {
  return new NegotiationError(code, message, { kind: 'login', ...LoginStatus.AUTHENTICATION_FAILURE })
}

function malformed(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.ChapMalformed, message, {
    kind: 'login',
    ...LoginStatus.INITIATOR_ERROR,
  })
}

export class InitiatorChapAuthenticator {
  readonly #config: InitiatorChapConfig
  readonly #algorithms: readonly ChapAlgorithm[]
  #algorithm: ChapAlgorithm | undefined
  #challenge: ChapChallenge | undefined
  #verified = false

  constructor(config: InitiatorChapConfig) {
    if (config.mutual !== undefined && sameSecret(config.mutual.secret, config.secret)) {
      throw failure(
        NegotiationErrorCode.ChapSecretReuse,
        'the same CHAP secret is configured for both directions (RFC 7143 12.1.3)',
      )
    }
    this.#config = config
    const preferred = config.algorithms ?? DEFAULT_CHAP_ALGORITHMS
    // MD5 is always acceptable (RFC 7143 12.1.3: every implementation supports it).
    this.#algorithms = preferred.includes(ChapAlgorithm.MD5) ? [...preferred] : [...preferred, ChapAlgorithm.MD5]
  }

  get mutual(): boolean {
    return this.#config.mutual !== undefined
  }

  /** True once the target proved itself (mutual) or right after our response (one-way). */
  get verified(): boolean {
    return this.#verified
  }

  get algorithm(): ChapAlgorithm | undefined {
    return this.#algorithm
  }

  /** CHAP_A with our algorithms, best first. */
  offer(): TextPair[] {
    return [{ key: 'CHAP_A', value: this.#algorithms.join(',') }]
  }

  /** Answer CHAP_A/CHAP_I/CHAP_C from the target with CHAP_N/CHAP_R (and our own challenge for mutual CHAP). */
  respond(keys: ReadonlyMap<string, string>): TextPair[] {
    const a = keys.get('CHAP_A')
    const i = keys.get('CHAP_I')
    const c = keys.get('CHAP_C')
    if (a === undefined || i === undefined || c === undefined) {
      throw malformed('the target must send CHAP_A, CHAP_I and CHAP_C (RFC 7143 12.1.3)')
    }
    const chosen = parseChapAlgorithms(a)
    const algorithm = chosen.length === 1 && a.split(',').length === 1 ? chosen[0] : undefined
    if (algorithm === undefined || !this.#algorithms.includes(algorithm)) {
      throw failure(NegotiationErrorCode.ChapAlgorithm, 'the target chose a CHAP_A we did not offer')
    }
    let identifier: number
    let challenge: Buffer
    try {
      const id = parseNumber(i)
      if (id > 255n) throw malformed('CHAP_I outside 0..255')
      identifier = Number(id)
      challenge = parseBinary(c, MAX_CHAP_BINARY_BYTES)
    } catch (cause) {
      if (cause instanceof NegotiationError && cause.code === NegotiationErrorCode.ChapMalformed) throw cause
      throw malformed('malformed CHAP_I or CHAP_C (RFC 7143 12.1.3)')
    }
    this.#algorithm = algorithm
    const out: TextPair[] = [
      { key: 'CHAP_N', value: this.#config.user },
      { key: 'CHAP_R', value: formatBinary(chapResponse(algorithm, identifier, this.#config.secret, challenge)) },
    ]
    if (this.#config.mutual === undefined) {
      this.#verified = true
      return out
    }
    let ours = createChapChallenge(algorithm)
    // Our challenge must differ from the target's (reflection, RFC 7143 12.1.3).
    while (ours.challenge.equals(challenge)) ours = createChapChallenge(algorithm)
    this.#challenge = ours
    out.push(
      { key: 'CHAP_I', value: String(ours.identifier) },
      { key: 'CHAP_C', value: formatBinary(ours.challenge) },
    )
    return out
  }

  /** Check the target's CHAP_N/CHAP_R against our challenge (mutual CHAP). */
  verify(keys: ReadonlyMap<string, string>): void {
    const mutual = this.#config.mutual
    const challenge = this.#challenge
    const algorithm = this.#algorithm
    if (mutual === undefined || challenge === undefined || algorithm === undefined) {
      throw malformed('unexpected CHAP keys from the target')
    }
    const user = keys.get('CHAP_N')
    const responseText = keys.get('CHAP_R')
    if (user === undefined || responseText === undefined) {
      throw failure(NegotiationErrorCode.ChapResponse, 'the target did not answer the mutual CHAP challenge')
    }
    let response: Buffer
    try {
      response = parseBinary(responseText, MAX_CHAP_BINARY_BYTES)
    } catch {
      throw malformed('malformed CHAP_R from the target')
    }
    const ok = verifyChapResponse(algorithm, challenge.identifier, mutual.secret, challenge.challenge, response)
    if (!ok || (mutual.user !== undefined && mutual.user !== user)) {
      throw failure(NegotiationErrorCode.ChapResponse, 'mutual CHAP authentication of the target failed')
    }
    this.#verified = true
  }
}
