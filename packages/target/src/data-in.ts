// How a command's data-in is cut into Data-In PDUs (RFC 7143 11.7): every PDU carries at most the initiator's
// MaxRecvDataSegmentLength, a sequence (burst) carries at most MaxBurstLength, the F bit marks the last PDU of each
// sequence, DataSN counts PDUs from 0 for the task and BufferOffset counts bytes.

export interface DataInSegment {
  readonly offset: number
  readonly length: number
  readonly dataSN: number
  /** F: last PDU of a sequence (burst). */
  readonly final: boolean
  /** Last PDU of the whole transfer: the one that may carry status (S bit). */
  readonly last: boolean
}

/**
 * The segments of a `total`-byte transfer, in order. `total` 0 yields nothing (status goes in a SCSI Response).
 * `firstDataSN` is 0 except for bidirectional commands, whose Data-In DataSN continues after the R2TSNs
 * (RFC 7143 11.7.5: R2T and Data-In PDUs of a task share one sequence).
 */
export function* dataInSegments(total: number, maxSegmentLength: number, maxBurstLength: number, firstDataSN = 0): Generator<DataInSegment> {
  if (!Number.isInteger(total) || total < 0) throw new RangeError('total must be a non-negative integer')
  if (!Number.isInteger(maxSegmentLength) || maxSegmentLength < 1) throw new RangeError('maxSegmentLength must be positive')
  if (!Number.isInteger(maxBurstLength) || maxBurstLength < 1) throw new RangeError('maxBurstLength must be positive')
  let offset = 0
  let dataSN = firstDataSN >>> 0
  while (offset < total) {
    const burstEnd = Math.min(total, offset + maxBurstLength)
    while (offset < burstEnd) {
      const length = Math.min(maxSegmentLength, burstEnd - offset)
      const end = offset + length
      yield { offset, length, dataSN, final: end === burstEnd, last: end === total }
      offset = end
      dataSN = (dataSN + 1) >>> 0
    }
  }
}
