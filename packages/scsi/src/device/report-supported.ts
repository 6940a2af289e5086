// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36), both
// derived from the opcode table and the LU's capabilities, so they never disagree with what dispatch does.
import { invalidField } from '../cdb/cdb.js'
import { type CommandName, type CommandSpec, commandNames, commandSpec, hasServiceActions, opcodeIndex } from '../cdb/commands.js'
import { cdbUsageData } from '../cdb/usage.js'
import type { CommandContext, Outcome } from './context.js'
import type { UnitState } from './unit-state.js'

/** REPORTING OPTIONS (SPC-4 6.35.1 table 287). */
export const ReportingOptions = { ALL: 0b000, OPCODE: 0b001, OPCODE_AND_SERVICE_ACTION: 0b010 } as const

/** SUPPORT field of the one_command format (SPC-4 6.35.3 table 290). */
export const Support = { NOT_AVAILABLE: 0b000, NOT_SUPPORTED: 0b001, STANDARD: 0b011 } as const

/** Default recommended command timeout (seconds) for commands without one in the table. */
const DEFAULT_TIMEOUT = 30

/** Command timeouts descriptor (SPC-4 6.35.4 table 291): 12 bytes. */
function timeoutsDescriptor(spec: CommandSpec): Buffer {
  const buf = Buffer.alloc(12)
  buf.writeUInt16BE(0x0a, 0) // DESCRIPTOR LENGTH
  buf.writeUInt32BE(0, 4) // NOMINAL COMMAND PROCESSING TIMEOUT: not specified
  buf.writeUInt32BE(spec.timeout ?? DEFAULT_TIMEOUT, 8) // RECOMMENDED COMMAND TIMEOUT
  return buf
}

function supported(unit: UnitState, spec: CommandSpec): boolean {
  return spec.feature === undefined || unit.supports(spec.feature)
}

/** Every (command, service action) pair the LU supports, in opcode then service action order. */
function supportedActions(unit: UnitState): Array<readonly [CommandName, number | undefined]> {
  const out: Array<readonly [CommandName, number | undefined]> = []
  for (const name of commandNames) {
    const spec = commandSpec(name)
    if (!supported(unit, spec)) continue
    if (spec.serviceActions !== undefined) for (const action of spec.serviceActions) out.push([name, action])
    else out.push([name, spec.serviceAction])
  }
  return out.sort(([a, sa], [b, sb]) => commandSpec(a).opcode - commandSpec(b).opcode || (sa ?? 0) - (sb ?? 0))
}

export function reportSupportedOperationCodes(context: CommandContext<'REPORT_SUPPORTED_OPERATION_CODES'>): Outcome {
  const { cdb, unit } = context
  switch (cdb.reportingOptions) {
    case ReportingOptions.ALL: {
      const parts: Buffer[] = []
      for (const [name, action] of supportedActions(unit)) {
        const spec = commandSpec(name)
        // Command descriptor (SPC-4 6.35.2 table 289).
        const descriptor = Buffer.alloc(8)
        descriptor[0] = spec.opcode
        descriptor.writeUInt16BE(action ?? 0, 2)
        descriptor[5] = (cdb.rctd ? 0x02 : 0) | (hasServiceActions(spec) ? 0x01 : 0) // CTDP, SERVACTV
        descriptor.writeUInt16BE(spec.length, 6)
        parts.push(descriptor)
        if (cdb.rctd) parts.push(timeoutsDescriptor(spec))
      }
      const body = Buffer.concat(parts)
      const header = Buffer.alloc(4)
      header.writeUInt32BE(body.length, 0) // COMMAND DATA LENGTH
      return { data: Buffer.concat([header, body]) }
    }
    case ReportingOptions.OPCODE:
    case ReportingOptions.OPCODE_AND_SERVICE_ACTION: {
      const withAction = cdb.reportingOptions === ReportingOptions.OPCODE_AND_SERVICE_ACTION
      const entry = opcodeIndex.get(cdb.requestedOperationCode)
      let name: CommandName | undefined
      if (entry !== undefined) {
        const spec = commandSpec(entry.byServiceAction !== undefined ? [...entry.byServiceAction.values()][0]! : entry.plain!)
        // SPC-4 6.35.1: asking for an opcode with service actions without one, or with one for an opcode without, is an error.
        if (hasServiceActions(spec) && !withAction) throw invalidField('REPORT_SUPPORTED_OPERATION_CODES', 'reportingOptions', 'the operation code has service actions')
        if (!hasServiceActions(spec) && withAction) throw invalidField('REPORT_SUPPORTED_OPERATION_CODES', 'reportingOptions', 'the operation code has no service actions')
        if (entry.byServiceAction !== undefined) name = entry.byServiceAction.get(cdb.requestedServiceAction)
        else if (spec.serviceActions === undefined || spec.serviceActions.includes(cdb.requestedServiceAction)) name = entry.plain
      }
      if (name === undefined || !supported(unit, commandSpec(name))) {
        const data = Buffer.alloc(4)
        data[1] = Support.NOT_SUPPORTED
        return { data }
      }
      const spec = commandSpec(name)
      const usage = cdbUsageData(name, withAction ? cdb.requestedServiceAction : undefined)
      const header = Buffer.alloc(4)
      header[1] = (cdb.rctd ? 0x80 : 0) | Support.STANDARD // CTDP, SUPPORT
      header.writeUInt16BE(usage.length, 2) // CDB SIZE
      return { data: Buffer.concat([header, usage, ...(cdb.rctd ? [timeoutsDescriptor(spec)] : [])]) }
    }
    default:
      throw invalidField('REPORT_SUPPORTED_OPERATION_CODES', 'reportingOptions', `REPORTING OPTIONS ${cdb.reportingOptions} is not supported`)
  }
}

/**
 * Task management functions the device implements (SPC-4 6.36 table 294): ABORT TASK, ABORT TASK SET, CLEAR TASK
 * SET, LOGICAL UNIT RESET, TARGET RESET (warm and cold). Not CLEAR ACA (no ACA), QUERY TASK, I_T NEXUS RESET.
 */
export function reportSupportedTaskManagementFunctions(context: CommandContext<'REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS'>): Outcome {
  const { cdb } = context
  // SPC-4 6.36: an ALLOCATION LENGTH below 4 is an error.
  if (cdb.allocationLength < 4) throw invalidField('REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS', 'allocationLength', 'ALLOCATION LENGTH below 4')
  const data = Buffer.alloc(cdb.repd ? 16 : 4)
  data[0] = 0x80 | 0x40 | 0x10 | 0x08 | 0x02 // ATS, ATSS, CTSS, LURS, TRS
  if (cdb.repd) data[3] = 0x0c // ADDITIONAL DATA LENGTH of the extended format
  return { data }
}
