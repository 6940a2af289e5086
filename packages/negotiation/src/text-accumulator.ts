// Joins the data segments of a C=1 sequence (RFC 7143 11.10.2, 11.12.2): a key=value pair may be split across PDUs,
// so the text is parsed only once the last segment (C=0) has arrived. The total is bounded.
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { parseText } from './text.js'
import type { ParseTextOptions } from './text.js'
import type { TextPair } from './types.js'

/** Default bound on a multi-PDU text. */
export const DEFAULT_MAX_TEXT_LENGTH = 65536

export class TextAccumulator {
  readonly maxLength: number
  #chunks: Buffer[] = []
  #length = 0

  constructor(maxLength: number = DEFAULT_MAX_TEXT_LENGTH) {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError('maxLength must be a positive integer')
    this.maxLength = maxLength
  }

  /** Bytes held so far. */
  get length(): number {
    return this.#length
  }

  /** True while a C=1 sequence is open (some data held). */
  get pending(): boolean {
    return this.#length > 0
  }

  /** Add one segment; throws TextTooLong before holding more than `maxLength` bytes. */
  push(segment: Uint8Array): void {
    if (this.#length + segment.length > this.maxLength) {
      this.reset()
      throw new NegotiationError(
        NegotiationErrorCode.TextTooLong,
        `text spanning PDUs longer than ${this.maxLength} bytes`,
      )
    }
    if (segment.length === 0) return
    // Copy: the caller's buffer may be reused by its framer.
    this.#chunks.push(Buffer.from(segment))
    this.#length += segment.length
  }

  /** The joined bytes, without resetting. */
  bytes(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length)
  }

  /** Add the last segment (optional), parse everything and reset. */
  finish(last?: Uint8Array, options?: ParseTextOptions): TextPair[] {
    if (last !== undefined) this.push(last)
    const data = this.bytes()
    this.reset()
    return parseText(data, options)
  }

  reset(): void {
    this.#chunks = []
    this.#length = 0
  }
}
