// Text negotiation in full feature phase, both sides (RFC 7143 6.2, 11.10, 11.11, appendix C): the F bit and the
// target's consent to end, C=1 continuation in both directions with the Target Transfer Tag, restart with
// 0xffffffff, MaxRecvDataSegmentLength renegotiation, and SendTargets.
import { publishText } from './diagnostics.js'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { KEYS } from './keys.js'
import { Answer, KeyNegotiator } from './negotiator.js'
import { withConnection } from './parameters.js'
import { buildSendTargetsAnswer, selectSendTargets } from './send-targets.js'
import { TextAccumulator } from './text-accumulator.js'
import { buildText, splitSegments } from './text.js'
import { RESERVED_TAG, RejectReason } from './types.js'
import type {
  ConnectionParameters,
  InitiatorTextStep,
  OperationalPreferences,
  SessionParameters,
  TargetListing,
  TargetTextStep,
  TextPair,
  TextRequestFields,
  TextResponseFields,
} from './types.js'

const EMPTY = Buffer.alloc(0)

function sequence(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.Sequence, message)
}

export interface TargetTextOptions {
  readonly session: SessionParameters
  readonly connection: ConnectionParameters
  /** Targets this initiator may see (SendTargets); called with the session's initiator name. */
  readonly listTargets?: (initiatorName: string) => readonly TargetListing[]
  /** Only `maxRecvDataSegmentLength` and `privateKeys` matter in full feature phase. */
  readonly limits?: OperationalPreferences
  readonly maxTextLength?: number
  /** First Target Transfer Tag handed out (default 1); tags never take the reserved 0xffffffff. */
  readonly firstTransferTag?: number
}

/**
 * The target's side of Text Request/Response exchanges on one connection. Feed each Text Request to `receive`;
 * send back the response, or a Reject PDU with the given reason.
 */
export class TargetTextNegotiation {
  readonly #options: TargetTextOptions
  readonly #accumulator: TextAccumulator
  #connection: ConnectionParameters
  #nextTag: number
  #expectedTag: number | undefined
  #outgoing: Buffer[] = []
  #finalAllowed = false

  constructor(options: TargetTextOptions) {
    this.#options = options
    this.#connection = options.connection
    this.#accumulator = new TextAccumulator(options.maxTextLength)
    this.#nextTag = (options.firstTransferTag ?? 1) >>> 0
  }

  /** The connection parameters, updated by MaxRecvDataSegmentLength declarations. */
  get connection(): ConnectionParameters {
    return this.#connection
  }

  receive(request: TextRequestFields): TargetTextStep {
    try {
      return this.#receive(request)
    } catch (cause) {
      const error =
        cause instanceof NegotiationError
          ? cause.reaction.kind === 'reject'
            ? cause
            : cause.asReject(RejectReason.ProtocolError)
          : new NegotiationError(
              NegotiationErrorCode.Protocol,
              'target error while processing a Text Request',
              { kind: 'reject', reason: RejectReason.ProtocolError },
              { cause },
            )
      this.#reset()
      publishText({ role: 'target', event: 'reject', keys: [], code: error.code })
      const reason = error.reaction.kind === 'reject' ? error.reaction.reason : RejectReason.ProtocolError
      return { kind: 'reject', reason, error }
    }
  }

