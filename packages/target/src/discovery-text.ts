// What a discovery session may ask in a Text Request (RFC 7143 4.3): "The target MUST ONLY accept Text Requests with
// the SendTargets key ... All other requests MUST be rejected." The key list is known only once the text is whole
// (C=1 parts may split a key=value pair, RFC 7143 11.10.2), so the parts of one exchange are joined here and the
// verdict falls on the part that ends the text.
import { TextAccumulator } from '@iscsi-ts/negotiation'
import { RESERVED_TAG } from '@iscsi-ts/pdu'

/** The fields of a Text Request the guard looks at. */
export interface TextPart {
  /** 0xffffffff starts a new exchange (RFC 7143 11.10.4). */
  readonly ttt: number
  readonly continue: boolean
  readonly data: Uint8Array
}

export class DiscoveryTextGuard {
  readonly #text = new TextAccumulator()

  /**
   * Take one Text Request of a discovery session. False means the request must be answered with a Reject (Protocol
   * Error): its text, once complete, holds a key other than SendTargets, or is not valid text at all.
   */
  accept(part: TextPart): boolean {
    if (part.ttt === RESERVED_TAG) this.#text.reset()
    try {
      this.#text.push(part.data)
      if (part.continue) return true
      return this.#text.finish().every((pair) => pair.key === 'SendTargets')
    } catch {
      this.#text.reset()
      return false
    }
  }
}
