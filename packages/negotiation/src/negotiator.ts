// The negotiation engine (RFC 7143 6.2): runs the key table for one side, as acceptor (answering offers) and as
// proposer (making offers and checking answers). Login and text negotiation drive it; it knows no key by name
// except the FirstBurstLength rules of RFC 7143 13.14, which tie two table rows together.
import { NegotiationError, NegotiationErrorCode, loginError } from './errors.js'
import { KEYS, extensionKeyDefinition, isExtensionKey, maySend } from './keys.js'
import type { KeyDefinition, KeyStage } from './keys.js'
import { LoginStatus } from './login-status.js'
import { formatBoolean, parseBoolean, parseList, parseNumber } from './values.js'
import type { NegotiationRole, SessionTypeName, TextPair } from './types.js'

/** Reserved answer constants (RFC 7143 6.2). */
export const Answer = {
  Reject: 'Reject',
  Irrelevant: 'Irrelevant',
  NotUnderstood: 'NotUnderstood',
} as const

function isSpecialAnswer(value: string): boolean {
  return value === Answer.Reject || value === Answer.Irrelevant || value === Answer.NotUnderstood
}

export interface NegotiatorOptions {
  readonly role: NegotiationRole
  /** Our value of each key, in wire form (our proposal, or the limit/preference used to answer). */
  readonly preferences: ReadonlyMap<string, string>
  readonly privateKeys?: Readonly<Record<string, (offered: string) => string>>
  /** The session type, read when needed (it is only known after the first PDU). */
  readonly sessionType: () => SessionTypeName
  /** False on a connection joining an existing session (TSIH != 0): LO keys are answered Reject. */
  readonly leading: boolean
}

export interface AcceptResult {
  /** The answer to send back. */
  readonly answer: string
  /** The negotiated value, undefined when the key keeps its current value (Reject, Irrelevant). */
  readonly result: string | undefined
}

/** Acceptor side of one key (RFC 7143 6.2.1, 6.2.2): the answer to `offered` given our value `ours`. */
export function acceptValue(definition: KeyDefinition, offered: string, ours: string): AcceptResult {
  const reject: AcceptResult = { answer: Answer.Reject, result: undefined }
  switch (definition.result) {
    case 'and':
    case 'or': {
      const theirs = parseBoolean(offered)
      const mine = parseBoolean(ours)
      if (theirs === undefined || mine === undefined) return reject
      const value = formatBoolean(definition.result === 'and' ? theirs && mine : theirs || mine)
      return { answer: value, result: value }
    }
    case 'min':
    case 'max': {
      const theirs = numberInRange(definition, offered)
      const mine = numberInRange(definition, ours)
      if (theirs === undefined || mine === undefined) return reject
      const pick = definition.result === 'min' ? (theirs < mine ? theirs : mine) : theirs > mine ? theirs : mine
      const value = pick.toString()
      return { answer: value, result: value }
    }
    case 'first-acceptable': {
      const acceptable = new Set(parseList(ours))
      const choice = parseList(offered).find((item) => acceptable.has(item))
      return choice === undefined ? reject : { answer: choice, result: choice }
    }
    default:
      return reject
  }
}

/**
 * Proposer side of one key (RFC 7143 6.2): the value an answer gives, or undefined when the key keeps its value
 * (Reject, Irrelevant, or NotUnderstood for a key whose understanding is optional). Throws when the answer is not
 * one the result function allows.
 */
