// Observability of the device server through node:diagnostics_channel (the package never prints). Apps subscribe
// and turn the events into logs and metrics.
import { channel } from 'node:diagnostics_channel'

/** Published when a command completes: `{ nexusId, lun, tag, opcode, command, status, senseKey?, asc?, ascq?, durationMs }`. */
export const commandChannel = channel('iscsi:scsi:command')
/** Published when a handler or backstore throws something that is not a ScsiError (a bug): `{ nexusId, lun, opcode, error }`. */
export const internalErrorChannel = channel('iscsi:scsi:internal-error')
/** Published on task management and unit inventory changes: `{ event, nexusId?, lun?, tag?, aborted? }`. */
export const taskManagementChannel = channel('iscsi:scsi:task-management')

export interface CommandEvent {
  readonly nexusId: string
  readonly lun: number
  readonly tag: number
  readonly opcode: number
  readonly command: string | undefined
  readonly status: number
  readonly senseKey?: number
  readonly asc?: number
  readonly ascq?: number
  readonly durationMs: number
}
