// Initiator side of the login (RFC 7143 6.3, 11.12, 11.13): builds each Login Request and consumes each Login
// Response: AuthMethod and CHAP (one-way or mutual) in the security stage, the operational keys as proposer (and
// acceptor of the target's proposals), redirects, and failures as typed errors.
import { InitiatorChapAuthenticator } from './chap-initiator.js'
import { publishLogin } from './diagnostics.js'
import { LoginRejectedError, NegotiationError, NegotiationErrorCode } from './errors.js'
import { KEYS, isExtensionKey, keyStage } from './keys.js'
import { LoginStatusClass, loginStatusText } from './login-status.js'
import { KeyNegotiator } from './negotiator.js'
import {
  DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
  INITIATOR_DEFAULTS,
  LOGIN_MAX_DATA_SEGMENT_LENGTH,
  buildConnectionParameters,
  buildSessionParameters,
  preferenceValues,
} from './parameters.js'
import { parseTargetAddress } from './send-targets.js'
import { TextAccumulator } from './text-accumulator.js'
import { buildText, splitSegments } from './text.js'
import { LoginStage } from './types.js'
import type {
  AuthMethodName,
  InitiatorLoginOptions,
  InitiatorLoginStep,
  LoginRequestFields,
  LoginResponseFields,
  NegotiatedParameters,
  SessionTypeName,
  TextPair,
} from './types.js'

const EMPTY = Buffer.alloc(0)
/** Exchanges allowed in one stage before the login is declared stuck. */
const MAX_ROUNDS_PER_STAGE = 32

function protocol(code: NegotiationErrorCode, message: string): NegotiationError {
  return new NegotiationError(code, message)
}

type AuthState = 'method' | 'algorithms' | 'challenge' | 'mutual' | 'done'

/**
 * The initiator's login engine. Send `start()` as the first Login Request, then hand each Login Response to
 * `receive` and send the request it returns, until it returns `done` (frozen parameters) or `redirect`. Failures
 * (a non-success status or a protocol error by the target) are thrown as NegotiationError / LoginRejectedError.
 */
export class InitiatorLoginNegotiation {
  readonly #options: InitiatorLoginOptions
  readonly #preferences: Map<string, string>
  readonly #negotiator: KeyNegotiator
  readonly #accumulator: TextAccumulator
  readonly #methods: readonly AuthMethodName[]
  readonly #chap: InitiatorChapAuthenticator | undefined
  readonly #sessionType: SessionTypeName
  #stage: LoginStage = LoginStage.SecurityNegotiation
  #last: LoginRequestFields | undefined
  /** T and NSG of the request that completed our last text (empty acknowledgements do not change them). */
  #asked = { transit: false, nsg: 0 }
  #pendingSegments: Buffer[] = []
  #pendingFinal: { transit: boolean; nsg: number } | undefined
  #auth: AuthState = 'method'
  #authMethod: AuthMethodName = 'None'
  #rounds = 0
  #done = false
  #proposedOperational = false