export function resolveAnswer(definition: KeyDefinition, proposed: string, answer: string): string | undefined {
  if (answer === Answer.Reject || answer === Answer.Irrelevant) return undefined
  if (answer === Answer.NotUnderstood) {
    if (definition.required) {
      throw new NegotiationError(
        NegotiationErrorCode.RequiredKey,
        `the peer does not understand ${definition.name}, which RFC 7143 requires`,
      )
    }
    return undefined
  }
  const bad = (): NegotiationError =>
    new NegotiationError(NegotiationErrorCode.BadAnswer, `answer to ${definition.name} violates its result function`)
  switch (definition.result) {
    case 'and':
    case 'or': {
      const mine = parseBoolean(proposed)
      const theirs = parseBoolean(answer)
      if (mine === undefined || theirs === undefined) throw bad()
      // AND may only lower Yes to No, OR may only raise No to Yes (RFC 7143 6.2.2).
      if (definition.result === 'and' && !mine && theirs) throw bad()
      if (definition.result === 'or' && mine && !theirs) throw bad()
      return answer
    }
    case 'min':
    case 'max': {
      const mine = numberInRange(definition, proposed)
      const theirs = numberInRange(definition, answer)
      if (mine === undefined || theirs === undefined) throw bad()
      if (definition.result === 'min' ? theirs > mine : theirs < mine) throw bad()
      return theirs.toString()
    }
    case 'first-acceptable': {
      if (!parseList(proposed).includes(answer)) throw bad()
      return answer
    }
    default:
      return answer
  }
}

function numberInRange(definition: KeyDefinition, value: string): bigint | undefined {
  let n: bigint
  try {
    n = parseNumber(value)
  } catch {
    return undefined
  }
  const range = definition.range
  if (range !== undefined && (n < BigInt(range[0]) || n > BigInt(range[1]))) return undefined
  return n
}

/** True when a numeric value is well formed and within the key's range. */
export function isValidNumber(definition: KeyDefinition, value: string): boolean {
  return numberInRange(definition, value) !== undefined
}

/** One side's view of a negotiation: results, outstanding proposals, keys seen from the peer. */
export class KeyNegotiator {
  readonly role: NegotiationRole
  readonly #options: NegotiatorOptions
  readonly #results = new Map<string, string>()
  readonly #proposals = new Map<string, string>()
  readonly #received = new Set<string>()
  readonly #sent = new Set<string>()
  readonly #peerDeclared = new Map<string, string>()

  constructor(options: NegotiatorOptions) {
    this.role = options.role
    this.#options = options
  }

