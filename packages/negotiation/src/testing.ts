// Test helpers (the `./testing` subpath): drive a target engine and an initiator engine against each other in
// process, and a small policy to build targets from.
import type { InitiatorLoginNegotiation } from './initiator-login.js'
import type { TargetLoginNegotiation } from './target-login.js'
import type { InitiatorTextNegotiation, TargetTextNegotiation } from './text-negotiation.js'
import type {
  AuthPolicy,
  ConnectionParameters,
  InitiatorLoginStep,
  LoginRequestFields,
  LoginResponseFields,
  NegotiatedParameters,
  OperationalPreferences,
  TargetListing,
  TargetLoginPolicy,
  TargetLoginStep,
  TextPair,
} from './types.js'

export interface LoopbackLoginResult {
  /** The initiator's last step ('done', or 'redirect'). */
  readonly initiator: InitiatorLoginStep
  /** The target's last response. */
  readonly target: TargetLoginStep
  /** Every request/response pair exchanged, in order. */
  readonly exchanges: readonly { request: LoginRequestFields; response: TargetLoginStep }[]
}

/**
 * Run a whole login between two engines. Throws what the initiator throws (a failure status arrives there as a
 * LoginRejectedError); gives up after `maxExchanges`.
 */
export function runLoopbackLogin(
  target: TargetLoginNegotiation,
  initiator: InitiatorLoginNegotiation,
  options: { maxExchanges?: number; tsih?: number } = {},
): LoopbackLoginResult {
  const exchanges: { request: LoginRequestFields; response: TargetLoginStep }[] = []
  let request = initiator.start()
  for (let i = 0; i < (options.maxExchanges ?? 64); i++) {
    const response = target.receive(request)
    exchanges.push({ request, response })
    const forInitiator: LoginResponseFields & { tsih?: number } =
      response.done && response.statusClass === 0 ? { ...response, tsih: options.tsih ?? 1 } : response
    const step = initiator.receive(forInitiator)
    if (step.kind !== 'request') return { initiator: step, target: response, exchanges }
    request = step.request
  }
  throw new Error('login did not finish')
}

/** Parameters both sides agreed, or a thrown Error when the login did not end in full feature phase. */
export function loopbackParameters(result: LoopbackLoginResult): {
  initiator: NegotiatedParameters
  target: NegotiatedParameters
} {
  if (result.initiator.kind !== 'done' || result.target.parameters === undefined) {
    throw new Error('the login did not reach full feature phase')
  }
  return { initiator: result.initiator.parameters, target: result.target.parameters }
}

export interface SimpleTarget {
  readonly name: string
  readonly alias?: string
  readonly portalGroupTag?: number
  readonly addresses?: TargetListing['addresses']
  /** Initiator names allowed; absent means everybody. */
  readonly allow?: readonly string[]
  readonly auth?: AuthPolicy
}

/** A TargetLoginPolicy over a list of targets (not for production: no reload, linear lookups). */
export function simpleTargetPolicy(
  targets: readonly SimpleTarget[],
  extra: Omit<TargetLoginPolicy, 'resolveTarget'> & { limits?: OperationalPreferences } = {},
): TargetLoginPolicy & { listTargets(initiatorName: string): TargetListing[] } {
  const visible = (initiatorName: string): SimpleTarget[] =>
    targets.filter((t) => t.allow === undefined || t.allow.includes(initiatorName))
  return {
    ...extra,
    resolveTarget({ targetName, initiatorName }) {
      const target = targets.find((t) => t.name === targetName)
      if (target === undefined) {
        return { exists: false, allowed: false, auth: { methods: [] }, portalGroupTag: 1 }
      }
      return {
        exists: true,
        allowed: target.allow === undefined || target.allow.includes(initiatorName),
        auth: target.auth ?? { methods: ['None'] },
        portalGroupTag: target.portalGroupTag ?? 1,
        ...(target.alias === undefined ? {} : { alias: target.alias }),
      }
    },
    listTargets(initiatorName: string): TargetListing[] {
      return visible(initiatorName).map((t) => ({
        name: t.name,
        addresses: t.addresses ?? [{ host: '127.0.0.1', port: 3260, portalGroupTag: t.portalGroupTag ?? 1 }],
      }))
    },
  }
}

/** Run one full-feature-phase text exchange between the two text engines; returns the pairs the initiator got. */
export function runLoopbackText(
  target: TargetTextNegotiation,
  initiator: InitiatorTextNegotiation,
  pairs: readonly TextPair[],
  options: { maxExchanges?: number } = {},
): { pairs: readonly TextPair[]; connection?: ConnectionParameters; exchanges: number } {
  let request = initiator.start(pairs)
  for (let i = 1; i <= (options.maxExchanges ?? 1024); i++) {
    const step = target.receive(request)
    if (step.kind === 'reject') throw step.error
    const next = initiator.receive(step.response)
    if (next.kind === 'done') {
      return next.connection === undefined
        ? { pairs: next.pairs, exchanges: i }
        : { pairs: next.pairs, connection: next.connection, exchanges: i }
    }
    request = next.request
  }
  throw new Error('text exchange did not finish')
}