  #reset(): void {
    this.#accumulator.reset()
    this.#outgoing = []
    this.#expectedTag = undefined
  }

  #tag(): number {
    let tag = this.#nextTag
    if (tag === RESERVED_TAG) tag = 0
    this.#nextTag = (tag + 1) >>> 0
    this.#expectedTag = tag
    return tag
  }

  #receive(request: TextRequestFields): TargetTextStep {
    if (request.final && request.continue) throw sequence('F and C both set in a Text Request (RFC 7143 11.10.2)')
    if (request.targetTransferTag === RESERVED_TAG) {
      // RFC 7143 11.10.4: 0xffffffff starts a new negotiation; whatever was in progress is discarded.
      this.#reset()
    } else if (request.targetTransferTag !== this.#expectedTag) {
      throw new NegotiationError(
        NegotiationErrorCode.Sequence,
        'Text Request with an unknown Target Transfer Tag (RFC 7143 11.10.4)',
        { kind: 'reject', reason: RejectReason.InvalidPduField },
      )
    }

    if (this.#outgoing.length > 0) {
      if (request.data.length > 0 || request.continue) {
        throw sequence('data sent while the target text response continues (RFC 7143 11.11.2)')
      }
      this.#finalAllowed = request.final
      return this.#nextSegment()
    }
    if (request.continue) {
      this.#accumulator.push(request.data)
      return this.#respond({ final: false, continue: false, targetTransferTag: this.#tag(), data: EMPTY }, false)
    }
    const pairs = this.#accumulator.finish(request.data)
    const answers = this.#answer(pairs)
    publishText({ role: 'target', event: 'exchange', keys: pairs.map((p) => p.key) })
    this.#finalAllowed = request.final
    const limit = this.#connection.maxSendDataSegmentLength
    this.#outgoing = splitSegments(buildText(answers), limit)
    return this.#nextSegment()
  }

  #answer(pairs: readonly TextPair[]): TextPair[] {
    const session = this.#options.session
    const limits = this.#options.limits ?? {}
    const ours = String(this.#connection.maxRecvDataSegmentLength)
    const negotiator = new KeyNegotiator({
      role: 'target',
      preferences: new Map([['MaxRecvDataSegmentLength', ours]]),
      privateKeys: limits.privateKeys,
      sessionType: () => session.sessionType,
      leading: true,
    })
    const discovery = session.sessionType === 'Discovery'
    const out: TextPair[] = []
    for (const { key, value } of pairs) {
      const definition = KEYS.get(key)
      if (key === 'SendTargets') {
        negotiator.markReceived(definition, key)
        const visible = this.#options.listTargets?.(session.initiatorName) ?? []
        const selected = selectSendTargets(value, {
          sessionType: session.sessionType,
          targetName: session.targetName,
          visible,
        })
        // RFC 7143 appendix C: All outside a discovery session is refused with SendTargets=Reject.
        if (selected === undefined) out.push({ key, value: Answer.Reject })
        else out.push(...buildSendTargetsAnswer(selected))
        continue
      }
      if (discovery && definition !== undefined) {
        // A discovery session carries SendTargets only (RFC 7143 4.3); other known keys are refused.
        negotiator.markReceived(definition, key)
        out.push({ key, value: Answer.Reject })
        continue
      }
      const answer = negotiator.process(key, value, 'full-feature')
      if (answer !== undefined) out.push(answer)
    }
    const declared = negotiator.declared('MaxRecvDataSegmentLength')
    if (declared !== undefined) {
      this.#connection = withConnection(this.#connection, { maxSendDataSegmentLength: Number(declared) })
    }
    return out
  }

  #nextSegment(): TargetTextStep {
    const segment = this.#outgoing.shift() ?? EMPTY
    if (this.#outgoing.length > 0) {
      return this.#respond({ final: false, continue: true, targetTransferTag: this.#tag(), data: segment }, false)
    }
    // RFC 7143 11.11.1: the target ends (F=1) only when the initiator did; otherwise F=0 and a tag to continue.
    if (!this.#finalAllowed) {
      return this.#respond({ final: false, continue: false, targetTransferTag: this.#tag(), data: segment }, false)
    }
    this.#expectedTag = undefined
    return this.#respond({ final: true, continue: false, targetTransferTag: RESERVED_TAG, data: segment }, true)
  }

  #respond(response: TextResponseFields, done: boolean): TargetTextStep {
    return { kind: 'response', response, done, connection: this.#connection }
  }
}

export interface InitiatorTextOptions {
  readonly connection: ConnectionParameters
  readonly maxTextLength?: number
}

/**
 * The initiator's side of Text exchanges: `start` (or `sendTargets`) gives the first Text Request; hand each Text
 * Response to `receive` and send the request it returns until it returns `done` with every pair the target sent.
 */
