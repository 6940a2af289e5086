// The copy manager: EXTENDED COPY (LID1, SPC-4 6.4) between block logical units found by their VPD 83h NAA
// designator, and RECEIVE COPY RESULTS (SPC-4 6.18) with the LID1 service actions.
//
// A copy runs in two phases. First the whole parameter list is decoded and every segment is checked against its copy
// targets (reachable, block sizes, LBA ranges, write protection), so a bad list moves no data at all. Then the
// segments are copied in order, in chunks of at most `chunkBytes` (one buffer per copy, reused), checking the abort
// signal before every chunk. Results are held per I_T nexus and list identifier for RECEIVE COPY RESULTS.
import { CheckCondition, ScsiError, StatusError } from '../errors.js'
import { ScsiStatus } from '../status.js'
import type { Backstore } from '../backstore/backstore.js'
import type { Nexus } from '../device/nexus.js'
import {
  CopyManagerStatus,
  type CopyManagerStatusValue,
  type OperatingParameters,
  ReceiveCopyResultsAction,
  copySense,
  encodeCopyStatus,
  encodeFailedSegmentDetails,
  encodeOperatingParameters,
} from './copy-results.js'
import { type BlockSegment, type IdentificationCscd, ListIdUsage, decodeCopyHeader, decodeCopyParameterList } from './parameter-list.js'

/** A logical unit the copy manager can reach: its backstore and whether it is write protected. */
export interface CopyUnit {
  readonly backstore: Backstore
  readonly readOnly: boolean
}

export interface CopyManagerOptions {
  /** Find the logical unit with this NAA designator (the designator bytes of VPD page 83h, 8 or 16 bytes). */
  readonly resolve: (designator: Buffer) => CopyUnit | undefined
  /** MAXIMUM SEGMENT LENGTH: most bytes one segment descriptor may move. Default 256 MiB. */
  readonly maxSegmentBytes?: number
  /** Bytes moved per backstore read/write, and the size of the one buffer a copy allocates. Default 1 MiB. */
  readonly chunkBytes?: number
}

/** The limits reported by OPERATING PARAMETERS (SPC-4 6.18.4) and enforced on every EXTENDED COPY. */
export const COPY_DEFAULTS: OperatingParameters = {
  maxCscdDescriptors: 16,
  maxSegmentDescriptors: 64,
  maxDescriptorListLength: 16 * 32 + 64 * 28,
  maxSegmentBytes: 256 * 1024 * 1024,
  maxInlineDataLength: 0,
  totalConcurrentCopies: 16,
  maxConcurrentCopies: 16,
  dataSegmentGranularityLog2: 9,
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024
/** Held results kept at once (oldest finished ones go first). */
const MAX_HELD_RESULTS = 256
/** NAA designator type, binary code set, logical unit association (SPC-4 7.8.6.1, tables 589-592). */
const DESIGNATOR_TYPE_NAA = 0x3
const CODE_SET_BINARY = 0x1
const ASSOCIATION_LOGICAL_UNIT = 0x0

interface HeldResult {
  status: CopyManagerStatusValue
  segmentsProcessed: number
  bytes: number
  failure: { readonly status: number; readonly sense: Buffer } | undefined
}

/** One checked segment, ready to copy. */
interface Step {
  readonly segment: BlockSegment
  readonly source: CopyUnit
  readonly destination: CopyUnit
  readonly sourceLba: number
  readonly destinationLba: number
  readonly bytes: number
}

const invalidCdb = (byte: number, message: string, bit?: number) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { fieldPointer: bit === undefined ? { inCdb: true, byte } : { inCdb: true, byte, bit }, message })

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

export class CopyManager {
  readonly #resolve: (designator: Buffer) => CopyUnit | undefined
  readonly #parameters: OperatingParameters
  readonly #chunkBytes: number
  readonly #held = new Map<string, HeldResult>()
  #active = 0

