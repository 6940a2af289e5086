// CDB USAGE DATA (SPC-4 6.35.3, REPORT SUPPORTED OPERATION CODES one_command format): one bit per CDB bit, set for
// the bits the device server evaluates. Derived from the opcode table so it cannot drift from the parser.
import { type CommandName, commandSpec } from './commands.js'
import { markField } from './fields.js'

/**
 * The usage data of a command. SPC-4 6.35.3: byte 0 holds the operation code and, for a command with service
 * actions, the SERVICE ACTION field holds the service action code; every other bit is 1 where the device server
 * evaluates it. The CONTROL byte reports 0: NACA is not supported (an ACA request is rejected, not honoured) and
 * LINK is obsolete.
 */
export function cdbUsageData(name: CommandName, serviceAction?: number): Buffer {
  const spec = commandSpec(name)
  const mask = Buffer.alloc(spec.length)
  for (const [field, layout] of Object.entries(spec.fields)) {
    if (field !== 'serviceAction') markField(mask, layout)
  }
  mask[0] = spec.opcode
  const action = spec.serviceAction ?? serviceAction
  if (action !== undefined) mask[1] = (mask[1]! & 0xe0) | (action & 0x1f)
  return mask
}
