// Sense data (SPC-4 4.5): fixed format (response codes 70h current, 71h deferred, 4.5.3) and descriptor format
// (72h current, 73h deferred, 4.5.2) with the information, command-specific information and sense-key-specific
// parts. The device server builds sense from a ScsiError; the initiator decodes what a target sends.
import { type FieldPointer, type ScsiError, ScsiDecodeError } from '../errors.js'
import { type AscName } from './asc.js'
import { SenseKey, type SenseKeyName } from './sense-key.js'
import { ascName, senseKeyName, senseText } from './sense-text.js'

export type SenseFormat = 'fixed' | 'descriptor'

/** What sense data says, in either format. */
export interface SenseData {
  readonly format: SenseFormat
  /** Deferred error (71h/73h) instead of an error of the current command (70h/72h). */
  readonly deferred?: boolean
  readonly key: number
  readonly asc: number
  readonly ascq: number
  /** INFORMATION (fixed: 4 bytes, only VALID when it fits; descriptor: 8 bytes). */
  readonly information?: bigint
  /** COMMAND-SPECIFIC INFORMATION. */
  readonly commandSpecific?: bigint
  /** Sense-key-specific field pointer (ILLEGAL REQUEST, SPC-4 4.5.2.4.2). */
  readonly fieldPointer?: FieldPointer
  /** Sense-key-specific progress indication, 0-65535 of 65536 (NOT READY / NO SENSE, SPC-4 4.5.2.4.4). */
  readonly progress?: number
  /** Raw 3-byte sense-key-specific value (SKSV bit included) for the kinds not modelled above (segment pointer, retry count). */
  readonly senseKeySpecific?: number
  /** Incorrect length indicator (fixed byte 2 bit 5; block commands descriptor, SBC-3 4.18.2). */
  readonly ili?: boolean
}

export interface DecodedSense extends SenseData {
  readonly keyName: SenseKeyName | undefined
  readonly ascName: AscName | undefined
  /** `ILLEGAL REQUEST: invalid field in cdb (24/00)` */
  readonly text: string
  /** Bytes of sense data that belong to this record (8 + additional sense length, bounded by the buffer). */
  readonly length: number
}

const FIXED_LENGTH = 18
const SKSV = 0x80

/** The sense-key-specific 3 bytes as a 24-bit number with SKSV set, or undefined when there is none. */
function senseKeySpecificValue(sense: SenseData): number | undefined {
  if (sense.fieldPointer !== undefined) {
    const { inCdb, byte, bit } = sense.fieldPointer
    if (!Number.isInteger(byte) || byte < 0 || byte > 0xffff) throw new RangeError(`field pointer byte ${byte} out of range`)
    let first = SKSV | (inCdb ? 0x40 : 0)
    if (bit !== undefined) {
      if (!Number.isInteger(bit) || bit < 0 || bit > 7) throw new RangeError(`field pointer bit ${bit} out of range`)
      first |= 0x08 | bit
    }
    return (first << 16) | byte
  }
  if (sense.progress !== undefined) {
    if (!Number.isInteger(sense.progress) || sense.progress < 0 || sense.progress > 0xffff) throw new RangeError(`progress ${sense.progress} out of range`)
    return (SKSV << 16) | sense.progress
  }
  if (sense.senseKeySpecific !== undefined) return sense.senseKeySpecific & 0xffffff
  return undefined
}