  constructor(options: CopyManagerOptions) {
    const maxSegmentBytes = options.maxSegmentBytes ?? COPY_DEFAULTS.maxSegmentBytes
    if (!Number.isInteger(maxSegmentBytes) || maxSegmentBytes < 1 || maxSegmentBytes > 0xffffffff) {
      throw new RangeError(`maxSegmentBytes ${maxSegmentBytes} is not an integer in 1..2^32-1`)
    }
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes ${chunkBytes} is not a positive integer`)
    this.#resolve = options.resolve
    this.#parameters = { ...COPY_DEFAULTS, maxSegmentBytes }
    this.#chunkBytes = chunkBytes
  }

  /** The limits this copy manager reports and enforces. */
  get operatingParameters(): OperatingParameters {
    return this.#parameters
  }

  /** EXTENDED COPY (LID1). Resolves when every segment is copied; rejects with a ScsiError only. */
  async extendedCopy(nexus: Nexus, cdb: Buffer, parameters: Buffer, signal?: AbortSignal): Promise<void> {
    const action = (cdb[1] ?? 0) & 0x1f
    if (action !== 0x00) throw invalidCdb(1, `EXTENDED COPY service action ${action} is not supported (LID1 only)`, 4)
    const length = cdb.length >= 14 ? cdb.readUInt32BE(10) : 0
    // SPC-4 6.4.1: a PARAMETER LIST LENGTH of zero is not an error; nothing is copied.
    if (length === 0) return
    if (parameters.length < length) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: `${parameters.length} bytes of parameter data for a PARAMETER LIST LENGTH of ${length}` })
    }
    const list = parameters.subarray(0, length)
    const header = decodeCopyHeader(list, this.#parameters)
    const key = heldKey(nexus.id, header.listId)
    const hold = header.listIdUsage !== ListIdUsage.NONE
    // SPC-4 6.4.3: a list identifier already in use by a copy of this I_T nexus.
    if (hold && this.#held.get(key)?.status === CopyManagerStatus.IN_PROGRESS) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'OPERATION_IN_PROGRESS', { fieldPointer: { inCdb: false, byte: 0 }, message: `list identifier ${header.listId} is in use` })
    }
    if (this.#active >= this.#parameters.maxConcurrentCopies) throw new StatusError(ScsiStatus.BUSY, 'too many concurrent EXTENDED COPY commands')

    const result: HeldResult = { status: CopyManagerStatus.IN_PROGRESS, segmentsProcessed: 0, bytes: 0, failure: undefined }
    if (hold) this.#hold(key, result)
    this.#active++
    let segment: number | undefined
    try {
      const onSegment = (index: number) => (segment = index)
      const steps = this.#plan(decodeCopyParameterList(list, this.#parameters), onSegment)
      await this.#copy(steps, result, signal, onSegment)
      result.status = CopyManagerStatus.COMPLETED
    } catch (thrown) {
      const error =
        thrown instanceof ScsiError ? thrown : new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { message: 'EXTENDED COPY failed', cause: thrown })
      result.status = CopyManagerStatus.COMPLETED_WITH_ERRORS
      result.failure = { status: error.status, sense: copySense(error, segment) }
      throw error
    } finally {
      this.#active--
    }
  }

  /** RECEIVE COPY RESULTS: COPY STATUS (00h), OPERATING PARAMETERS (03h), FAILED SEGMENT DETAILS (04h). */
  receiveCopyResults(nexus: Nexus, cdb: Buffer): Buffer {
    const action = (cdb[1] ?? 0) & 0x1f
    const listId = cdb[2] ?? 0
    const allocation = cdb.length >= 14 ? cdb.readUInt32BE(10) : 0
    switch (action) {
      case ReceiveCopyResultsAction.OPERATING_PARAMETERS:
        return encodeOperatingParameters(this.#parameters)
      case ReceiveCopyResultsAction.COPY_STATUS: {
        const held = this.#held.get(heldKey(nexus.id, listId))
        if (held === undefined) throw invalidCdb(2, `no copy results held for list identifier ${listId}`)
        return encodeCopyStatus(held.status, held.segmentsProcessed, held.bytes)
      }
      case ReceiveCopyResultsAction.FAILED_SEGMENT_DETAILS: {
        const held = this.#held.get(heldKey(nexus.id, listId))
        const data = encodeFailedSegmentDetails(held?.failure)
        // SPC-4 6.18.5: details are discarded once wholly transferred, or on an ALLOCATION LENGTH of zero.
        if (held !== undefined && (allocation === 0 || allocation >= data.length)) held.failure = undefined
        return data
      }
      default:
        throw invalidCdb(1, `RECEIVE COPY RESULTS service action ${action} is not supported`, 4)
    }
  }

  /** Forget the results held for an I_T nexus that is gone (copies still running keep theirs). */
  nexusLoss(nexus: Nexus): void {
    const prefix = heldKey(nexus.id, 0).slice(0, -2)
    for (const [key, held] of this.#held) {
      if (key.startsWith(prefix) && held.status !== CopyManagerStatus.IN_PROGRESS) this.#held.delete(key)
    }
  }

  #hold(key: string, result: HeldResult): void {
    this.#held.delete(key)
    this.#held.set(key, result)
    if (this.#held.size <= MAX_HELD_RESULTS) return
    for (const [old, held] of this.#held) {
      if (this.#held.size <= MAX_HELD_RESULTS) break
      if (held.status !== CopyManagerStatus.IN_PROGRESS) this.#held.delete(old)
    }
  }

  /** Check every segment against its copy targets before any data moves. */
  #plan(list: ReturnType<typeof decodeCopyParameterList>, onSegment: (index: number) => void): Step[] {
    const units = new Map<number, CopyUnit>()
    const unitOf = (index: number): { cscd: IdentificationCscd; unit: CopyUnit } => {
      const cscd = list.cscds[index]
      if (cscd === undefined) throw new CheckCondition('COPY_ABORTED', 'UNREACHABLE_COPY_TARGET', { message: `CSCD descriptor ${index} does not exist` })
      let unit = units.get(index)
      if (unit === undefined) {
        unit = this.#reach(cscd)
        units.set(index, unit)
      }
      return { cscd, unit }
    }
    return list.segments.map((segment) => {
      onSegment(segment.index)
      const { unit: source } = unitOf(segment.sourceIndex)
      const { unit: destination } = unitOf(segment.destinationIndex)
      const sourceSize = source.backstore.blockSize
      const destinationSize = destination.backstore.blockSize
      const bytes = segment.blocks * (segment.destinationCount ? destinationSize : sourceSize)
      if (bytes % sourceSize !== 0 || bytes % destinationSize !== 0) {
        throw new CheckCondition('ILLEGAL_REQUEST', 'UNEXPECTED_INEXACT_SEGMENT', {
          fieldPointer: { inCdb: false, byte: segment.offset + 10 },
          message: `segment ${segment.index}: ${bytes} bytes is not a whole number of ${sourceSize}- and ${destinationSize}-byte blocks`,
        })
      }
      if (bytes > this.#parameters.maxSegmentBytes) {
        throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
          fieldPointer: { inCdb: false, byte: segment.offset + 10 },
          message: `segment ${segment.index}: ${bytes} bytes exceed MAXIMUM SEGMENT LENGTH ${this.#parameters.maxSegmentBytes}`,
        })
      }
      checkRange(segment, 'source', segment.sourceLba, bytes / sourceSize, source.backstore.blockCount)
      checkRange(segment, 'destination', segment.destinationLba, bytes / destinationSize, destination.backstore.blockCount)
      if (destination.readOnly || destination.backstore.readOnly === true) {
        throw new CheckCondition('DATA_PROTECT', 'WRITE_PROTECTED', { message: `segment ${segment.index}: the destination is write protected` })
      }
      return { segment, source, destination, sourceLba: Number(segment.sourceLba), destinationLba: Number(segment.destinationLba), bytes }
    })
  }

  /** A copy target from its identification CSCD descriptor (SPC-4 6.4.5.3). */
  #reach(cscd: IdentificationCscd): CopyUnit {
    if (cscd.peripheralType !== 0x00) {
      throw new CheckCondition('COPY_ABORTED', 'INCORRECT_COPY_TARGET_DEVICE_TYPE', {
        message: `CSCD descriptor ${cscd.index}: peripheral device type ${cscd.peripheralType} is not a direct-access block device`,
      })
    }
    const naa = cscd.designatorType === DESIGNATOR_TYPE_NAA && cscd.codeSet === CODE_SET_BINARY && cscd.association === ASSOCIATION_LOGICAL_UNIT
    let unit: CopyUnit | undefined
    if (naa && (cscd.designator.length === 8 || cscd.designator.length === 16)) {
      try {
        unit = this.#resolve(cscd.designator)
      } catch (cause) {
        throw new CheckCondition('COPY_ABORTED', 'COPY_TARGET_DEVICE_NOT_REACHABLE', { message: `CSCD descriptor ${cscd.index}: resolving the designator failed`, cause })
      }
    }
    // Only logical units of this device, named by their NAA designator, can be reached (SPC-4 6.4.5.3).
    if (unit === undefined) {
      throw new CheckCondition('COPY_ABORTED', 'COPY_TARGET_DEVICE_NOT_REACHABLE', {
        message: `CSCD descriptor ${cscd.index}: no logical unit with designator ${cscd.designator.toString('hex')}`,
      })
    }
    if (cscd.blockLength !== unit.backstore.blockSize) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
        fieldPointer: { inCdb: false, byte: cscd.offset + 29 },
        message: `CSCD descriptor ${cscd.index}: DISK BLOCK LENGTH ${cscd.blockLength} is not the block size ${unit.backstore.blockSize}`,
      })
    }
    return unit
  }

  async #copy(steps: readonly Step[], result: HeldResult, signal: AbortSignal | undefined, onSegment: (index: number) => void): Promise<void> {
    let buffer: Buffer | undefined
    for (const step of steps) {
      onSegment(step.segment.index)
      const sourceSize = step.source.backstore.blockSize
      const destinationSize = step.destination.backstore.blockSize
      // Chunks hold whole blocks on both sides: a multiple of the least common multiple of the block sizes.
      const unit = (sourceSize / gcd(sourceSize, destinationSize)) * destinationSize
      const chunk = Math.min(step.bytes, Math.max(unit, Math.floor(this.#chunkBytes / unit) * unit))
      if (chunk > 0 && (buffer === undefined || buffer.length < chunk)) buffer = Buffer.alloc(chunk)
      const offsets: number[] = []
      for (let at = 0; at < step.bytes; at += chunk) offsets.push(at)
      // Within one backstore, a destination that starts inside the source range is copied from the end backwards so
      // that no source block is overwritten before it is read.
      const sameStore = step.source.backstore === step.destination.backstore
      const sourceStart = step.sourceLba * sourceSize
      const destinationStart = step.destinationLba * destinationSize
      if (sameStore && destinationStart > sourceStart && destinationStart < sourceStart + step.bytes) offsets.reverse()
      for (const at of offsets) {
        throwIfAborted(signal)
        const n = Math.min(chunk, step.bytes - at)
        const view = (buffer ?? Buffer.alloc(0)).subarray(0, n)
        try {
          await step.source.backstore.read(step.sourceLba + at / sourceSize, n / sourceSize, view)
        } catch (cause) {
          throw thirdParty(step.segment, 'reading the source', cause)
        }
        throwIfAborted(signal)
        try {
          await step.destination.backstore.write(step.destinationLba + at / destinationSize, view)
        } catch (cause) {
          throw thirdParty(step.segment, 'writing the destination', cause)
        }
        result.bytes += n
      }
      result.segmentsProcessed++
    }
  }
}

/** Task management aborted the EXTENDED COPY (SAM-5 7.2): stop between chunks. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new StatusError(ScsiStatus.TASK_ABORTED, 'EXTENDED COPY aborted')
}

function heldKey(nexusId: string, listId: number): string {
  return `${JSON.stringify(nexusId)}#${listId.toString(16).padStart(2, '0')}`
}

/**
 * A segment reaching past the end of a copy target. The copy is aborted (COPY ABORTED); the additional sense code is
 * NO ADDITIONAL SENSE INFORMATION, one of the three that iscsi-test-cu ExtendedCopy.ValidSegDescr accepts.
 */
function checkRange(segment: BlockSegment, side: 'source' | 'destination', lba: bigint, blocks: number, blockCount: number): void {
  if (lba + BigInt(blocks) > BigInt(blockCount)) {
    throw new CheckCondition('COPY_ABORTED', 'NO_ADDITIONAL_SENSE', {
      message: `segment ${segment.index}: ${side} LBA ${lba} + ${blocks} blocks is past the ${blockCount}-block copy target`,
    })
  }
}

/** A backstore failure during a copy: COPY ABORTED, THIRD PARTY DEVICE FAILURE (SPC-4 6.4.4). */
function thirdParty(segment: BlockSegment, what: string, cause: unknown): CheckCondition {
  return new CheckCondition('COPY_ABORTED', 'THIRD_PARTY_DEVICE_FAILURE', { message: `segment ${segment.index}: ${what} failed`, cause })
}
