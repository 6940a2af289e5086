// REPORT LUNS (SPC-4 6.33) from the target device's LU inventory, and TEST UNIT READY (SPC-4 6.47).
import { invalidField } from '../cdb/cdb.js'
import { encodeLun } from '../lun.js'
import { type CommandContext, type DeviceView, GOOD, type Outcome } from './context.js'

/** SELECT REPORT values (SPC-4 6.33 table 273). */
export const SelectReport = { ALL_LOGICAL_UNITS: 0x00, WELL_KNOWN_ONLY: 0x01, ALL: 0x02 } as const

/** REPORT LUNS parameter data: LUN list length, then 8-byte LUNs (this device has no well-known LUs). */
export function reportLuns(context: Omit<CommandContext<'REPORT_LUNS'>, 'unit'>, device: DeviceView): Outcome {
  const { cdb } = context
  // SPC-4 6.33: the allocation length must be at least 16 bytes.
  if (cdb.allocationLength < 16) throw invalidField('REPORT_LUNS', 'allocationLength', 'ALLOCATION LENGTH below 16')
  let luns: number[]
  switch (cdb.selectReport) {
    case SelectReport.ALL_LOGICAL_UNITS:
    case SelectReport.ALL:
      luns = device.luns()
      break
    case SelectReport.WELL_KNOWN_ONLY:
      luns = []
      break
    default:
      throw invalidField('REPORT_LUNS', 'selectReport', `SELECT REPORT 0x${cdb.selectReport.toString(16)} is not supported`)
  }
  const data = Buffer.alloc(8 + luns.length * 8)
  data.writeUInt32BE(luns.length * 8, 0)
  luns.forEach((lun, index) => encodeLun(lun, data, 8 + index * 8))
  device.reportedLuns(context.nexus.id)
  return { data }
}

/** TEST UNIT READY: readiness is checked by the dispatcher (medium access), so reaching here means ready. */
export function testUnitReady(_context: CommandContext<'TEST_UNIT_READY'>): Outcome {
  return GOOD
}