  get #peer(): NegotiationRole {
    return this.role === 'initiator' ? 'target' : 'initiator'
  }

  /** Our configured value of a key, else its default. */
  ours(key: string): string | undefined {
    return this.#options.preferences.get(key) ?? KEYS.get(key)?.defaultValue
  }

  /** The negotiated value of a key, else undefined. */
  result(key: string): string | undefined {
    return this.#results.get(key)
  }

  /** The negotiated value of a key, else its default. */
  effective(key: string): string | undefined {
    return this.#results.get(key) ?? KEYS.get(key)?.defaultValue
  }

  /** A value the peer declared (declarative keys). */
  declared(key: string): string | undefined {
    return this.#peerDeclared.get(key)
  }

  /** Keys we proposed and the peer has not answered yet. */
  get outstanding(): readonly string[] {
    return [...this.#proposals.keys()]
  }

  /** True once the peer has sent the key (as an offer, a declaration or an answer). */
  hasReceived(key: string): boolean {
    return this.#received.has(key)
  }

  /** True once we sent the key. */
  hasSent(key: string): boolean {
    return this.#sent.has(key)
  }

  /** True when the key was negotiated either way (result present or offer outstanding). */
  isSettledOrPending(key: string): boolean {
    return this.#results.has(key) || this.#proposals.has(key) || this.#received.has(key)
  }

  /** Record a key as received from the peer; throws on a second occurrence (RFC 7143 6.2). */
  markReceived(definition: KeyDefinition | undefined, key: string): void {
    if (this.#received.has(key) && definition?.repeatable !== true) {
      throw loginError(
        NegotiationErrorCode.DuplicateKey,
        `${key} negotiated more than once (RFC 7143 6.2)`,
        LoginStatus.INITIATOR_ERROR,
      )
    }
    this.#received.add(key)
  }

  /**
   * Process one pair from the peer in `stage`. Returns the answer pair, if any. Throws NegotiationError for a
   * protocol error (duplicate, wrong stage, wrong sender during login). `auth` and `request` keys are handled by
   * the caller before this.
   */
  process(key: string, value: string, stage: KeyStage): TextPair | undefined {
    const known = KEYS.get(key)
    const handler = isExtensionKey(key) ? this.#options.privateKeys?.[key] : undefined
    const definition = known ?? (handler !== undefined ? extensionKeyDefinition(key) : undefined)
    // Some targets (tgt among them) echo our Reject/Irrelevant/NotUnderstood answer back, e.g. for MaxConnections
    // offered on a non-leading connection. An echo of our own special answer carries no new offer: tolerate it
    // rather than fail the login as a duplicate (RFC 7143 6.2 forbids re-negotiating a key, not acknowledging one).
    if (this.#received.has(key) && this.#sent.has(key) && isSpecialAnswer(value) && !this.#proposals.has(key)) {
      return undefined
    }
    this.markReceived(definition, key)

    // An answer to something we proposed.
    const proposed = this.#proposals.get(key)
    if (proposed !== undefined) {
      this.#proposals.delete(key)
      const result = resolveAnswer(definition ?? extensionKeyDefinition(key), proposed, value)
      if (result !== undefined) this.#results.set(key, result)
      return undefined
    }

    // RFC 7143 6.2: an unknown key is answered NotUnderstood (also inside C=1 sequences, which arrive joined).
    if (definition === undefined) return this.#answer(key, Answer.NotUnderstood)

    const ffp = stage === 'full-feature'
    if (!maySend(definition, this.#peer)) {
      if (ffp) return this.#answer(key, Answer.Reject)
      throw new NegotiationError(
        NegotiationErrorCode.Protocol,
        `${key} may not be sent by the ${this.#peer} (RFC 7143 13)`,
      )
    }
    if (!definition.stages.includes(stage)) {
      // RFC 7143 6.2/13: a login-only key in full feature phase is answered Reject.
      if (ffp) return this.#answer(key, Answer.Reject)
      if (definition.stages.length === 1 && definition.stages[0] === 'full-feature') {
        throw loginError(
          NegotiationErrorCode.InvalidDuringLogin,
          `${key} is only valid in full feature phase (RFC 7143 11.13.5)`,
          LoginStatus.INVALID_DURING_LOGIN,
        )
      }
      throw new NegotiationError(NegotiationErrorCode.WrongStage, `${key} is not allowed in the ${stage} stage`)
    }
    if (ffp && !definition.renegotiableInFfp && definition.result !== 'declarative') {
      return this.#answer(key, Answer.Reject)
    }
    if (definition.obsoleteAnswer !== undefined) return this.#answer(key, definition.obsoleteAnswer)
    if (definition.irrelevantInDiscovery && this.#options.sessionType() === 'Discovery') {
      return this.#answer(key, Answer.Irrelevant)
    }
    if (definition.use === 'LO' && !this.#options.leading && definition.result !== 'declarative') {
      return this.#answer(key, Answer.Reject)
    }

    if (handler !== undefined) return this.#answer(key, handler(value))
    if (definition.result === 'declarative') {
      if (definition.kind === 'numeric' && !isValidNumber(definition, value)) {
        return this.#answer(key, Answer.Reject)
      }
      if (definition.values !== undefined && !definition.values.includes(value)) {
        return this.#answer(key, Answer.Reject)
      }
      this.#peerDeclared.set(key, value)
      return undefined
    }
    const ours = this.ours(key)
    if (ours === undefined) return this.#answer(key, Answer.Reject)
    const accepted = acceptValue(definition, value, ours)
    if (accepted.result !== undefined) this.#results.set(key, accepted.result)
    return this.#answer(key, accepted.answer)
  }

  #answer(key: string, value: string): TextPair {
    this.#sent.add(key)
    return { key, value }
  }

  /**
   * Propose our value of each key not yet negotiated either way. Keys without a configured value are skipped.
   */
  propose(keys: readonly string[]): TextPair[] {
    const pairs: TextPair[] = []
    for (const key of keys) {
      const value = this.#options.preferences.get(key)
      if (value === undefined || this.isSettledOrPending(key) || this.#sent.has(key)) continue
      this.#proposals.set(key, value)
      this.#sent.add(key)
      pairs.push({ key, value })
    }
    return pairs
  }

  /** Offer extension keys (`X-...`, `X#...`) with given values; answers are checked like declarations. */
  proposeExtensions(pairs: readonly TextPair[]): TextPair[] {
    const out: TextPair[] = []
    for (const { key, value } of pairs) {
      if (!isExtensionKey(key)) throw new RangeError(`${key} is not an X- or X# extension key`)
      if (this.isSettledOrPending(key) || this.#sent.has(key)) continue
      this.#proposals.set(key, value)
      this.#sent.add(key)
      out.push({ key, value })
    }
    return out
  }

  /** Declare a value (declarative key) once. */
  declare(key: string, value: string): TextPair[] {
    if (this.#sent.has(key)) return []
    this.#sent.add(key)
    return [{ key, value }]
  }

  /**
   * The peer moved on without answering some proposals. RFC 7143 6.2.2 lets an acceptor omit the answer only for
   * AND with No offered and OR with Yes offered; any other missing answer is a protocol error.
   */
  settleUnanswered(): void {
    for (const [key, proposed] of this.#proposals) {
      const definition = KEYS.get(key)
      const optional =
        (definition?.result === 'and' && proposed === 'No') || (definition?.result === 'or' && proposed === 'Yes')
      if (!optional && definition !== undefined && definition.required) {
        throw new NegotiationError(NegotiationErrorCode.BadAnswer, `the peer did not answer ${key} (RFC 7143 6.2)`)
      }
      if (optional) this.#results.set(key, proposed)
    }
    this.#proposals.clear()
  }

  /**
   * RFC 7143 13.14 applied to the answers of the current batch: FirstBurstLength is Irrelevant when InitialR2T=Yes
   * and ImmediateData=No, and never exceeds MaxBurstLength (an acceptor may lower a min-function answer).
   * Returns the amended batch answers; call after processing a whole text.
   */
  reconcile(answers: TextPair[]): TextPair[] {
    const index = answers.findIndex((pair) => pair.key === 'FirstBurstLength')
    if (index === -1) return answers
    const initialR2T = this.effective('InitialR2T') === 'Yes'
    const immediateData = this.effective('ImmediateData') === 'Yes'
    const amended = [...answers]
    if (initialR2T && !immediateData) {
      this.#results.delete('FirstBurstLength')
      amended[index] = { key: 'FirstBurstLength', value: Answer.Irrelevant }
      return amended
    }
    const first = this.#results.get('FirstBurstLength')
    const max = this.effective('MaxBurstLength')
    if (first !== undefined && max !== undefined && Number(first) > Number(max)) {
      this.#results.set('FirstBurstLength', max)
      amended[index] = { key: 'FirstBurstLength', value: max }
    }
    return amended
  }

  /** Proposer-side check of RFC 7143 13.14 once everything is answered. */
  checkBurstLengths(): void {
    const first = Number(this.effective('FirstBurstLength'))
    const max = Number(this.effective('MaxBurstLength'))
    const irrelevant = this.effective('InitialR2T') === 'Yes' && this.effective('ImmediateData') === 'No'
    if (!irrelevant && first > max) {
      throw new NegotiationError(
        NegotiationErrorCode.BurstLength,
        `FirstBurstLength ${first} exceeds MaxBurstLength ${max} (RFC 7143 13.14)`,
      )
    }
  }

  /** Set a result directly (values carried over from an existing session). */
  setResult(key: string, value: string): void {
    this.#results.set(key, value)
  }
}
