// READ DEFECT DATA(10) and (12), SBC-3 5.11-5.12. A backstore has no physical medium to grow defects on, so the
// primary (PLIST) and grown (GLIST) defect lists are both empty: the device server returns the parameter data header
// with the lists asked for marked valid and a DEFECT LIST LENGTH of 0. An empty list has the same bytes in every
// address descriptor format, so each defined format is honoured as asked.
import { invalidField } from '../cdb/cdb.js'
import type { CommandContext, Outcome } from './context.js'

/** DEFECT LIST FORMAT values (SBC-3 6.2, address descriptor formats); 001b, 010b and 111b are reserved. */
export const DefectListFormat = {
  SHORT_BLOCK: 0b000,
  LONG_BLOCK: 0b011,
  BYTES_FROM_INDEX: 0b100,
  PHYSICAL_SECTOR: 0b101,
  VENDOR_SPECIFIC: 0b110,
} as const

/** The formats this device server returns: every standard one (it has no vendor-specific format). */
const SUPPORTED_FORMATS: ReadonlySet<number> = new Set([DefectListFormat.SHORT_BLOCK, DefectListFormat.LONG_BLOCK, DefectListFormat.BYTES_FROM_INDEX, DefectListFormat.PHYSICAL_SECTOR])

export function readDefectData(context: CommandContext<'READ_DEFECT_DATA_10' | 'READ_DEFECT_DATA_12'>): Outcome {
  const { cdb } = context
  if (!SUPPORTED_FORMATS.has(cdb.defectListFormat)) {
    throw invalidField(cdb.name, 'defectListFormat', `DEFECT LIST FORMAT ${cdb.defectListFormat.toString(2).padStart(3, '0')}b is not supported`)
  }
  // Byte 1: PLISTV and GLISTV say which (empty) lists the data holds: those REQ_PLIST and REQ_GLIST asked for.
  const flags = (cdb.reqPlist ? 0x10 : 0) | (cdb.reqGlist ? 0x08 : 0) | cdb.defectListFormat
  if (cdb.name === 'READ_DEFECT_DATA_10') {
    // SBC-3 5.11: READ DEFECT DATA(10) parameter data, reserved, flags, DEFECT LIST LENGTH (2 bytes) 0.
    return { data: Buffer.from([0x00, flags, 0x00, 0x00]) }
  }
  // SBC-3 5.12: READ DEFECT DATA(12) parameter data, reserved, flags, GENERATION CODE 0 (not reported), DEFECT LIST
  // LENGTH (4 bytes) 0. Every ADDRESS DESCRIPTOR INDEX is past the end of an empty list: none changes the answer.
  return { data: Buffer.from([0x00, flags, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]) }
}
