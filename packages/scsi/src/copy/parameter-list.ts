// The EXTENDED COPY (LID1) parameter list (SPC-4 6.4.3, table 106): a 16-byte header, the CSCD (target) descriptor
// list, the segment descriptor list and inline data. This module decodes it and applies every check that needs no
// copy target: lengths, limits, descriptor type codes, descriptor indexes. Only identification CSCD descriptors
// (E4h, SPC-4 6.4.5.3) and block device to block device segment descriptors (02h, SPC-4 6.4.6.5) are supported.
import { CheckCondition } from '../errors.js'

/** What the copy manager accepts; RECEIVE COPY RESULTS OPERATING PARAMETERS reports the same numbers. */
export interface CopyLimits {
  readonly maxCscdDescriptors: number
  readonly maxSegmentDescriptors: number
  /** Largest CSCD DESCRIPTOR LIST LENGTH + SEGMENT DESCRIPTOR LIST LENGTH. */
  readonly maxDescriptorListLength: number
  /** Largest number of bytes one segment descriptor may move. */
  readonly maxSegmentBytes: number
  /** Inline data is only used by segment types this copy manager does not support. */
  readonly maxInlineDataLength: number
}

/** LIST ID USAGE (SPC-4 6.4.3, table 107); its bit 4 was the SPC-3 NRCR bit. STR and PRIORITY are not used. */
export const ListIdUsage = {
  /** Results are held; the list identifier is unique among the copies of the I_T nexus. */
  HOLD: 0b00,
  /** Copy data need not be held; the list identifier is still unique. */
  NO_DATA: 0b10,
  /** No list identifier (SNLID): nothing is held and LIST IDENTIFIER is zero. */
  NONE: 0b11,
} as const
export type ListIdUsageValue = (typeof ListIdUsage)[keyof typeof ListIdUsage]

export const CscdType = { IDENTIFICATION: 0xe4 } as const
export const SegmentType = { BLOCK_TO_BLOCK: 0x02 } as const

export interface IdentificationCscd {
  /** Index in the CSCD descriptor list (what segment descriptors refer to). */
  readonly index: number
  /** Byte offset of the descriptor in the parameter list. */
  readonly offset: number
  /** PERIPHERAL DEVICE TYPE (byte 1, bits 4-0); 00h is a direct-access block device. */
  readonly peripheralType: number
  /** CODE SET, ASSOCIATION and DESIGNATOR TYPE of the designation descriptor (SPC-4 7.8.6.1, table 589). */
  readonly codeSet: number
  readonly association: number
  readonly designatorType: number
  /** The designator itself (as in VPD page 83h). */
  readonly designator: Buffer
  /** DISK BLOCK LENGTH of the block device type specific parameters (SPC-4 6.4.5.4, table 123). */
  readonly blockLength: number
}

export interface BlockSegment {
  /** Segment number: index in the segment descriptor list. */
  readonly index: number
  readonly offset: number
  readonly sourceIndex: number
  readonly destinationIndex: number
  /** DC: NUMBER OF BLOCKS counts destination blocks (else source blocks). */
  readonly destinationCount: boolean
  readonly cat: boolean
  readonly blocks: number
  readonly sourceLba: bigint
  readonly destinationLba: bigint
}

export interface CopyParameterList {
  readonly listId: number
  readonly listIdUsage: ListIdUsageValue
  readonly cscds: readonly IdentificationCscd[]
  readonly segments: readonly BlockSegment[]
}

export const HEADER_LENGTH = 16
const CSCD_LENGTH = 32
const LONG_CSCD_LENGTH = 64
/** IPv6 (EAh) and IP copy service (EBh) CSCD descriptors are 64 bytes; every other type code is 32. */
const LONG_CSCD_TYPES = new Set([0xea, 0xeb])
/** Block to block segment descriptor: DESCRIPTOR LENGTH 0018h, 28 bytes in all (SPC-4 6.4.6.5, table 132). */
export const BLOCK_SEGMENT_LENGTH = 28

const lengthError = (message: string) => new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message })
const invalidField = (byte: number, message: string, bit?: number) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: bit === undefined ? { inCdb: false, byte } : { inCdb: false, byte, bit }, message })

