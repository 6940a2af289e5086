// How one command runs on a logical unit (SAM-5 5, 8): task set admission (TASK SET FULL, overlapped tags), the
// wait for its task attribute, unit attention (SAM-5 5.14: INQUIRY, REPORT LUNS and REQUEST SENSE neither report
// nor clear one), CDB parsing, ACA refusal, reservation access control (SPC-4 5.9.1), readiness, the handler, then
// the cut of data-in to the allocation and expected lengths. Every failure becomes a status and sense: never a throw.
import { type ParsedCdb, checkReservedBits, parseCdb } from '../cdb/cdb.js'
import { type CommandName, commandSpec } from '../cdb/commands.js'
import { dataOutBytes } from '../cdb/transfer.js'
import { commandChannel, internalErrorChannel } from '../diagnostics.js'
import { CheckCondition, ScsiError } from '../errors.js'
import { type SenseFormat, senseForError } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import type { CommandContext, DeviceView, Handler, Outcome } from './context.js'
import { handlers } from './dispatch.js'
import type { ScsiCommand, ScsiResult } from './nexus.js'
import { type Task, TaskAbortedError } from './task-set.js'
import type { UnitState } from './unit-state.js'

const OPCODE_INQUIRY = 0x12
const OPCODE_REQUEST_SENSE = 0x03
const OPCODE_REPORT_LUNS = 0xa0

/**
 * Commands a logical unit processes while a sanitize operation is in progress (SBC-3 4.11.2): every other command is
 * terminated with NOT READY, LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS and the progress indication.
 */
const ALLOWED_DURING_SANITIZE: ReadonlySet<CommandName> = new Set<CommandName>(['INQUIRY', 'REPORT_LUNS', 'REQUEST_SENSE'])

/** Commands that run whatever unit attention is pending, and do not clear it (SAM-5 5.14). */
export function isUnitAttentionExempt(opcode: number | undefined): boolean {
  return opcode === OPCODE_INQUIRY || opcode === OPCODE_REQUEST_SENSE || opcode === OPCODE_REPORT_LUNS
}

/** The status and sense for a failure: a ScsiError answers for itself, anything else is a bug (44/00). */
export function failureResult(error: unknown, format: SenseFormat, command: ScsiCommand, dataOutLength?: number): ScsiResult {
  const base = dataOutLength === undefined ? {} : { dataOutLength }
  if (error instanceof TaskAbortedError) return { ...base, status: ScsiStatus.TASK_ABORTED }
  let scsi: ScsiError
  if (error instanceof ScsiError) {
    scsi = error
  } else {
    if (internalErrorChannel.hasSubscribers) internalErrorChannel.publish({ nexusId: command.nexus.id, lun: command.lun, opcode: command.cdb[0], error })
    scsi = new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { cause: error })
  }
  if (scsi.status !== ScsiStatus.CHECK_CONDITION) return { ...base, status: scsi.status }
  return { ...base, status: ScsiStatus.CHECK_CONDITION, sense: senseForError(scsi, format) }
}

/** SAM-5 5.2: NACA=1 in the CONTROL byte asks for ACA, which this device server does not support. */
export function checkNaca(cdb: ParsedCdb): void {
  if ((cdb.control & 0x04) !== 0) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', {
      fieldPointer: { inCdb: true, byte: commandSpec(cdb.name).length - 1, bit: 2 },
      message: 'NACA is not supported',
    })
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * The context handlers get. The task's AbortSignal is made only when a handler asks for it (most never do: they
 * check `aborted` at their checkpoint), so a command costs no AbortController.
 */
class UnitCommandContext implements CommandContext {
  readonly unit: UnitState
  readonly device: DeviceView
  readonly nexus: ScsiCommand['nexus']
  readonly lun: number
  readonly cdb: ParsedCdb
  readonly raw: Buffer
  readonly dataOut: Buffer
  readonly expectedDataOutLength: number
  readonly expectedDataInLength: number
  readonly #task: Task

  constructor(unit: UnitState, device: DeviceView, command: ScsiCommand, cdb: ParsedCdb, task: Task) {
    this.unit = unit
    this.device = device
    this.nexus = command.nexus
    this.lun = command.lun
    this.cdb = cdb
    this.raw = command.cdb
    this.dataOut = command.dataOut ?? EMPTY
    this.expectedDataOutLength = command.expectedDataOutLength ?? command.dataOut?.length ?? 0
    this.expectedDataInLength = command.expectedDataInLength
    this.#task = task
  }

  get signal(): AbortSignal {
    return this.#task.signal
  }

  get aborted(): boolean {
    return this.#task.aborted
  }
}

/**
 * The checks before the handler runs, in SAM-5 order: unit attention, CDB, NACA, reserved bits, feature, reservation
 * access, sanitize, readiness. Throws the CHECK CONDITION that ends the command.
 */
