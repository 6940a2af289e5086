// Residual counts of a SCSI Response or final Data-In (RFC 7143 11.4.5): what the initiator expected against what the
// command would transfer. Underflow: the command needs fewer bytes than Expected Data Transfer Length; overflow: it
// needs more (and the transfer was cut). The count is the difference; both flags clear when they match.

export interface Residual {
  readonly overflow: boolean
  readonly underflow: boolean
  readonly count: number
}

export const NO_RESIDUAL: Residual = { overflow: false, underflow: false, count: 0 }

/** `expected`: the initiator's expected length; `wanted`: what the command transfers (or would have). */
export function residualOf(expected: number, wanted: number): Residual {
  if (wanted < expected) return { overflow: false, underflow: true, count: Math.min(0xffffffff, expected - wanted) }
  if (wanted > expected) return { overflow: true, underflow: false, count: Math.min(0xffffffff, wanted - expected) }
  return NO_RESIDUAL
}

export interface CommandResiduals {
  /** Residual for the write (W only, or bidirectional) or the read (R only) direction. */
  readonly main: Residual
  /** Bidirectional commands: the read residual (o/u bits, Bidirectional Read Residual Count). */
  readonly bidiRead: Residual
}

/**
 * The residuals of one command (RFC 7143 11.4.5, 11.4.5.1): for a bidirectional command the main fields describe
 * the write direction and the bidi fields the read direction.
 */
export function commandResiduals(options: {
  readonly read: boolean
  readonly write: boolean
  readonly expectedDataTransferLength: number
  readonly expectedBidirectionalReadLength: number
  readonly dataInLength: number
  readonly dataOutLength: number
}): CommandResiduals {
  const { read, write, expectedDataTransferLength: edtl } = options
  if (read && write) {
    return {
      main: residualOf(edtl, options.dataOutLength),
      bidiRead: residualOf(options.expectedBidirectionalReadLength, options.dataInLength),
    }
  }
  // Neither R nor W: the initiator expects no data; anything the command wanted is an overflow.
  const main = residualOf(edtl, write ? options.dataOutLength : read ? options.dataInLength : Math.max(options.dataInLength, options.dataOutLength))
  // The usual case, an exact transfer, shares one answer.
  return main === NO_RESIDUAL ? NO_RESIDUALS : { main, bidiRead: NO_RESIDUAL }
}

const NO_RESIDUALS: CommandResiduals = { main: NO_RESIDUAL, bidiRead: NO_RESIDUAL }
