// REQUEST SENSE (SPC-4 6.39): the sense data of a pending unit attention (reported and cleared), a not-ready
// condition with its progress, or the power condition, else NO SENSE. Status GOOD either way: REQUEST SENSE reports
// conditions, it does not fail with them.
import { encodeSense } from '../sense/sense-data.js'
import { SenseKey } from '../sense/sense-key.js'
import { Asc, type AscName } from '../sense/asc.js'
import type { CommandContext, Outcome } from './context.js'

/** Sense data a REQUEST SENSE returns for a key and ASC, in the format DESC asks (SPC-4 6.39.1). */
export function requestSenseData(descriptor: boolean, key: keyof typeof SenseKey, asc: AscName, progress?: number): Buffer {
  const [code, qualifier] = Asc[asc].code
  return encodeSense({
    format: descriptor ? 'descriptor' : 'fixed',
    key: SenseKey[key],
    asc: code,
    ascq: qualifier,
    ...(progress === undefined ? {} : { progress }),
  })
}

export function requestSense(context: CommandContext<'REQUEST_SENSE'>): Outcome {
  const { unit, cdb, nexus } = context
  const attention = unit.attentions.take(nexus.id)
  if (attention !== undefined) return { data: requestSenseData(cdb.desc, 'UNIT_ATTENTION', attention) }
  if (unit.sanitize !== undefined) return { data: requestSenseData(cdb.desc, 'NOT_READY', 'LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS', unit.sanitize.progress) }
  if (unit.medium === 'ejected') return { data: requestSenseData(cdb.desc, 'NOT_READY', 'MEDIUM_NOT_PRESENT_TRAY_OPEN') }
  if (unit.sanitizeFailed !== undefined) return { data: requestSenseData(cdb.desc, 'MEDIUM_ERROR', 'SANITIZE_COMMAND_FAILED') }
  // SPC-4 6.39.2: a low power condition entered by command is reported with NO SENSE.
  if (unit.power === 'idle') return { data: requestSenseData(cdb.desc, 'NO_SENSE', 'IDLE_CONDITION_ACTIVATED_BY_COMMAND') }
  if (unit.power === 'standby') return { data: requestSenseData(cdb.desc, 'NO_SENSE', 'STANDBY_CONDITION_ACTIVATED_BY_COMMAND') }
  if (unit.power === 'stopped') return { data: requestSenseData(cdb.desc, 'NO_SENSE', 'LOW_POWER_CONDITION_ON') }
  return { data: requestSenseData(cdb.desc, 'NO_SENSE', 'NO_ADDITIONAL_SENSE') }
}
