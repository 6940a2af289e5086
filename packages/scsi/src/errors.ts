// Errors of @iscsi-ts/scsi. Every failure a command can meet is a ScsiError that carries its wire reaction: the SCSI
// status and, for CHECK CONDITION, the sense key, additional sense code and qualifier, and where it applies the
// sense-key-specific field pointer (SPC-4 4.5.2.4.2) or the INFORMATION field.
import { type SenseKeyName, SenseKey } from './sense/sense-key.js'
import { type AscName, Asc } from './sense/asc.js'
import { ScsiStatus, type ScsiStatusValue } from './status.js'

/** Where in the CDB or parameter list the offending field is (SPC-4 4.5.2.4.2). */
export interface FieldPointer {
  /** true: the field is in the CDB (C/D = 1); false: in the parameter data. */
  readonly inCdb: boolean
  /** Byte offset of the field. */
  readonly byte: number
  /** Bit (0-7) of the field's most significant bit, when the field is not byte aligned. */
  readonly bit?: number
}

export interface ScsiErrorOptions {
  readonly fieldPointer?: FieldPointer
  /** The INFORMATION field (for example the LBA of a miscompare offset, SBC-3 5.3). */
  readonly information?: bigint
  /** Sense-key-specific progress indication, 0-65535 of 65536 (NOT READY while sanitize or format runs, SPC-4 4.5.2.4.4). */
  readonly progress?: number
  readonly cause?: unknown
}

/** Base error of the package: a string code and the SCSI status it turns into. */
export class ScsiError extends Error {
  override readonly name: string = 'ScsiError'
  readonly code: string
  readonly status: ScsiStatusValue
  readonly senseKey: number
  readonly asc: number
  readonly ascq: number
  readonly fieldPointer: FieldPointer | undefined
  readonly information: bigint | undefined
  readonly progress: number | undefined

  constructor(code: string, status: ScsiStatusValue, senseKey: number, asc: number, ascq: number, message: string, options: ScsiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = status
    this.senseKey = senseKey
    this.asc = asc
    this.ascq = ascq
    this.fieldPointer = options.fieldPointer
    this.information = options.information
    this.progress = options.progress
  }
}

/** A CHECK CONDITION built from the named sense tables: `new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { fieldPointer: { inCdb: true, byte: 1, bit: 4 } })`. */
export class CheckCondition extends ScsiError {
  override readonly name = 'CheckCondition'
  readonly key: SenseKeyName
  readonly ascName: AscName

  constructor(key: SenseKeyName, asc: AscName, options: ScsiErrorOptions & { message?: string } = {}) {
    const [code, qualifier] = Asc[asc].code
    super(
      `ISCSI_ERR_SCSI_${asc}`,
      ScsiStatus.CHECK_CONDITION,
      SenseKey[key],
      code,
      qualifier,
      options.message ?? `${key}: ${Asc[asc].text}`,
      options,
    )
    this.key = key
    this.ascName = asc
  }
}

/** A status other than CHECK CONDITION that ends a command (RESERVATION CONFLICT, BUSY, TASK SET FULL). */
export class StatusError extends ScsiError {
  override readonly name = 'StatusError'
  constructor(status: ScsiStatusValue, message: string) {
    super(`ISCSI_ERR_SCSI_STATUS_${status.toString(16).padStart(2, '0')}`, status, 0, 0, 0, message)
  }
}

/** The backstore failed (EIO, ENOSPC, ...). Carries the CHECK CONDITION the initiator gets. */
export class BackstoreError extends CheckCondition {
  constructor(asc: AscName, message: string, cause?: unknown) {
    super(asc === 'SPACE_ALLOCATION_FAILED_WRITE_PROTECT' ? 'DATA_PROTECT' : 'MEDIUM_ERROR', asc, { message, cause })
  }
}

/**
 * Bytes that do not decode: sense data or parameter data read by the initiator, or a parameter list the device server
 * cannot parse. On the device side it answers ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST (SPC-4 4.5.6).
 */
export class ScsiDecodeError extends CheckCondition {
  override readonly code: string = 'ISCSI_ERR_SCSI_DECODE'
  constructor(message: string, options: ScsiErrorOptions = {}) {
    super('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { ...options, message })
  }
}