/** The LIST IDENTIFIER and LIST ID USAGE of a header, once the header is known to be complete and valid. */
export interface CopyHeader {
  readonly listId: number
  readonly listIdUsage: ListIdUsageValue
}

/** Header checks (SPC-4 6.4.3): lengths against the limits and the parameter list, LIST ID USAGE. */
export function decodeCopyHeader(list: Buffer, limits: CopyLimits): CopyHeader & { readonly cscdLength: number; readonly segmentLength: number } {
  if (list.length < HEADER_LENGTH) throw lengthError(`parameter list of ${list.length} bytes truncates the 16-byte header`)
  const listId = list[0] ?? 0
  const usage = ((list[1] ?? 0) >> 3) & 0b11
  const cscdLength = list.readUInt16BE(2)
  const segmentLength = list.readUInt32BE(8)
  const inlineLength = list.readUInt32BE(12)
  if (cscdLength + segmentLength > limits.maxDescriptorListLength) {
    throw lengthError(`descriptor lists of ${cscdLength + segmentLength} bytes exceed MAXIMUM DESCRIPTOR LIST LENGTH ${limits.maxDescriptorListLength}`)
  }
  if (inlineLength > limits.maxInlineDataLength) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INLINE_DATA_LENGTH_EXCEEDED', {
      fieldPointer: { inCdb: false, byte: 12 },
      message: `INLINE DATA LENGTH ${inlineLength} exceeds ${limits.maxInlineDataLength}`,
    })
  }
  if (HEADER_LENGTH + cscdLength + segmentLength + inlineLength > list.length) {
    throw lengthError(`descriptor lists of ${cscdLength + segmentLength} bytes run past the ${list.length}-byte parameter list`)
  }
  if (usage === 0b01) throw invalidField(1, 'LIST ID USAGE 01b is reserved', 4)
  const listIdUsage = usage as ListIdUsageValue
  if (listIdUsage === ListIdUsage.NONE && listId !== 0) throw invalidField(0, 'LIST IDENTIFIER must be zero when LIST ID USAGE is 11b')
  return { listId, listIdUsage, cscdLength, segmentLength }
}

/**
 * Decode and check a whole parameter list. `list` holds exactly PARAMETER LIST LENGTH bytes (at least 16). Errors are
 * ILLEGAL REQUEST (lengths, limits, type codes, fields) or, for a segment naming a CSCD descriptor the list does
 * not have, COPY ABORTED with UNREACHABLE COPY TARGET.
 */
export function decodeCopyParameterList(list: Buffer, limits: CopyLimits): CopyParameterList {
  const header = decodeCopyHeader(list, limits)
  const cscdStart = HEADER_LENGTH
  const cscdEnd = cscdStart + header.cscdLength
  const segmentEnd = cscdEnd + header.segmentLength

  // CSCD descriptors: count first (TOO MANY TARGET DESCRIPTORS), then the type codes.
  const cscdOffsets: number[] = []
  for (let at = cscdStart; at < cscdEnd; ) {
    if (cscdOffsets.length === limits.maxCscdDescriptors) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'TOO_MANY_TARGET_DESCRIPTORS', {
        fieldPointer: { inCdb: false, byte: 2 },
        message: `more than ${limits.maxCscdDescriptors} CSCD descriptors`,
      })
    }
    const length = LONG_CSCD_TYPES.has(list[at] ?? 0) ? LONG_CSCD_LENGTH : CSCD_LENGTH
    if (at + length > cscdEnd) throw invalidField(2, `CSCD DESCRIPTOR LIST LENGTH ${header.cscdLength} ends inside a descriptor`)
    cscdOffsets.push(at)
    at += length
  }
  const cscds = cscdOffsets.map((offset, index) => decodeCscd(list, offset, index))

  // Segment descriptors: walk by DESCRIPTOR LENGTH, count (TOO MANY SEGMENT DESCRIPTORS), then decode.
  const segmentOffsets: number[] = []
  for (let at = cscdEnd; at < segmentEnd; ) {
    if (segmentOffsets.length === limits.maxSegmentDescriptors) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'TOO_MANY_SEGMENT_DESCRIPTORS', {
        fieldPointer: { inCdb: false, byte: 8 },
        message: `more than ${limits.maxSegmentDescriptors} segment descriptors`,
      })
    }
    if (at + 4 > segmentEnd) throw invalidField(8, `SEGMENT DESCRIPTOR LIST LENGTH ${header.segmentLength} ends inside a descriptor header`)
    const length = 4 + list.readUInt16BE(at + 2)
    if (at + length > segmentEnd) throw invalidField(at + 2, `segment descriptor of ${length} bytes runs past the segment descriptor list`)
    segmentOffsets.push(at)
    at += length
  }
  const segments = segmentOffsets.map((offset, index) => decodeSegment(list, offset, index, cscds.length))
  return { listId: header.listId, listIdUsage: header.listIdUsage, cscds, segments }
}

