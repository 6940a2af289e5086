// Target side of the login (RFC 7143 6.3, 11.12, 11.13): one call per Login Request, one Login Response back.
// Runs the security stage (AuthMethod, CHAP), the operational stage (the key table, as acceptor and, where a default
// is unacceptable, as proposer) and the CSG/NSG/T/C rules; ends with frozen parameters or a failure status.
import { ChapChallengeCache } from './chap.js'
import { TargetChapAuthenticator } from './chap-target.js'
import { publishLogin } from './diagnostics.js'
import { NegotiationError, NegotiationErrorCode, loginError } from './errors.js'
import { KEYS, keyStage } from './keys.js'
import { LoginStatus } from './login-status.js'
import { KeyNegotiator, acceptValue } from './negotiator.js'
import {
  DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
  LOGIN_MAX_DATA_SEGMENT_LENGTH,
  TARGET_DEFAULTS,
  buildConnectionParameters,
  buildSessionParameters,
  preferenceValues,
} from './parameters.js'
import { TextAccumulator } from './text-accumulator.js'
import { buildText, splitSegments } from './text.js'
import { LoginStage } from './types.js'
import type {
  AuthMethodName,
  AuthPolicy,
  LoginRequestFields,
  LoginStatusCode,
  NegotiatedParameters,
  SessionTypeName,
  TargetLoginOptions,
  TargetLoginPolicy,
  TargetLoginStep,
  TextPair,
} from './types.js'

const EMPTY = Buffer.alloc(0)

interface Outgoing {
  readonly segments: Buffer[]
  readonly csg: number
  readonly transit: boolean
  readonly nsg: number
  readonly parameters: NegotiatedParameters | undefined
}

function initiatorError(code: NegotiationErrorCode, message: string): NegotiationError {
  return loginError(code, message, LoginStatus.INITIATOR_ERROR)
}

/**
 * The target's login engine. Feed every Login Request to `receive`; send back the returned fields as a Login
 * Response; stop when `done` (success with `parameters`, or a failure/redirect status, then close the connection).
 */
export class TargetLoginNegotiation {
  readonly #policy: TargetLoginPolicy
  readonly #options: TargetLoginOptions
  readonly #preferences: Map<string, string>
  readonly #negotiator: KeyNegotiator
  readonly #accumulator: TextAccumulator
  readonly #cache: ChapChallengeCache
  #stage: LoginStage | undefined
  #requestedNsg: number | undefined
  #outgoing: Outgoing | undefined
  #identified = false
  #done = false
  #firstResponse = true
  #sessionType: SessionTypeName = 'Normal'
  #initiatorName = ''
  #targetName: string | undefined
  #initiatorAlias: string | undefined
  #targetAlias: string | undefined
  #portalGroupTag: number | undefined
  #auth: AuthPolicy = { methods: ['None'] }
  #chap: TargetChapAuthenticator | undefined
  #authenticated = false
  #authMethod: AuthMethodName = 'None'
  #declaredMaxRecv: number | undefined

