// Readable text for sense keys (SPC-4 4.5.6, table 47) and additional sense codes (table 48), for logs and the CLI.
import { Asc, type AscName } from './asc.js'
import { SenseKey, type SenseKeyName } from './sense-key.js'

/** Text of each sense key, as SPC-4 table 47 names it. */
export const SenseKeyText = {
  NO_SENSE: 'NO SENSE',
  RECOVERED_ERROR: 'RECOVERED ERROR',
  NOT_READY: 'NOT READY',
  MEDIUM_ERROR: 'MEDIUM ERROR',
  HARDWARE_ERROR: 'HARDWARE ERROR',
  ILLEGAL_REQUEST: 'ILLEGAL REQUEST',
  UNIT_ATTENTION: 'UNIT ATTENTION',
  DATA_PROTECT: 'DATA PROTECT',
  BLANK_CHECK: 'BLANK CHECK',
  VENDOR_SPECIFIC: 'VENDOR SPECIFIC',
  COPY_ABORTED: 'COPY ABORTED',
  ABORTED_COMMAND: 'ABORTED COMMAND',
  VOLUME_OVERFLOW: 'VOLUME OVERFLOW',
  MISCOMPARE: 'MISCOMPARE',
  COMPLETED: 'COMPLETED',
} as const satisfies Record<SenseKeyName, string>

const keyNames = new Map<number, SenseKeyName>(
  (Object.keys(SenseKey) as SenseKeyName[]).map((name) => [SenseKey[name], name]),
)
const ascNames = new Map<number, AscName>(
  (Object.keys(Asc) as AscName[]).map((name) => [(Asc[name].code[0] << 8) | Asc[name].code[1], name]),
)

/** The table name of a sense key value, if it has one (0x0e is reserved). */
export function senseKeyName(key: number): SenseKeyName | undefined {
  return keyNames.get(key)
}

/** The table name of an ASC/ASCQ pair, if the table has it. */
export function ascName(asc: number, ascq: number): AscName | undefined {
  return ascNames.get(((asc & 0xff) << 8) | (ascq & 0xff))
}

const hex = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`

/** Text of an ASC/ASCQ pair: the table text, or the SPC-4 ranges for codes the table lacks. */
export function ascText(asc: number, ascq: number): string {
  const name = ascName(asc, ascq)
  if (name !== undefined) return Asc[name].text
  // SPC-4 table 48: ASC 40h with any ASCQ is a diagnostic failure on the component the ASCQ names; ASC 80h-FFh and
  // ASCQ 80h-FFh are vendor specific.
  if (asc === 0x40 && ascq !== 0) return `diagnostic failure on component ${hex(ascq)}`
  if (asc >= 0x80) return `vendor specific asc ${hex(asc)} ascq ${hex(ascq)}`
  if (ascq >= 0x80) return `vendor specific qualifier ${hex(ascq)} of asc ${hex(asc)}`
  return `asc ${hex(asc)} ascq ${hex(ascq)}`
}

/** Readable text for a sense key and ASC/ASCQ: `ILLEGAL REQUEST: invalid field in cdb (24/00)`. */
export function senseText(key: number, asc: number, ascq: number): string {
  const name = senseKeyName(key)
  const keyText = name === undefined ? `SENSE KEY ${hex(key)}` : SenseKeyText[name]
  return `${keyText}: ${ascText(asc, ascq)} (${asc.toString(16).padStart(2, '0')}/${ascq.toString(16).padStart(2, '0')})`
}
