// MODE SENSE(6/10) and MODE SELECT(6/10), SPC-4 6.11-6.14: the mode parameter header (with the SBC-3 6.4.1
// device-specific parameter: WP, DPOFUA), the short or long LBA block descriptor (SBC-3 6.4.2), and the pages.
import { invalidField } from '../cdb/cdb.js'
import { CheckCondition } from '../errors.js'
import { type CommandContext, GOOD, type Outcome } from './context.js'
import { ModePage, ModeParameters, PAGE_CONTROLS } from './mode-pages.js'
import type { UnitState } from './unit-state.js'

/** Subpage codes: 00h the page itself, FFh all subpages (SPC-4 6.13). This LU has no other subpages. */
const ALL_SUBPAGES = 0xff

/** DEVICE-SPECIFIC PARAMETER (SBC-3 6.4.1): WP when writes are refused, DPOFUA (DPO and FUA supported). */
function deviceSpecificParameter(unit: UnitState): number {
  return (unit.writeProtection !== undefined ? 0x80 : 0) | 0x10
}

/** Short (8-byte) or long LBA (16-byte) block descriptor; changeable values report no changeable field. */
function blockDescriptor(unit: UnitState, long: boolean, changeable: boolean): Buffer {
  if (long) {
    const buf = Buffer.alloc(16)
    if (!changeable) {
      buf.writeBigUInt64BE(BigInt(unit.blockCount), 0)
      buf.writeUInt32BE(unit.blockSize, 12)
    }
    return buf
  }
  const buf = Buffer.alloc(8)
  if (!changeable) {
    // A count that does not fit is reported as FFFFFFFFh (SBC-3 6.4.2.2).
    buf.writeUInt32BE(Math.min(unit.blockCount, 0xffffffff), 0)
    buf.writeUIntBE(unit.blockSize, 5, 3)
  }
  return buf
}

export function modeSense(context: CommandContext<'MODE_SENSE_6' | 'MODE_SENSE_10'>): Outcome {
  const { unit, cdb } = context
  const ten = cdb.name === 'MODE_SENSE_10'
  const control = PAGE_CONTROLS[cdb.pc]!
  if (control === 'saved') throw new CheckCondition('ILLEGAL_REQUEST', 'SAVING_PARAMETERS_NOT_SUPPORTED', { fieldPointer: { inCdb: true, byte: 2, bit: 7 } })
  let codes: number[]
  if (cdb.pageCode === ModePage.ALL) {
    // 3Fh with subpage 00h: every page; with FFh: every page and subpage (there are no subpages).
    if (cdb.subpageCode !== 0 && cdb.subpageCode !== ALL_SUBPAGES) throw invalidField(cdb.name, 'subpageCode', `subpage 0x${cdb.subpageCode.toString(16)} is not supported`)
    codes = ModeParameters.codes()
  } else {
    if (!ModeParameters.has(cdb.pageCode)) throw invalidField(cdb.name, 'pageCode', `mode page 0x${cdb.pageCode.toString(16)} is not supported`)
    if (cdb.subpageCode !== 0 && cdb.subpageCode !== ALL_SUBPAGES) throw invalidField(cdb.name, 'subpageCode', `subpage 0x${cdb.subpageCode.toString(16)} is not supported`)
    codes = [cdb.pageCode]
  }
  const pages = Buffer.concat(codes.map((code) => unit.modes.page(code, control)))
  const long = ten && cdb.llbaa
  const descriptor = cdb.dbd ? Buffer.alloc(0) : blockDescriptor(unit, long, control === 'changeable')
  const header = Buffer.alloc(ten ? 8 : 4)
  const total = header.length + descriptor.length + pages.length
  if (ten) {
    header.writeUInt16BE(total - 2, 0) // MODE DATA LENGTH: bytes after this field
    header[3] = deviceSpecificParameter(unit)
    header[4] = long ? 0x01 : 0x00 // LONGLBA
    header.writeUInt16BE(descriptor.length, 6) // BLOCK DESCRIPTOR LENGTH
  } else {
    header[0] = Math.min(total - 1, 0xff)
    header[2] = deviceSpecificParameter(unit)
    header[3] = descriptor.length
  }
  return { data: Buffer.concat([header, descriptor, pages]) }
}

export function modeSelect(context: CommandContext<'MODE_SELECT_6' | 'MODE_SELECT_10'>): Outcome {
  const { unit, cdb, nexus } = context
  const ten = cdb.name === 'MODE_SELECT_10'
  // PF=0 would mean vendor-specific page formats; SP=1 asks to save, which this LU cannot (SPC-4 6.11).
  if (!cdb.pf && cdb.parameterListLength > 0) throw invalidField(cdb.name, 'pf', 'only the standard page format is supported')
  if (cdb.sp) throw invalidField(cdb.name, 'sp', 'saving parameters is not supported')
  const length = cdb.parameterListLength
  if (length === 0) return GOOD
  if (context.dataOut.length < length) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: `${context.dataOut.length} bytes of data-out for a ${length}-byte parameter list` })
  }
  const list = context.dataOut.subarray(0, length)
  const headerLength = ten ? 8 : 4
  if (length < headerLength) throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: 'the mode parameter header is truncated' })
  const mediumType = ten ? list[2]! : list[1]!
  if (mediumType !== 0) throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte: ten ? 2 : 1 }, message: 'MEDIUM TYPE must be 0' })
  const long = ten && (list[4]! & 0x01) !== 0
  const descriptorLength = ten ? list.readUInt16BE(6) : list[3]!
  const descriptorSize = long ? 16 : 8
  const descriptorField = ten ? 6 : 3
  if (descriptorLength !== 0 && descriptorLength !== descriptorSize) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte: descriptorField }, message: `BLOCK DESCRIPTOR LENGTH ${descriptorLength} is not supported` })
  }
  if (headerLength + descriptorLength > length) throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: 'the block descriptor is truncated' })
  if (descriptorLength > 0) {
    // SBC-3 6.4.2: the block length must be the LU's; NUMBER OF LOGICAL BLOCKS 0 or the capacity keeps it.
    const at = headerLength
    const blocks = long ? Number(list.readBigUInt64BE(at)) : list.readUInt32BE(at)
    const blockLength = long ? list.readUInt32BE(at + 12) : list.readUIntBE(at + 5, 3)
    const lengthByte = long ? at + 12 : at + 5
    if (blockLength !== unit.blockSize) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte: lengthByte }, message: `LOGICAL BLOCK LENGTH ${blockLength} is not ${unit.blockSize}` })
    }
    const current = long ? unit.blockCount : Math.min(unit.blockCount, 0xffffffff)
    if (blocks !== 0 && blocks !== current) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte: at }, message: 'the capacity cannot be changed by MODE SELECT' })
    }
  }
  const start = headerLength + descriptorLength
  if (unit.modes.select(list.subarray(start), start)) {
    // SPC-4 6.11: other I_T nexuses learn that shared mode parameters changed.
    unit.attentions.establishAll('MODE_PARAMETERS_CHANGED', nexus.id)
  }
  return GOOD
}