  constructor(policy: TargetLoginPolicy, options: TargetLoginOptions = {}) {
    this.#policy = policy
    this.#options = options
    const limits = { ...TARGET_DEFAULTS, ...policy.limits }
    // RFC 7143 13.14: our FirstBurstLength limit never exceeds our MaxBurstLength.
    if (limits.firstBurstLength !== undefined && limits.maxBurstLength !== undefined) {
      limits.firstBurstLength = Math.min(limits.firstBurstLength, limits.maxBurstLength)
    }
    this.#preferences = preferenceValues(limits)
    this.#cache = policy.replayCache ?? new ChapChallengeCache(64)
    this.#accumulator = new TextAccumulator(policy.maxTextLength)
    this.#negotiator = new KeyNegotiator({
      role: 'target',
      preferences: this.#preferences,
      privateKeys: limits.privateKeys,
      sessionType: () => this.#sessionType,
      leading: options.session === undefined,
    })
  }

  /** The stage the login is in; undefined before the first request. */
  get stage(): LoginStage | undefined {
    return this.#stage
  }

  get done(): boolean {
    return this.#done
  }

  get sessionType(): SessionTypeName {
    return this.#sessionType
  }

  get initiatorName(): string {
    return this.#initiatorName
  }

  get targetName(): string | undefined {
    return this.#targetName
  }

  /** Consume one Login Request; never throws for peer input (errors become failure statuses). */
  receive(request: LoginRequestFields): TargetLoginStep {
    const csg = request.csg & 3
    if (this.#done) {
      return this.#fail(csg, initiatorError(NegotiationErrorCode.Sequence, 'Login Request after the login ended'))
    }
    try {
      return this.#receive(request)
    } catch (cause) {
      const error =
        cause instanceof NegotiationError
          ? cause
          : new NegotiationError(
              NegotiationErrorCode.Protocol,
              'target error while processing the login',
              { kind: 'login', ...LoginStatus.TARGET_ERROR },
              { cause },
            )
      return this.#fail(csg, error)
    }
  }

  #receive(request: LoginRequestFields): TargetLoginStep {
    this.#checkFlags(request)
    const stage = this.#stage!

    // Our previous response had C=1: the initiator answers with empty requests until we are through
    // (RFC 7143 11.13.3).
    if (this.#outgoing !== undefined) {
      if (request.data.length > 0 || request.continue) {
        throw initiatorError(NegotiationErrorCode.Sequence, 'data sent while the target response continues')
      }
      return this.#nextSegment()
    }

    // The initiator's text continues (C=1): hold it and answer with an empty response (RFC 7143 11.12.2).
    if (request.continue) {
      this.#accumulator.push(request.data)
      return this.#response(stage, false, stage, EMPTY, false)
    }
    const pairs = this.#accumulator.finish(request.data)

    if (!this.#identified) {
      const refusal = this.#identify(pairs, request, stage)
      if (refusal !== undefined) return refusal
    }
    if (stage === LoginStage.LoginOperationalNegotiation && !this.#authenticated) {
      // Jumping over the security stage is only allowed when this target does not require authentication.
      if (!this.#auth.methods.includes('None')) {
        throw loginError(
          NegotiationErrorCode.AuthenticationFailed,
          'authentication required but the initiator skipped the security stage',
          LoginStatus.AUTHENTICATION_FAILURE,
        )
      }
      this.#authenticated = true
    }

    const answers: TextPair[] = []
    const chapKeys = new Map<string, string>()
    const ks = keyStage(stage)
    for (const { key, value } of pairs) {
      const definition = KEYS.get(key)
      if (definition?.result === 'auth') {
        this.#negotiator.markReceived(definition, key)
        if (stage !== LoginStage.SecurityNegotiation) {
          throw initiatorError(NegotiationErrorCode.WrongStage, `${key} outside the security stage (RFC 7143 6.3)`)
        }
        chapKeys.set(key, value)
        continue
      }
      const answer = this.#negotiator.process(key, value, ks)
      if (answer !== undefined) answers.push(answer)
    }
    const out: TextPair[] = []
    if (this.#firstResponse) out.push(...this.#firstDeclarations())
    out.push(...this.#negotiator.reconcile(answers))

    let transit = false
    let nsg = request.nsg
    if (stage === LoginStage.SecurityNegotiation) {
      out.push(...this.#authenticate(chapKeys))
      if (request.transit && this.#readyToLeaveSecurity()) {
        transit = true
        if (nsg === LoginStage.FullFeaturePhase && this.#operationalNeeded()) nsg = LoginStage.LoginOperationalNegotiation
      }
    } else {
      if (this.#declaredMaxRecv === undefined) {
        const ours = this.#preferences.get('MaxRecvDataSegmentLength')
        this.#declaredMaxRecv = Number(ours ?? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH)
        if (ours !== undefined) out.push(...this.#negotiator.declare('MaxRecvDataSegmentLength', ours))
      }
      out.push(...this.#negotiator.propose(this.#neededProposals()))
      if (request.transit && this.#negotiator.outstanding.length === 0) transit = true
    }

    let parameters: NegotiatedParameters | undefined
    if (transit && nsg === LoginStage.FullFeaturePhase) parameters = this.#parameters()
    if (transit) this.#requestedNsg = undefined

    const segments = splitSegments(buildText(out), LOGIN_MAX_DATA_SEGMENT_LENGTH)
    this.#outgoing = { segments, csg: stage, transit, nsg, parameters }
    return this.#nextSegment()
  }

  /** RFC 7143 6.3, 11.12: T and C not both, CSG 0/1 and in sequence, NSG after CSG and stable within a stage. */
  #checkFlags(request: LoginRequestFields): void {
    if (request.transit && request.continue) {
      throw initiatorError(NegotiationErrorCode.StageTransition, 'T and C both set (RFC 7143 11.12.2)')
    }
    const csg = request.csg
    if (csg !== LoginStage.SecurityNegotiation && csg !== LoginStage.LoginOperationalNegotiation) {
      throw initiatorError(NegotiationErrorCode.StageTransition, `CSG ${csg} is not a login stage (RFC 7143 11.12.3)`)
    }
    if (this.#stage === undefined) this.#stage = csg
    else if (csg !== this.#stage) {
      throw initiatorError(
        NegotiationErrorCode.StageTransition,
        `CSG ${csg} but the login is in stage ${this.#stage} (RFC 7143 6.3)`,
      )
    }
    if (request.transit) {
      const nsg = request.nsg
      if ((nsg !== LoginStage.LoginOperationalNegotiation && nsg !== LoginStage.FullFeaturePhase) || nsg <= csg) {
        throw initiatorError(
          NegotiationErrorCode.StageTransition,
          `NSG ${nsg} cannot follow CSG ${csg} (RFC 7143 11.12.3)`,
        )
      }
      if (this.#requestedNsg !== undefined && this.#requestedNsg !== nsg) {
        throw initiatorError(NegotiationErrorCode.StageTransition, 'NSG changed within a stage (RFC 7143 6.3)')
      }
      this.#requestedNsg = nsg
    }
  }

  /** First complete text: names, session type, target resolution, ACL, redirect (RFC 7143 11.13.5). */
  #identify(pairs: readonly TextPair[], request: LoginRequestFields, stage: LoginStage): TargetLoginStep | undefined {
    const get = (key: string): string | undefined => pairs.find((p) => p.key === key)?.value
    const initiatorName = get('InitiatorName')
    if (initiatorName === undefined || initiatorName.length === 0) {
      throw loginError(
        NegotiationErrorCode.MissingParameter,
        'InitiatorName missing from the first Login Request (RFC 7143 13.5)',
        LoginStatus.MISSING_PARAMETER,
      )
    }
    this.#initiatorName = initiatorName
    this.#initiatorAlias = get('InitiatorAlias')
    const type = get('SessionType') ?? 'Normal'
    const served = this.#policy.sessionTypes ?? ['Normal', 'Discovery']
    if ((type !== 'Normal' && type !== 'Discovery') || !served.includes(type)) {
      throw loginError(
        NegotiationErrorCode.SessionTypeNotSupported,
        'session type not supported (RFC 7143 13.21)',
        LoginStatus.SESSION_TYPE_NOT_SUPPORTED,
      )
    }
    this.#sessionType = type
    const targetName = get('TargetName')
    this.#targetName = targetName

    const session = this.#options.session
    if (request.tsih !== undefined && request.tsih !== 0) {
      if (session === undefined) {
        throw loginError(
          NegotiationErrorCode.SessionDoesNotExist,
          'no session with this TSIH (RFC 7143 11.13.5)',
          LoginStatus.SESSION_DOES_NOT_EXIST,
        )
      }
      if (
        session.initiatorName !== initiatorName ||
        session.sessionType !== type ||
        (type === 'Normal' && session.targetName !== targetName)
      ) {
        throw loginError(
          NegotiationErrorCode.SessionDoesNotExist,
          'the connection does not match the session it joins (RFC 7143 11.13.5)',
          LoginStatus.CANT_INCLUDE_IN_SESSION,
        )
      }
    }

    if (type === 'Normal') {
      if (targetName === undefined || targetName.length === 0) {
        throw loginError(
          NegotiationErrorCode.MissingParameter,
          'TargetName missing from the first Login Request of a normal session (RFC 7143 13.4)',
          LoginStatus.MISSING_PARAMETER,
        )
      }
      const resolution = this.#policy.resolveTarget({
        targetName,
        initiatorName,
        initiatorAlias: this.#initiatorAlias,
        isid: request.isid,
      })
      if (resolution.redirect !== undefined) {
        const status = resolution.redirect.permanent
          ? LoginStatus.TARGET_MOVED_PERMANENTLY
          : LoginStatus.TARGET_MOVED_TEMPORARILY
        const data = buildText([{ key: 'TargetAddress', value: resolution.redirect.address }])
        this.#done = true
        publishLogin({ role: 'target', event: 'redirect', initiatorName, targetName, sessionType: type, ...status })
        return this.#response(stage, false, stage, data, true, status)
      }
      if (!resolution.exists) {
        throw loginError(NegotiationErrorCode.TargetNotFound, 'no such target', LoginStatus.NOT_FOUND)
      }
      if (!resolution.allowed) {
        throw loginError(
          NegotiationErrorCode.NotAuthorized,
          'initiator not allowed to access the target',
          LoginStatus.AUTHORIZATION_FAILURE,
        )
      }
      this.#auth = resolution.auth
      this.#portalGroupTag = resolution.portalGroupTag
      this.#targetAlias = resolution.alias
    } else {
      const allowed = this.#policy.discovery?.allowed?.(initiatorName) ?? true
      if (!allowed) {
        throw loginError(
          NegotiationErrorCode.NotAuthorized,
          'initiator not allowed to discover targets',
          LoginStatus.AUTHORIZATION_FAILURE,
        )
      }
      this.#auth = this.#policy.discovery?.auth ?? { methods: ['None'] }
      this.#portalGroupTag = this.#policy.discovery?.portalGroupTag
    }
    if (this.#auth.methods.length > 0) this.#preferences.set('AuthMethod', this.#auth.methods.join(','))
    else this.#preferences.delete('AuthMethod')
    this.#identified = true
    return undefined
  }

  /** TargetPortalGroupTag (and TargetAlias) go out in the first response (RFC 7143 13.9, 13.6). */
  #firstDeclarations(): TextPair[] {
    this.#firstResponse = false
    const out: TextPair[] = []
    if (this.#portalGroupTag !== undefined) {
      out.push(...this.#negotiator.declare('TargetPortalGroupTag', String(this.#portalGroupTag)))
    }
    if (this.#targetAlias !== undefined && this.#sessionType === 'Normal') {
      out.push(...this.#negotiator.declare('TargetAlias', this.#targetAlias))
    }
    return out
  }

  /** Security stage: AuthMethod's result and the CHAP exchange (RFC 7143 12). */
  #authenticate(chapKeys: ReadonlyMap<string, string>): TextPair[] {
    const method = this.#negotiator.result('AuthMethod')
    if (this.#negotiator.hasReceived('AuthMethod') && method === undefined) {
      throw loginError(
        NegotiationErrorCode.AuthenticationFailed,
        'no authentication method acceptable to both sides',
        LoginStatus.AUTHENTICATION_FAILURE,
      )
    }
    if (method === 'None') {
      this.#authMethod = 'None'
      this.#authenticated = true
    } else if (method === 'CHAP') {
      this.#authMethod = 'CHAP'
      this.#chap ??= new TargetChapAuthenticator(this.#auth.chap, this.#cache)
    }
    if (chapKeys.size === 0) return []
    if (this.#chap === undefined) {
      throw initiatorError(NegotiationErrorCode.ChapMalformed, 'CHAP keys before AuthMethod=CHAP (RFC 7143 12.1.3)')
    }
    const out = this.#chap.process(chapKeys)
    if (this.#chap.done) this.#authenticated = true
    return out
  }

  /** May the target leave the security stage? Throws when it must refuse the login instead. */
  #readyToLeaveSecurity(): boolean {
    if (this.#authenticated) return true
    if (this.#chap !== undefined) return false // CHAP still running: answer T=0 (RFC 7143 12.1.3)
    // AuthMethod never negotiated: its default None applies, if this target accepts it.
    if (this.#auth.methods.includes('None')) {
      this.#authenticated = true
      return true
    }
    throw loginError(
      NegotiationErrorCode.AuthenticationFailed,
      'authentication required but not negotiated',
      LoginStatus.AUTHENTICATION_FAILURE,
    )
  }

  /** Keys whose default the target cannot accept, so it proposes its own value (RFC 7143 6.2). */
  #neededProposals(): string[] {
    const needed: string[] = []
    for (const definition of KEYS.values()) {
      const ours = this.#preferences.get(definition.name)
      if (ours === undefined || definition.defaultValue === undefined || !definition.required) continue
      if (!['and', 'or', 'min', 'max', 'first-acceptable'].includes(definition.result)) continue
      if (definition.irrelevantInDiscovery && this.#sessionType === 'Discovery') continue
      if (definition.use === 'LO' && this.#options.session !== undefined) continue
      if (definition.name === 'AuthMethod') continue
      if (acceptValue(definition, definition.defaultValue, ours).result !== definition.defaultValue) {
        needed.push(definition.name)
      }
    }
    // RFC 7143 13.14: proposing a MaxBurstLength below the FirstBurstLength default means proposing that too.
    if (needed.includes('MaxBurstLength') && !needed.includes('FirstBurstLength')) needed.push('FirstBurstLength')
    return needed
  }

  #operationalNeeded(): boolean {
    const ours = Number(this.#preferences.get('MaxRecvDataSegmentLength') ?? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH)
    return ours !== DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH || this.#neededProposals().length > 0
  }

  #parameters(): NegotiatedParameters {
    this.#negotiator.settleUnanswered()
    const session =
      this.#options.session ??
      buildSessionParameters(this.#negotiator, {
        sessionType: this.#sessionType,
        initiatorName: this.#initiatorName,
        targetName: this.#sessionType === 'Normal' ? this.#targetName : undefined,
        initiatorAlias: this.#initiatorAlias,
        targetAlias: this.#targetAlias,
        targetPortalGroupTag: this.#portalGroupTag,
      })
    const connection = buildConnectionParameters(
      this.#negotiator,
      this.#declaredMaxRecv ?? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
      { method: this.#authMethod, chapUser: this.#chap?.user },
    )
    return Object.freeze({ session, connection })
  }

  #nextSegment(): TargetLoginStep {
    const outgoing = this.#outgoing!
    const segment = outgoing.segments.shift() ?? EMPTY
    const last = outgoing.segments.length === 0
    if (!last) return this.#response(outgoing.csg, false, outgoing.csg, segment, false, LoginStatus.SUCCESS, true)
    this.#outgoing = undefined
    if (outgoing.transit) this.#stage = outgoing.nsg as LoginStage
    const finished = outgoing.transit && outgoing.nsg === LoginStage.FullFeaturePhase
    if (finished) {
      this.#done = true
      publishLogin({
        role: 'target',
        event: 'success',
        initiatorName: this.#initiatorName,
        targetName: this.#targetName,
        sessionType: this.#sessionType,
      })
    } else if (outgoing.transit) {
      publishLogin({ role: 'target', event: 'stage', stage: outgoing.nsg, initiatorName: this.#initiatorName })
    }
    const step = this.#response(outgoing.csg, outgoing.transit, outgoing.nsg, segment, finished)
    return outgoing.parameters === undefined ? step : { ...step, parameters: outgoing.parameters }
  }

  #response(
    csg: number,
    transit: boolean,
    nsg: number,
    data: Buffer,
    done: boolean,
    status: LoginStatusCode = LoginStatus.SUCCESS,
    more = false,
  ): TargetLoginStep {
    return {
      transit,
      continue: more,
      csg,
      nsg,
      data,
      statusClass: status.statusClass,
      statusDetail: status.statusDetail,
      done,
    }
  }

  #fail(csg: number, error: NegotiationError): TargetLoginStep {
    this.#done = true
    this.#outgoing = undefined
    this.#accumulator.reset()
    const status = error.loginStatus
    publishLogin({
      role: 'target',
      event: 'failure',
      initiatorName: this.#initiatorName || undefined,
      targetName: this.#targetName,
      sessionType: this.#sessionType,
      statusClass: status.statusClass,
      statusDetail: status.statusDetail,
      code: error.code,
      reason: error.message,
    })
    return { ...this.#response(csg, false, csg, EMPTY, true, status), error }
  }
}