/** Identification CSCD descriptor (SPC-4 6.4.5.3, table 119). LU ID TYPE and NUL are obsolete in SPC-4 and ignored. */
function decodeCscd(list: Buffer, offset: number, index: number): IdentificationCscd {
  const type = list[offset] ?? 0
  if (type !== CscdType.IDENTIFICATION) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', {
      fieldPointer: { inCdb: false, byte: offset },
      message: `CSCD descriptor type code ${type.toString(16).padStart(2, '0')}h is not supported`,
    })
  }
  const designatorLength = list[offset + 7] ?? 0
  // The designation descriptor has 20 bytes (4-23): a 4-byte header and at most 16 bytes of designator.
  if (designatorLength > 16) throw invalidField(offset + 7, `DESIGNATOR LENGTH ${designatorLength} exceeds the 16 bytes of an identification CSCD descriptor`)
  return {
    index,
    offset,
    peripheralType: (list[offset + 1] ?? 0) & 0x1f,
    codeSet: (list[offset + 4] ?? 0) & 0x0f,
    association: ((list[offset + 5] ?? 0) >> 4) & 0x03,
    designatorType: (list[offset + 5] ?? 0) & 0x0f,
    designator: Buffer.from(list.subarray(offset + 8, offset + 8 + designatorLength)),
    blockLength: list.readUIntBE(offset + 29, 3),
  }
}

/** Block device to block device segment descriptor (SPC-4 6.4.6.5, table 132). */
function decodeSegment(list: Buffer, offset: number, index: number, cscdCount: number): BlockSegment {
  const type = list[offset] ?? 0
  if (type !== SegmentType.BLOCK_TO_BLOCK) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE', {
      fieldPointer: { inCdb: false, byte: offset },
      message: `segment descriptor type code ${type.toString(16).padStart(2, '0')}h is not supported`,
    })
  }
  const descriptorLength = list.readUInt16BE(offset + 2)
  if (descriptorLength !== BLOCK_SEGMENT_LENGTH - 4) {
    throw invalidField(offset + 2, `DESCRIPTOR LENGTH ${descriptorLength} is not 0018h for a block to block segment descriptor`)
  }
  const flags = list[offset + 1] ?? 0
  const sourceIndex = list.readUInt16BE(offset + 4)
  const destinationIndex = list.readUInt16BE(offset + 6)
  for (const [which, value, at] of [
    ['SOURCE', sourceIndex, offset + 4],
    ['DESTINATION', destinationIndex, offset + 6],
  ] as const) {
    if (value >= cscdCount) {
      // The segment names a copy target the list does not describe: the copy manager cannot reach it.
      throw new CheckCondition('COPY_ABORTED', 'UNREACHABLE_COPY_TARGET', {
        message: `segment ${index}: ${which} CSCD DESCRIPTOR ID ${value} is not in the ${cscdCount}-entry CSCD descriptor list (byte ${at})`,
      })
    }
  }
  return {
    index,
    offset,
    sourceIndex,
    destinationIndex,
    destinationCount: (flags & 0x02) !== 0,
    cat: (flags & 0x01) !== 0,
    blocks: list.readUInt16BE(offset + 10),
    sourceLba: list.readBigUInt64BE(offset + 12),
    destinationLba: list.readBigUInt64BE(offset + 20),
  }
}
