// The shape of one opcode's codec. `codec.ts` keeps a table of these indexed by opcode; the generic code there
// handles lengths, AHS, digests and padding, so a codec only maps its BHS fields (RFC 7143 chapter 11).
import type { Ahs, Pdu } from './types.js'

/**
 * Reserved and fixed bits of a BHS, for strict decoding: byte i is valid when `(byte & mask[i]) === value[i]`.
 * Reserved bits have value 0 (RFC 7143 11.1: senders MUST set them to 0); fixed bits (the F bit of single-PDU kinds,
 * the I bit of Login Request, ITT 0xffffffff of Reject and Async Message) have value 1.
 */
export interface BhsTemplate {
  readonly mask: Uint8Array
  readonly value: Uint8Array
}

export interface TemplateSpec {
  /** Fully reserved byte ranges, [from, to) in BHS offsets. */
  readonly reserved?: readonly (readonly [number, number])[]
  /** Single bytes: [offset, mask, value]. */
  readonly bits?: readonly (readonly [number, number, number])[]
}

export function bhsTemplate(spec: TemplateSpec): BhsTemplate {
  const mask = new Uint8Array(48)
  const value = new Uint8Array(48)
  for (const [from, to] of spec.reserved ?? []) mask.fill(0xff, from, to)
  for (const [offset, m, v] of spec.bits ?? []) {
    mask[offset] = m
    value[offset] = v
  }
  return { mask, value }
}

export interface PduCodec<P extends Pdu = Pdu> {
  readonly opcode: P['opcode']
  readonly template: BhsTemplate
  /**
   * Writes BHS bytes 0-3 and 8-47 at `offset`; the caller zeroed the 48 bytes and writes bytes 4-7 (TotalAHSLength,
   * DataSegmentLength). Throws PduEncodeError for a field that doesn't fit.
   */
  write(pdu: P, buf: Buffer, offset: number): void
  /** Reads the BHS at `offset` (48 bytes are there); `data` becomes the PDU's data segment. */
  read(buf: Buffer, offset: number, data: Buffer): P
  /** AHS generated from modelled fields, written before `pdu.ahs` (SCSI Command: extended CDB, bidi length). */
  knownAhs?(pdu: P): Ahs[] | undefined
  /**
   * Takes the AHS this codec models out of `list` into `pdu`, returning the rest. Throws InvalidFieldError for a
   * malformed one; `header` is the BHS to carry in the Reject.
   */
  absorbAhs?(pdu: P, list: Ahs[], header: () => Buffer): Ahs[]
}

/** Identity helper that checks a codec literal against its PDU type. */
export function defineCodec<P extends Pdu>(codec: PduCodec<P>): PduCodec<P> {
  return codec
}
