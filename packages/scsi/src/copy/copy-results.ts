// RECEIVE COPY RESULTS parameter data for the LID1 service actions (SPC-4 6.18): OPERATING PARAMETERS (6.18.4),
// COPY STATUS (6.18.2) and FAILED SEGMENT DETAILS (6.18.5), plus the fixed-format sense data (SPC-4 4.5.3) that
// FAILED SEGMENT DETAILS carries for a failed EXTENDED COPY.
import type { ScsiError } from '../errors.js'
import { ScsiStatus } from '../status.js'
import { SenseKey } from '../sense/sense-key.js'
import { CscdType, SegmentType, type CopyLimits } from './parameter-list.js'

export const ReceiveCopyResultsAction = {
  COPY_STATUS: 0x00,
  RECEIVE_DATA: 0x01,
  OPERATING_PARAMETERS: 0x03,
  FAILED_SEGMENT_DETAILS: 0x04,
} as const

/** COPY MANAGER STATUS (SPC-4 6.18.2, table 151). */
export const CopyManagerStatus = {
  IN_PROGRESS: 0x00,
  COMPLETED: 0x01,
  COMPLETED_WITH_ERRORS: 0x02,
} as const
export type CopyManagerStatusValue = (typeof CopyManagerStatus)[keyof typeof CopyManagerStatus]

export interface OperatingParameters extends CopyLimits {
  readonly totalConcurrentCopies: number
  readonly maxConcurrentCopies: number
  /** log2 of the smallest unit a segment moves (the smallest block size, 512). */
  readonly dataSegmentGranularityLog2: number
}

/** SPC-4 6.18.4, table 153. */
export function encodeOperatingParameters(p: OperatingParameters): Buffer {
  const codes = [SegmentType.BLOCK_TO_BLOCK, CscdType.IDENTIFICATION] // implemented descriptor type codes, ascending
  const out = Buffer.alloc(44 + codes.length)
  out.writeUInt32BE(out.length - 4, 0) // AVAILABLE DATA
  out[4] = 0x01 // SNLID: LIST ID USAGE 11b is supported
  out.writeUInt16BE(p.maxCscdDescriptors, 8)
  out.writeUInt16BE(p.maxSegmentDescriptors, 10)
  out.writeUInt32BE(p.maxDescriptorListLength, 12)
  out.writeUInt32BE(p.maxSegmentBytes, 16)
  out.writeUInt32BE(p.maxInlineDataLength, 20)
  out.writeUInt32BE(0, 24) // HELD DATA LIMIT: no held data (RECEIVE DATA is not supported)
  out.writeUInt32BE(0, 28) // MAXIMUM STREAM DEVICE TRANSFER SIZE: no stream devices
  out.writeUInt16BE(p.totalConcurrentCopies, 34)
  out[36] = p.maxConcurrentCopies
  out[37] = p.dataSegmentGranularityLog2
  out[38] = 0 // INLINE DATA GRANULARITY
  out[39] = 0 // HELD DATA GRANULARITY
  out[43] = codes.length // IMPLEMENTED DESCRIPTOR LIST LENGTH
  codes.forEach((code, i) => (out[44 + i] = code))
  return out
}

/** SPC-4 6.18.2, table 150: TRANSFER COUNT in the smallest unit (bytes, KiB, MiB, ...) that fits 32 bits. */
export function encodeCopyStatus(status: CopyManagerStatusValue, segmentsProcessed: number, bytes: number): Buffer {
  const out = Buffer.alloc(12)
  out.writeUInt32BE(8, 0) // AVAILABLE DATA
  out[4] = status // HDD 0: no held data was discarded
  out.writeUInt16BE(Math.min(segmentsProcessed, 0xffff), 5)
  let units = 0
  let count = bytes
  while (count > 0xffffffff && units < 6) {
    count = Math.floor(count / 1024)
    units++
  }
  out[7] = units // TRANSFER COUNT UNITS: 00h bytes, 01h KiB, 02h MiB, ...
  out.writeUInt32BE(Math.min(count, 0xffffffff), 8)
  return out
}

/** SPC-4 6.18.5, table 155; no details held gives just AVAILABLE DATA = 0. */
export function encodeFailedSegmentDetails(details: { readonly status: number; readonly sense: Buffer } | undefined): Buffer {
  if (details === undefined) return Buffer.alloc(4)
  const out = Buffer.alloc(60 + details.sense.length)
  out.writeUInt32BE(out.length - 4, 0) // AVAILABLE DATA
  out[56] = details.status // COPY COMMAND STATUS
  out.writeUInt16BE(details.sense.length, 58) // SENSE DATA LENGTH
  details.sense.copy(out, 60)
  return out
}

/**
 * Fixed-format sense data (SPC-4 4.5.3, table 52) for an EXTENDED COPY failure. For COPY ABORTED the
 * COMMAND-SPECIFIC INFORMATION field carries the segment number in its bytes 2-3 (SPC-4 6.4.4). A status other than
 * CHECK CONDITION has no sense data.
 */
export function copySense(error: ScsiError, segment: number | undefined): Buffer {
  if (error.status !== ScsiStatus.CHECK_CONDITION) return Buffer.alloc(0)
  const out = Buffer.alloc(18)
  out[0] = 0x70 // current error, fixed format
  out[2] = error.senseKey & 0x0f
  if (error.information !== undefined) {
    out[0] |= 0x80 // VALID
    out.writeUInt32BE(Number(BigInt.asUintN(32, error.information)), 3)
  }
  out[7] = 10 // ADDITIONAL SENSE LENGTH
  if (segment !== undefined && error.senseKey === SenseKey.COPY_ABORTED) out.writeUInt16BE(segment & 0xffff, 10)
  out[12] = error.asc
  out[13] = error.ascq
  const pointer = error.fieldPointer
  if (pointer !== undefined && error.senseKey === SenseKey.ILLEGAL_REQUEST) {
    // Field pointer sense-key specific data (SPC-4 4.5.2.4.2): SKSV, C/D, BPV, BIT POINTER, FIELD POINTER.
    out[15] = 0x80 | (pointer.inCdb ? 0x40 : 0) | (pointer.bit === undefined ? 0 : 0x08 | (pointer.bit & 0x07))
    out.writeUInt16BE(pointer.byte & 0xffff, 16)
  }
  return out
}