  constructor(options: InitiatorLoginOptions) {
    if (options.initiatorName.length === 0) {
      throw new NegotiationError(NegotiationErrorCode.MissingParameter, 'initiatorName is required (RFC 7143 13.5)')
    }
    this.#sessionType = options.sessionType ?? 'Normal'
    if (this.#sessionType === 'Normal' && (options.targetName === undefined || options.targetName.length === 0)) {
      throw new NegotiationError(
        NegotiationErrorCode.MissingParameter,
        'targetName is required for a normal session (RFC 7143 13.4)',
      )
    }
    for (const { key } of options.extensionKeys ?? []) {
      if (!isExtensionKey(key)) throw new RangeError(`${key} is not an X- or X# extension key`)
    }
    this.#options = options
    const chap = options.auth?.chap
    this.#methods = options.auth?.methods ?? (chap !== undefined ? ['CHAP'] : ['None'])
    if (this.#methods.includes('CHAP') && chap === undefined) {
      throw new NegotiationError(NegotiationErrorCode.MissingParameter, 'AuthMethod CHAP needs auth.chap credentials')
    }
    this.#chap = chap !== undefined && this.#methods.includes('CHAP') ? new InitiatorChapAuthenticator(chap) : undefined
    this.#preferences = preferenceValues({ ...INITIATOR_DEFAULTS, ...options.operational })
    this.#preferences.set('AuthMethod', this.#methods.join(','))
    this.#accumulator = new TextAccumulator(options.maxTextLength)
    this.#negotiator = new KeyNegotiator({
      role: 'initiator',
      preferences: this.#preferences,
      privateKeys: options.operational?.privateKeys,
      sessionType: () => this.#sessionType,
      leading: (options.tsih ?? 0) === 0,
    })
  }

  get stage(): LoginStage {
    return this.#stage
  }

  get done(): boolean {
    return this.#done
  }

  /** The first Login Request: names, session type and AuthMethod in the security stage (RFC 7143 6.3). */
  start(): LoginRequestFields {
    if (this.#last !== undefined) throw protocol(NegotiationErrorCode.Sequence, 'start() called twice')
    const pairs: TextPair[] = [...this.#negotiator.declare('InitiatorName', this.#options.initiatorName)]
    if (this.#options.initiatorAlias !== undefined) {
      pairs.push(...this.#negotiator.declare('InitiatorAlias', this.#options.initiatorAlias))
    }
    if ((this.#options.tsih ?? 0) === 0) pairs.push(...this.#negotiator.declare('SessionType', this.#sessionType))
    if (this.#sessionType === 'Normal') pairs.push(...this.#negotiator.declare('TargetName', this.#options.targetName!))
    pairs.push(...this.#negotiator.propose(['AuthMethod']))
    // With None acceptable, ask to move on at once; the target holds us back (T=0) if it wants CHAP.
    const transit = this.#methods.includes('None')
    return this.#send(pairs, transit, LoginStage.LoginOperationalNegotiation)
  }

  /** Consume a Login Response (`tsih` is kept for the final step). */
  receive(response: LoginResponseFields & { readonly tsih?: number }): InitiatorLoginStep {
    if (this.#done || this.#last === undefined) {
      throw protocol(NegotiationErrorCode.Sequence, 'Login Response outside a login exchange')
    }
    try {
      return this.#receive(response)
    } catch (error) {
      this.#done = true
      if (error instanceof NegotiationError) {
        publishLogin({
          role: 'initiator',
          event: 'failure',
          targetName: this.#options.targetName,
          sessionType: this.#sessionType,
          code: error.code,
          reason: error.message,
          ...error.loginStatus,
        })
      }
      throw error
    }
  }

  #receive(response: LoginResponseFields & { readonly tsih?: number }): InitiatorLoginStep {
    if (response.statusClass !== LoginStatusClass.SUCCESS) return this.#refused(response)
    if (response.transit && response.continue) {
      throw protocol(NegotiationErrorCode.StageTransition, 'T and C both set in a Login Response (RFC 7143 11.13)')
    }
    if (response.csg !== this.#stage) {
      throw protocol(NegotiationErrorCode.StageTransition, `response CSG ${response.csg} in stage ${this.#stage}`)
    }
    if (response.transit) {
      // The target may only transit when asked, and never beyond the stage asked for (RFC 7143 6.3, 11.13.3).
      if (!this.#asked.transit) {
        throw protocol(NegotiationErrorCode.StageTransition, 'the target transited without the initiator asking')
      }
      if (
        (response.nsg !== LoginStage.LoginOperationalNegotiation && response.nsg !== LoginStage.FullFeaturePhase) ||
        response.nsg <= response.csg ||
        response.nsg > this.#asked.nsg
      ) {
        throw protocol(NegotiationErrorCode.StageTransition, `response NSG ${response.nsg} is not allowed`)
      }
    }
    if (++this.#rounds > MAX_ROUNDS_PER_STAGE) {
      throw protocol(NegotiationErrorCode.Sequence, 'login stage does not converge')
    }

    // We are sending a long text with C=1: the target answers each part with an empty response.
    if (this.#pendingSegments.length > 0) {
      if (response.data.length > 0 || response.transit || response.continue) {
        throw protocol(NegotiationErrorCode.Sequence, 'the target answered a C=1 request with data')
      }
      return this.#request(this.#nextSegment())
    }
    // The target's text continues: acknowledge with an empty request (RFC 7143 11.13.3).
    if (response.continue) {
      this.#accumulator.push(response.data)
      return this.#request(this.#fields(EMPTY, false, false, this.#asked.nsg))
    }
    const pairs = this.#accumulator.finish(response.data)

    const answers: TextPair[] = []
    const chapKeys = new Map<string, string>()
    const ks = keyStage(this.#stage)
    for (const { key, value } of pairs) {
      const definition = KEYS.get(key)
      if (definition?.result === 'auth') {
        this.#negotiator.markReceived(definition, key)
        if (this.#stage !== LoginStage.SecurityNegotiation) {
          throw protocol(NegotiationErrorCode.WrongStage, `${key} outside the security stage (RFC 7143 6.3)`)
        }
        chapKeys.set(key, value)
        continue
      }
      const answer = this.#negotiator.process(key, value, ks)
      if (answer !== undefined) answers.push(answer)
    }
    const out = this.#negotiator.reconcile(answers)

    if (this.#stage === LoginStage.SecurityNegotiation) {
      const next = this.#authenticate(chapKeys, response.transit)
      if (!response.transit) {
        out.push(...next.pairs)
        return this.#request(this.#send(out, next.transit, LoginStage.LoginOperationalNegotiation))
      }
    }

    if (response.transit) {
      this.#stage = response.nsg as LoginStage
      this.#rounds = 0
      if (this.#stage === LoginStage.FullFeaturePhase) return this.#finish(response.tsih)
      publishLogin({ role: 'initiator', event: 'stage', stage: this.#stage, targetName: this.#options.targetName })
    }
    // Operational stage: our proposals (once), answers to the target's, and T=1 towards full feature phase.
    out.push(...this.#operationalProposals())
    return this.#request(this.#send(out, true, LoginStage.FullFeaturePhase))
  }

  /** Security stage bookkeeping: AuthMethod result and the CHAP steps. Returns what to send next. */
  #authenticate(chapKeys: ReadonlyMap<string, string>, targetTransits: boolean): { pairs: TextPair[]; transit: boolean } {
    if (this.#auth === 'method') {
      if (this.#negotiator.hasReceived('AuthMethod')) {
        const method = this.#negotiator.result('AuthMethod')
        if (method !== 'CHAP' && method !== 'None') {
          throw new NegotiationError(
            NegotiationErrorCode.AuthenticationFailed,
            'the target accepted none of our authentication methods',
          )
        }
        this.#authMethod = method
        this.#auth = method === 'CHAP' ? 'algorithms' : 'done'
      } else if (targetTransits && this.#methods.includes('None')) {
        this.#auth = 'done' // AuthMethod unanswered: its default None applies.
      } else if (!targetTransits) {
        throw protocol(NegotiationErrorCode.BadAnswer, 'the target did not answer AuthMethod (RFC 7143 6.2)')
      }
    }
    if (this.#auth === 'algorithms') {
      if (chapKeys.size > 0) throw protocol(NegotiationErrorCode.ChapMalformed, 'CHAP keys before CHAP_A')
      if (targetTransits) {
        throw new NegotiationError(NegotiationErrorCode.AuthenticationFailed, 'the target skipped CHAP')
      }
      this.#auth = 'challenge'
      return { pairs: this.#chap!.offer(), transit: false }
    }
    if (this.#auth === 'challenge') {
      if (targetTransits) {
        throw new NegotiationError(NegotiationErrorCode.AuthenticationFailed, 'the target skipped CHAP')
      }
      const pairs = this.#chap!.respond(chapKeys)
      this.#auth = this.#chap!.mutual ? 'mutual' : 'done'
      return { pairs, transit: true }
    }
    if (this.#auth === 'mutual') {
      // RFC 7143 12.1.3: the target answers our challenge before it may let us through.
      this.#chap!.verify(chapKeys)
      this.#auth = 'done'
      return { pairs: [], transit: true }
    }
    if (chapKeys.size > 0) throw protocol(NegotiationErrorCode.ChapMalformed, 'unexpected CHAP keys')
    return { pairs: [], transit: true }
  }

  #operationalProposals(): TextPair[] {
    if (this.#proposedOperational) return []
    this.#proposedOperational = true
    const leading = (this.#options.tsih ?? 0) === 0
    const discovery = this.#sessionType === 'Discovery'
    const keys: string[] = []
    for (const definition of KEYS.values()) {
      if (!definition.stages.includes('operational') || definition.result === 'declarative') continue
      if (definition.use === 'LO' && (!leading || discovery)) continue
      if (definition.irrelevantInDiscovery && discovery) continue
      keys.push(definition.name)
    }
    const out: TextPair[] = []
    const ours = this.#preferences.get('MaxRecvDataSegmentLength')
    if (ours !== undefined) out.push(...this.#negotiator.declare('MaxRecvDataSegmentLength', ours))
    out.push(...this.#negotiator.propose(keys))
    out.push(...this.#negotiator.proposeExtensions(this.#options.extensionKeys ?? []))
    return out
  }

  #finish(tsih: number | undefined): InitiatorLoginStep {
    if (this.#auth !== 'done') {
      throw new NegotiationError(NegotiationErrorCode.AuthenticationFailed, 'login ended before authentication')
    }
    this.#negotiator.settleUnanswered()
    this.#negotiator.checkBurstLengths()
    const session = buildSessionParameters(this.#negotiator, {
      sessionType: this.#sessionType,
      initiatorName: this.#options.initiatorName,
      targetName: this.#sessionType === 'Normal' ? this.#options.targetName : undefined,
      initiatorAlias: this.#options.initiatorAlias,
      targetAlias: this.#negotiator.declared('TargetAlias'),
      targetPortalGroupTag:
        this.#negotiator.declared('TargetPortalGroupTag') === undefined
          ? undefined
          : Number(this.#negotiator.declared('TargetPortalGroupTag')),
    })
    const declared = this.#negotiator.hasSent('MaxRecvDataSegmentLength')
    const connection = buildConnectionParameters(
      this.#negotiator,
      declared
        ? Number(this.#preferences.get('MaxRecvDataSegmentLength'))
        : DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
      { method: this.#authMethod, chapUser: this.#authMethod === 'CHAP' ? this.#options.auth?.chap?.user : undefined },
    )
    const parameters: NegotiatedParameters = Object.freeze({ session, connection })
    this.#done = true
    publishLogin({
      role: 'initiator',
      event: 'success',
      initiatorName: this.#options.initiatorName,
      targetName: this.#options.targetName,
      sessionType: this.#sessionType,
    })
    return tsih === undefined ? { kind: 'done', parameters } : { kind: 'done', parameters, tsih }
  }

  /** A non-success status: redirect (class 1) or a typed failure. */
  #refused(response: LoginResponseFields): InitiatorLoginStep {
    const status = { statusClass: response.statusClass, statusDetail: response.statusDetail }
    if (response.statusClass === LoginStatusClass.REDIRECTION) {
      const pairs = this.#accumulator.finish(response.data)
      const targetAddress = pairs.find((p) => p.key === 'TargetAddress')?.value
      if (targetAddress === undefined) {
        throw new LoginRejectedError(status, 'redirect without a TargetAddress (RFC 7143 11.13.5)')
      }
      this.#done = true
      publishLogin({ role: 'initiator', event: 'redirect', targetName: this.#options.targetName, ...status })
      return {
        kind: 'redirect',
        permanent: response.statusDetail === 0x02,
        targetAddress,
        address: parseTargetAddress(targetAddress),
      }
    }
    throw new LoginRejectedError(status, `login rejected: ${loginStatusText(status.statusClass, status.statusDetail)}`)
  }

  /** Encode pairs into one request, or the first of several with C=1 when longer than 8192 bytes. */
  #send(pairs: readonly TextPair[], transit: boolean, nsg: number): LoginRequestFields {
    const segments = splitSegments(buildText(pairs), LOGIN_MAX_DATA_SEGMENT_LENGTH)
    this.#pendingSegments = segments
    this.#pendingFinal = { transit, nsg }
    return this.#nextSegment()
  }

  #nextSegment(): LoginRequestFields {
    const segment = this.#pendingSegments.shift() ?? EMPTY
    const final = this.#pendingFinal!
    if (this.#pendingSegments.length > 0) return this.#fields(segment, false, true, final.nsg)
    this.#asked = { transit: final.transit, nsg: final.nsg }
    return this.#fields(segment, final.transit, false, final.nsg)
  }

  #fields(data: Buffer, transit: boolean, more: boolean, nsg: number): LoginRequestFields {
    const fields: LoginRequestFields = {
      transit,
      continue: more,
      csg: this.#stage,
      nsg,
      data,
      ...(this.#options.isid === undefined ? {} : { isid: this.#options.isid }),
      tsih: this.#options.tsih ?? 0,
    }
    this.#last = fields
    return fields
  }

  #request(request: LoginRequestFields): InitiatorLoginStep {
    return { kind: 'request', request }
  }
}