function admitCommand(unit: UnitState, command: ScsiCommand, cdb: ParsedCdb | undefined, parseError: unknown): ParsedCdb {
  const nexusId = command.nexus.id
  unit.attentions.touch(nexusId)
  if (!isUnitAttentionExempt(command.cdb[0])) {
    const attention = unit.attentions.take(nexusId)
    if (attention !== undefined) throw new CheckCondition('UNIT_ATTENTION', attention)
    if (unit.loadFailure !== undefined) throw unit.loadFailure
  }
  if (cdb === undefined) throw parseError
  const spec = commandSpec(cdb.name)
  checkNaca(cdb)
  checkReservedBits(cdb.name, command.cdb)
  if (spec.feature !== undefined && !unit.supports(spec.feature)) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_COMMAND_OPERATION_CODE', { message: `${spec.text} is not supported by this logical unit` })
  }
  unit.reservations.checkAccess(command.nexus, command.cdb)
  if (unit.sanitize !== undefined && !ALLOWED_DURING_SANITIZE.has(cdb.name)) {
    throw new CheckCondition('NOT_READY', 'LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS', { progress: unit.sanitize.progress })
  }
  if (spec.access !== undefined) unit.checkReady(spec.access)
  return cdb
}

/** The result of a handler's outcome: data-in cut to the allocation and expected lengths. */
function resultOf(cdb: ParsedCdb, outcome: Outcome, command: ScsiCommand, dataOutLength: number): ScsiResult {
  const status = outcome.status ?? ScsiStatus.GOOD
  if (commandSpec(cdb.name).direction !== 'in') return { status, dataOutLength }
  const data = outcome.data ?? EMPTY
  let length = outcome.dataLength ?? data.length
  // SPC-4 4.2.5.6: parameter data is cut to the ALLOCATION LENGTH; the residual is counted against what is sent.
  if (outcome.dataLength === undefined && 'allocationLength' in cdb) length = Math.min(length, cdb.allocationLength)
  const sent = Math.min(length, Math.max(command.expectedDataInLength, 0), data.length)
  const dataIn = sent === data.length ? data : data.subarray(0, sent)
  return outcome.release === undefined
    ? { status, dataIn, dataInLength: length, dataOutLength }
    : { status, dataIn, dataInLength: length, dataOutLength, release: outcome.release }
}

/** Run a command on a logical unit; resolves with its result, never rejects. */
export async function executeOnUnit(unit: UnitState, command: ScsiCommand, device: DeviceView): Promise<ScsiResult> {
  const started = commandChannel.hasSubscribers ? performance.now() : 0
  // Parsed once: for the data-out length every result reports, and for the handler.
  let cdb: ParsedCdb | undefined
  let parseError: unknown
  try {
    cdb = parseCdb(command.cdb)
  } catch (error) {
    parseError = error
  }
  let dataOutLength = 0
  if (cdb !== undefined) {
    try {
      dataOutLength = dataOutBytes(cdb, unit.blockSize)
    } catch {
      dataOutLength = 0
    }
  }
  let result: ScsiResult
  let name: string | undefined
  if (command.attribute === 'aca') {
    // No ACA condition can exist (NACA is refused), so an ACA task is an error (SAM-5 5.9.2).
    result = failureResult(new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { message: 'the ACA task attribute is not supported' }), unit.senseFormat, command, dataOutLength)
  } else {
    const admission = unit.tasks.admit(command.nexus.id, command.tag, command.attribute, command.signal)
    if ('refused' in admission) {
      result =
        admission.refused === 'task-set-full'
          ? { status: ScsiStatus.TASK_SET_FULL, dataOutLength }
          : failureResult(new CheckCondition('ABORTED_COMMAND', 'OVERLAPPED_COMMANDS_ATTEMPTED', { message: `tag ${command.tag} is already in use` }), unit.senseFormat, command, dataOutLength)
    } else {
      const { task } = admission
      try {
        const waiting = unit.tasks.enabled(task)
        if (waiting !== undefined) await waiting
        if (!unit.ready) await unit.loaded
        const parsed = admitCommand(unit, command, cdb, parseError)
        const outcome = await (handlers[parsed.name] as Handler<CommandName>)(new UnitCommandContext(unit, device, command, parsed, task))
        name = parsed.name
        result = task.aborted ? { status: ScsiStatus.TASK_ABORTED, dataOutLength } : resultOf(parsed, outcome, command, dataOutLength)
      } catch (error) {
        result = task.aborted ? { status: ScsiStatus.TASK_ABORTED, dataOutLength } : failureResult(error, unit.senseFormat, command, dataOutLength)
      } finally {
        unit.tasks.complete(task)
      }
    }
  }
  if (commandChannel.hasSubscribers) publishCommand(command, result, name, started === 0 ? performance.now() : started)
  return result
}

export function publishCommand(command: ScsiCommand, result: ScsiResult, name: string | undefined, started: number): void {
  if (!commandChannel.hasSubscribers) return
  const sense = result.sense
  commandChannel.publish({
    nexusId: command.nexus.id,
    lun: command.lun,
    tag: command.tag,
    opcode: command.cdb[0] ?? -1,
    command: name,
    status: result.status,
    ...(sense === undefined ? {} : senseSummary(sense)),
    durationMs: performance.now() - started,
  })
}

function senseSummary(sense: Buffer): { senseKey: number; asc: number; ascq: number } {
  const descriptor = (sense[0]! & 0x7f) >= 0x72
  return descriptor ? { senseKey: sense[1]! & 0x0f, asc: sense[2]!, ascq: sense[3]! } : { senseKey: sense[2]! & 0x0f, asc: sense[12]!, ascq: sense[13]! }
}
