// Planning the write side of a SCSI command (RFC 7143 4.2.5.2 and 13.10-13.14): which bytes ride in the command PDU
// as immediate data, which follow as unsolicited Data-Out, and how one R2T is answered. Only offsets and lengths are
// computed; the caller sends views (`subarray`) of its own buffer, never copies.

export interface DataOutLimits {
  /** ImmediateData=Yes: data may ride in the SCSI Command PDU (RFC 7143 13.11). */
  readonly immediateData: boolean
  /** InitialR2T=Yes: no unsolicited Data-Out PDUs (RFC 7143 13.10). */
  readonly initialR2T: boolean
  /** Unsolicited data (immediate + unsolicited Data-Out) per command, at most (RFC 7143 13.14). */
  readonly firstBurstLength: number
  /** Solicited data per R2T, at most (RFC 7143 13.13). */
  readonly maxBurstLength: number
  /** The target's MaxRecvDataSegmentLength: the largest data segment we may send it (RFC 7143 13.12). */
  readonly maxSendDataSegmentLength: number
}

/** One Data-Out PDU to send: `length` bytes at `offset` of the command's data. */
export interface DataOutSegment {
  readonly offset: number
  readonly length: number
  /** F bit: the last PDU of its sequence (unsolicited burst or one R2T). */
  readonly final: boolean
}

export interface UnsolicitedPlan {
  /** Bytes [0, immediateLength) ride in the SCSI Command PDU. */
  readonly immediateLength: number
  /** Unsolicited Data-Out PDUs (TTT 0xffffffff) that follow the command, DataSN 0, 1, ... */
  readonly dataOut: readonly DataOutSegment[]
  /** The command's F bit: true when no unsolicited Data-Out follows (RFC 7143 11.3.1.1). */
  readonly final: boolean
  /** Bytes sent without solicitation; the target asks for [unsolicitedLength, length) with R2Ts. */
  readonly unsolicitedLength: number
}

/** Splits `[offset, offset + length)` into PDUs of at most `segment` bytes, the last one final. */
export function splitSequence(offset: number, length: number, segment: number): DataOutSegment[] {
  if (segment <= 0) throw new RangeError('the data segment limit must be positive')
  const out: DataOutSegment[] = []
  let at = offset
  const end = offset + length
  while (at < end) {
    const n = Math.min(segment, end - at)
    out.push({ offset: at, length: n, final: at + n === end })
    at += n
  }
  return out
}

/**
 * What a command carrying `length` bytes of data-out sends on its own (RFC 7143 4.2.5.2, 13.10, 13.11, 13.14):
 * immediate data up to min(FirstBurstLength, the target's MaxRecvDataSegmentLength) when ImmediateData=Yes, then,
 * when InitialR2T=No, unsolicited Data-Out PDUs until FirstBurstLength is reached.
 */
export function planUnsolicited(length: number, limits: DataOutLimits): UnsolicitedPlan {
  if (length <= 0) return { immediateLength: 0, dataOut: [], final: true, unsolicitedLength: 0 }
  const budget = Math.min(length, limits.firstBurstLength)
  const immediateLength = limits.immediateData ? Math.min(budget, limits.maxSendDataSegmentLength) : 0
  if (limits.initialR2T || immediateLength === budget) {
    return { immediateLength, dataOut: [], final: true, unsolicitedLength: immediateLength }
  }
  const dataOut = splitSequence(immediateLength, budget - immediateLength, limits.maxSendDataSegmentLength)
  return { immediateLength, dataOut, final: false, unsolicitedLength: budget }
}

/**
 * The Data-Out PDUs answering one R2T: `desiredLength` bytes from `bufferOffset`, in PDUs no larger than the
 * target's MaxRecvDataSegmentLength, the last with F=1 (RFC 7143 11.8.4, 11.7.1). Returns a string saying what is
 * wrong when the R2T asks for bytes the command does not have or more than MaxBurstLength.
 */
export function planR2T(
  r2t: { readonly bufferOffset: number; readonly desiredDataTransferLength: number },
  totalLength: number,
  limits: Pick<DataOutLimits, 'maxBurstLength' | 'maxSendDataSegmentLength'>,
): DataOutSegment[] | string {
  const { bufferOffset, desiredDataTransferLength } = r2t
  if (desiredDataTransferLength === 0) return 'R2T with a desired data transfer length of 0'
  if (desiredDataTransferLength > limits.maxBurstLength) {
    return `R2T asks for ${desiredDataTransferLength} bytes, more than MaxBurstLength ${limits.maxBurstLength}`
  }
  if (bufferOffset + desiredDataTransferLength > totalLength) {
    return `R2T asks for bytes ${bufferOffset}..${bufferOffset + desiredDataTransferLength} of a ${totalLength}-byte transfer`
  }
  return splitSequence(bufferOffset, desiredDataTransferLength, limits.maxSendDataSegmentLength)
}