export class InitiatorTextNegotiation {
  readonly #accumulator: TextAccumulator
  #connection: ConnectionParameters
  #pendingSegments: Buffer[] = []
  #collected: TextPair[] = []
  #declaredMaxRecv: number | undefined
  #active = false

  constructor(options: InitiatorTextOptions) {
    this.#connection = options.connection
    this.#accumulator = new TextAccumulator(options.maxTextLength)
  }

  get connection(): ConnectionParameters {
    return this.#connection
  }

  /** The first Text Request of a new exchange (TTT 0xffffffff, which also resets any exchange in progress). */
  start(pairs: readonly TextPair[]): TextRequestFields {
    this.#accumulator.reset()
    this.#collected = []
    this.#active = true
    const declared = pairs.find((p) => p.key === 'MaxRecvDataSegmentLength')
    this.#declaredMaxRecv = declared === undefined ? undefined : Number(declared.value)
    const limit = this.#connection.maxSendDataSegmentLength
    this.#pendingSegments = splitSegments(buildText(pairs), limit)
    return this.#nextSegment(RESERVED_TAG)
  }

  /** SendTargets=value (default All; RFC 7143 appendix C). */
  sendTargets(value = 'All'): TextRequestFields {
    return this.start([{ key: 'SendTargets', value }])
  }

  /** Declare a new MaxRecvDataSegmentLength (RFC 7143 13.12, the one key renegotiable in full feature phase). */
  declareMaxRecvDataSegmentLength(length: number): TextRequestFields {
    if (!Number.isInteger(length) || length < 512 || length > 16777215) {
      throw new RangeError('MaxRecvDataSegmentLength must be 512..16777215')
    }
    return this.start([{ key: 'MaxRecvDataSegmentLength', value: String(length) }])
  }

  #nextSegment(tag: number): TextRequestFields {
    const segment = this.#pendingSegments.shift() ?? EMPTY
    const more = this.#pendingSegments.length > 0
    return { final: !more, continue: more, targetTransferTag: tag, data: segment }
  }

  receive(response: TextResponseFields): InitiatorTextStep {
    if (!this.#active) throw sequence('Text Response outside an exchange')
    try {
      return this.#receive(response)
    } catch (error) {
      this.#active = false
      throw error
    }
  }

  #receive(response: TextResponseFields): InitiatorTextStep {
    if (response.final && response.continue) throw sequence('F and C both set in a Text Response (RFC 7143 11.11.2)')
    if (!response.final && response.targetTransferTag === RESERVED_TAG) {
      throw sequence('Text Response with F=0 and the reserved Target Transfer Tag (RFC 7143 11.11.4)')
    }
    if (this.#pendingSegments.length > 0) {
      if (response.final || response.data.length > 0) throw sequence('the target answered a C=1 request with data')
      return { kind: 'request', request: this.#nextSegment(response.targetTransferTag) }
    }
    if (response.continue) {
      this.#accumulator.push(response.data)
      return { kind: 'request', request: this.#empty(response.targetTransferTag) }
    }
    this.#collected.push(...this.#accumulator.finish(response.data))
    if (!response.final) return { kind: 'request', request: this.#empty(response.targetTransferTag) }

    this.#active = false
    const pairs = this.#collected
    this.#collected = []
    const refused = pairs.some((p) => p.key === 'MaxRecvDataSegmentLength' && p.value === Answer.Reject)
    if (this.#declaredMaxRecv !== undefined && !refused) {
      this.#connection = withConnection(this.#connection, { maxRecvDataSegmentLength: this.#declaredMaxRecv })
      this.#declaredMaxRecv = undefined
      return { kind: 'done', pairs, connection: this.#connection }
    }
    return { kind: 'done', pairs }
  }

  /** An empty request that continues the exchange with the target's tag (RFC 7143 11.10.4). */
  #empty(tag: number): TextRequestFields {
    return { final: true, continue: false, targetTransferTag: tag, data: EMPTY }
  }
}