function checkByte(name: string, value: number, max = 0xff): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value} out of range`)
}

/** Bytes `encodeSense` writes for this sense data. */
export function senseEncodingLength(sense: SenseData): number {
  if (sense.format === 'fixed') return FIXED_LENGTH
  let length = 8
  if (sense.information !== undefined) length += 12
  if (sense.commandSpecific !== undefined) length += 12
  if (senseKeySpecificValue(sense) !== undefined) length += 8
  if (sense.ili === true) length += 4
  return length
}

/** Encode sense data in the format it names. */
export function encodeSense(sense: SenseData): Buffer {
  checkByte('sense key', sense.key, 0x0f)
  checkByte('asc', sense.asc)
  checkByte('ascq', sense.ascq)
  const sks = senseKeySpecificValue(sense)
  const buf = Buffer.alloc(senseEncodingLength(sense))
  if (sense.format === 'fixed') {
    // SPC-4 4.5.3 table 45.
    const info = sense.information
    const infoFits = info !== undefined && info >= 0n && info <= 0xffffffffn
    buf[0] = (infoFits ? 0x80 : 0) | (sense.deferred === true ? 0x71 : 0x70)
    buf[2] = (sense.ili === true ? 0x20 : 0) | sense.key
    if (infoFits) buf.writeUInt32BE(Number(info), 3)
    buf[7] = FIXED_LENGTH - 8
    if (sense.commandSpecific !== undefined) buf.writeUInt32BE(Number(BigInt.asUintN(32, sense.commandSpecific)), 8)
    buf[12] = sense.asc
    buf[13] = sense.ascq
    if (sks !== undefined) buf.writeUIntBE(sks, 15, 3)
    return buf
  }
  // SPC-4 4.5.2 table 26.
  buf[0] = sense.deferred === true ? 0x73 : 0x72
  buf[1] = sense.key
  buf[2] = sense.asc
  buf[3] = sense.ascq
  buf[7] = buf.length - 8
  let offset = 8
  if (sense.information !== undefined) {
    // Information descriptor (4.5.2.2): type 00h, length 0Ah, VALID.
    buf[offset] = 0x00
    buf[offset + 1] = 0x0a
    buf[offset + 2] = 0x80
    buf.writeBigUInt64BE(BigInt.asUintN(64, sense.information), offset + 4)
    offset += 12
  }
  if (sense.commandSpecific !== undefined) {
    // Command-specific information descriptor (4.5.2.3): type 01h, length 0Ah.
    buf[offset] = 0x01
    buf[offset + 1] = 0x0a
    buf.writeBigUInt64BE(BigInt.asUintN(64, sense.commandSpecific), offset + 4)
    offset += 12
  }
  if (sks !== undefined) {
    // Sense key specific descriptor (4.5.2.4): type 02h, length 06h.
    buf[offset] = 0x02
    buf[offset + 1] = 0x06
    buf.writeUIntBE(sks, offset + 4, 3)
    offset += 8
  }
  if (sense.ili === true) {
    // Block commands sense data descriptor (SBC-3 4.18.2): type 05h, length 02h, ILI in byte 3 bit 5.
    buf[offset] = 0x05
    buf[offset + 1] = 0x02
    buf[offset + 3] = 0x20
  }
  return buf
}

/** Split the 3 sense-key-specific bytes into the modelled parts for this sense key. */
function decodeSenseKeySpecific(key: number, value: number): Pick<SenseData, 'fieldPointer' | 'progress' | 'senseKeySpecific'> {
  if ((value & (SKSV << 16)) === 0) return {}
  const first = value >> 16
  const low = value & 0xffff
  if (key === SenseKey.ILLEGAL_REQUEST) {
    const pointer: FieldPointer = (first & 0x08) !== 0 ? { inCdb: (first & 0x40) !== 0, byte: low, bit: first & 0x07 } : { inCdb: (first & 0x40) !== 0, byte: low }
    return { fieldPointer: pointer, senseKeySpecific: value }
  }
  if (key === SenseKey.NOT_READY || key === SenseKey.NO_SENSE) return { progress: low, senseKeySpecific: value }
  return { senseKeySpecific: value }
}

/** Decode sense data of either format. Bounds-checked: truncated or unknown data is a ScsiDecodeError. */
export function decodeSense(buf: Buffer): DecodedSense {
  if (buf.length < 2) throw new ScsiDecodeError(`sense data of ${buf.length} bytes is too short`)
  const code = buf[0]! & 0x7f
  if (code === 0x70 || code === 0x71) {
    // Fixed format: at least through the ADDITIONAL SENSE LENGTH byte; ASC/ASCQ only when the record reaches them.
    if (buf.length < 8) throw new ScsiDecodeError(`fixed format sense data of ${buf.length} bytes is too short`)
    const length = Math.min(buf.length, 8 + buf[7]!)
    const byte = (i: number): number => (i < length ? buf[i]! : 0)
    const key = byte(2) & 0x0f
    const asc = byte(12)
    const ascq = byte(13)
    const valid = (buf[0]! & 0x80) !== 0
    const information = valid ? BigInt(buf.readUInt32BE(3)) : undefined
    const csi = length >= 12 ? BigInt(buf.readUInt32BE(8)) : undefined
    const sks = length >= 18 ? decodeSenseKeySpecific(key, buf.readUIntBE(15, 3)) : {}
    return {
      format: 'fixed',
      deferred: code === 0x71,
      key,
      asc,
      ascq,
      ...(information === undefined ? {} : { information }),
      ...(csi === undefined || csi === 0n ? {} : { commandSpecific: csi }),
      ...sks,
      ...((byte(2) & 0x20) !== 0 ? { ili: true } : {}),
      keyName: senseKeyName(key),
      ascName: ascName(asc, ascq),
      text: senseText(key, asc, ascq),
      length,
    }
  }
  if (code === 0x72 || code === 0x73) {
    if (buf.length < 8) throw new ScsiDecodeError(`descriptor format sense data of ${buf.length} bytes is too short`)
    const key = buf[1]! & 0x0f
    const asc = buf[2]!
    const ascq = buf[3]!
    const length = Math.min(buf.length, 8 + buf[7]!)
    let information: bigint | undefined
    let commandSpecific: bigint | undefined
    let sks: Pick<SenseData, 'fieldPointer' | 'progress' | 'senseKeySpecific'> = {}
    let ili = false
    let offset = 8
    while (offset + 2 <= length) {
      const type = buf[offset]!
      const size = 2 + buf[offset + 1]!
      if (offset + size > length) throw new ScsiDecodeError(`sense descriptor ${type} at byte ${offset} overruns the sense data`)
      if (type === 0x00 && size >= 12) {
        if ((buf[offset + 2]! & 0x80) !== 0) information = buf.readBigUInt64BE(offset + 4)
      } else if (type === 0x01 && size >= 12) {
        commandSpecific = buf.readBigUInt64BE(offset + 4)
      } else if (type === 0x02 && size >= 7) {
        sks = decodeSenseKeySpecific(key, buf.readUIntBE(offset + 4, 3))
      } else if (type === 0x05 && size >= 4) {
        ili = (buf[offset + 3]! & 0x20) !== 0
      }
      offset += size
    }
    return {
      format: 'descriptor',
      deferred: code === 0x73,
      key,
      asc,
      ascq,
      ...(information === undefined ? {} : { information }),
      ...(commandSpecific === undefined ? {} : { commandSpecific }),
      ...sks,
      ...(ili ? { ili: true } : {}),
      keyName: senseKeyName(key),
      ascName: ascName(asc, ascq),
      text: senseText(key, asc, ascq),
      length,
    }
  }
  throw new ScsiDecodeError(`unknown sense data response code 0x${code.toString(16)}`)
}

/** The sense data a CHECK CONDITION carries for an error, in the format the control mode page asks (D_SENSE). */
export function senseForError(error: ScsiError, format: SenseFormat): Buffer {
  return encodeSense({
    format,
    key: error.senseKey,
    asc: error.asc,
    ascq: error.ascq,
    ...(error.information === undefined ? {} : { information: error.information }),
    ...(error.fieldPointer === undefined ? {} : { fieldPointer: error.fieldPointer }),
    ...(error.progress === undefined ? {} : { progress: error.progress }),
  })
}
