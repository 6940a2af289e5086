// The SCSI target device (SAM-5 4.6): the LU inventory, routing of commands to each LU's device server, the
// commands a LUN without a logical unit still answers (INQUIRY, REPORT LUNS, REQUEST SENSE), task management
// (SAM-5 7) and the copy manager shared by the LUs. Transport free: the transport builds Nexus and ScsiCommand.
import { parseCdb } from '../cdb/cdb.js'
import { dataOutBytes } from '../cdb/transfer.js'
import { CopyManager } from '../copy/extended-copy.js'
import { taskManagementChannel } from '../diagnostics.js'
import { CheckCondition } from '../errors.js'
import { MAX_LUN } from '../lun.js'
import { ScsiStatus } from '../status.js'
import type { DeviceView } from './context.js'
import { checkNaca, executeOnUnit, failureResult, isUnitAttentionExempt, publishCommand } from './execute.js'
import { unitIdentity } from './identity.js'
import { VersionDescriptor } from './inquiry-data.js'
import { inquiryWithoutUnit } from './inquiry.js'
import { LockedBackstore } from './locked-backstore.js'
import { type LogicalUnit, unitState } from './logical-unit.js'
import type { Nexus, ScsiCommand, ScsiResult } from './nexus.js'
import { reportLuns } from './report-luns.js'
import { requestSenseData } from './request-sense.js'
import type { UnitState } from './unit-state.js'

export interface ScsiTargetDeviceOptions {
  /** T10 vendor identification (8 characters; default "ISCSI-TS"). */
  readonly vendor?: string
  /** Product identification (16 characters; default "VIRTUAL-DISK"). */
  readonly product?: string
  /** Product revision level (4 characters; default "0001"). */
  readonly revision?: string
  /** Version descriptors of standard INQUIRY data (default SAM-5, SPC-4, SBC-3, iSCSI). */
  readonly versionDescriptors?: readonly number[]
}

export type TargetResetKind = 'warm' | 'cold'

const DEFAULT_DESCRIPTORS = [VersionDescriptor.SAM_5, VersionDescriptor.SPC_4, VersionDescriptor.SBC_3, VersionDescriptor.ISCSI]

export class ScsiTargetDevice {
  readonly vendor: string
  readonly product: string
  readonly revision: string
  /** The copy manager of EXTENDED COPY, reaching every LU of this device by its NAA designator. */
  readonly copyManager: CopyManager
  readonly #units = new Map<number, LogicalUnit>()
  readonly #nexuses = new Map<string, Nexus>()
  readonly #views = new WeakMap<UnitState, LockedBackstore>()
  readonly #view: DeviceView
  #closed: Promise<void> | undefined

  constructor(options: ScsiTargetDeviceOptions = {}) {
    this.vendor = options.vendor ?? 'ISCSI-TS'
    this.product = options.product ?? 'VIRTUAL-DISK'
    this.revision = options.revision ?? '0001'
    const versionDescriptors = [...(options.versionDescriptors ?? DEFAULT_DESCRIPTORS)]
    this.copyManager = new CopyManager({ resolve: (designator) => this.#resolveCopyUnit(designator) })
    this.#view = {
      vendor: this.vendor,
      product: this.product,
      revision: this.revision,
      versionDescriptors,
      luns: () => [...this.#units.keys()].sort((a, b) => a - b),
      knownNexuses: () => this.#nexuses.values(),
      reportedLuns: (nexusId) => {
        for (const unit of this.#units.values()) unitState(unit).attentions.clear(nexusId, 'REPORTED_LUNS_DATA_HAS_CHANGED')
      },
      copy: this.copyManager,
    }
  }

  #resolveCopyUnit(designator: Buffer) {
    for (const unit of this.#units.values()) {
      const state = unitState(unit)
      if (!state.identity.naa.equals(designator)) continue
      let view = this.#views.get(state)
      if (view === undefined) {
        view = new LockedBackstore(state)
        this.#views.set(state, view)
      }
      return { backstore: view, readOnly: state.writeProtection !== undefined }
    }
    return undefined
  }

  /** Add a logical unit at a LUN (0-16383). Every I_T nexus learns REPORTED LUNS DATA HAS CHANGED (SPC-4 6.33). */
  addLogicalUnit(lun: number, unit: LogicalUnit): void {
    if (!Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) throw new RangeError(`LUN ${lun} is outside 0-${MAX_LUN}`)
    if (this.#units.has(lun)) throw new RangeError(`LUN ${lun} already has a logical unit`)
    const state = unitState(unit)
    if (state.attached) throw new TypeError('the logical unit already belongs to a target device')
    const { options } = state
    state.attach(
      unitIdentity(
        {
          vendor: options.vendor ?? this.vendor,
          product: options.product ?? this.product,
          revision: options.revision ?? this.revision,
          ...(options.serial === undefined ? {} : { serial: options.serial }),
          ...(options.naa === undefined ? {} : { naa: options.naa }),
        },
        lun,
        state.backstore.name,
      ),
    )
    state.abortNexusTasks = (nexusIds) => {
      // PREEMPT AND ABORT (SPC-4 5.9.11.5): the preempted nexuses' tasks go, and each learns why.
      const aborted = state.tasks.abort((task) => nexusIds.includes(task.nexusId))
      for (const nexusId of new Set(aborted.map((task) => task.nexusId))) state.attentions.establish(nexusId, 'COMMANDS_CLEARED_BY_ANOTHER_INITIATOR')
    }
    this.#inventoryChanged()
    this.#units.set(lun, unit)
    publish({ event: 'add-logical-unit', lun })
  }

  /** Remove the logical unit at a LUN (its backstore stays open: the caller owns it now). */
  removeLogicalUnit(lun: number): void {
    const unit = this.#units.get(lun)
    if (unit === undefined) return
    this.#units.delete(lun)
    unitState(unit).attach(undefined)
    this.#inventoryChanged()
    publish({ event: 'remove-logical-unit', lun })
  }

  #inventoryChanged(): void {
    for (const unit of this.#units.values()) unitState(unit).attentions.establishAll('REPORTED_LUNS_DATA_HAS_CHANGED')
  }

  logicalUnits(): ReadonlyMap<number, LogicalUnit> {
    return new Map([...this.#units.entries()].sort(([a], [b]) => a - b))
  }

  /** Run a command. Never rejects: every failure is a status and sense. */
  async execute(command: ScsiCommand): Promise<ScsiResult> {
    try {
      const nexuses = this.#nexuses
      if (nexuses.get(command.nexus.id) !== command.nexus) nexuses.set(command.nexus.id, command.nexus)
      const unit = this.#closed === undefined ? this.#units.get(command.lun) : undefined
      if (unit !== undefined) return await executeOnUnit(unitState(unit), command, this.#view)
      const started = performance.now()
      const result = this.#executeWithoutUnit(command)
      publishCommand(command, result, undefined, started)
      return result
    } catch (error) {
      // executeOnUnit does not throw; this guards the guard.
      return failureResult(error, 'fixed', command)
    }
  }

  /** A LUN without a logical unit (SPC-4 6.4.2, 6.33, 6.39; SAM-5 5.9.5): LOGICAL UNIT NOT SUPPORTED otherwise. */
  #executeWithoutUnit(command: ScsiCommand): ScsiResult {
    const opcode = command.cdb[0]
    try {
      if (!isUnitAttentionExempt(opcode)) throw new CheckCondition('ILLEGAL_REQUEST', 'LOGICAL_UNIT_NOT_SUPPORTED', { message: `no logical unit at LUN ${command.lun}` })
      const cdb = parseCdb(command.cdb)
      checkNaca(cdb)
      const context = { device: this.#view, nexus: command.nexus, lun: command.lun, raw: command.cdb, dataOut: Buffer.alloc(0), expectedDataOutLength: 0, expectedDataInLength: command.expectedDataInLength, signal: new AbortController().signal, aborted: false }
      let data: Buffer
      let allocation: number
      if (cdb.name === 'INQUIRY') {
        data = inquiryWithoutUnit({ ...context, cdb }, this.#view).data!
        allocation = cdb.allocationLength
      } else if (cdb.name === 'REPORT_LUNS') {
        data = reportLuns({ ...context, cdb }, this.#view).data!
        allocation = cdb.allocationLength
      } else if (cdb.name === 'REQUEST_SENSE') {
        data = requestSenseData(cdb.desc, 'ILLEGAL_REQUEST', 'LOGICAL_UNIT_NOT_SUPPORTED')
        allocation = cdb.allocationLength
      } else {
        throw new CheckCondition('ILLEGAL_REQUEST', 'LOGICAL_UNIT_NOT_SUPPORTED')
      }
      const length = Math.min(data.length, allocation)
      return { status: ScsiStatus.GOOD, dataIn: data.subarray(0, Math.min(length, Math.max(command.expectedDataInLength, 0))), dataInLength: length }
    } catch (error) {
      return failureResult(error, 'fixed', command)
    }
  }

  /** Bytes of data-out a CDB asks for (0 when it does not parse or asks none), so the transport can solicit it. */
  dataOutLength(lun: number, cdb: Buffer): number {
    const unit = this.#units.get(lun)
    try {
      const parsed = parseCdb(cdb)
      if (unit === undefined) {
        // Without a LU only the parameter lists have a known length; block data has no block size.
        return 'parameterListLength' in parsed ? parsed.parameterListLength : 0
      }
      return dataOutBytes(parsed, unitState(unit).blockSize)
    } catch {
      return 0
    }
  }

  #state(lun: number): UnitState | undefined {
    const unit = this.#units.get(lun)
    return unit === undefined ? undefined : unitState(unit)
  }

  /** ABORT TASK (SAM-5 7.2). The command's promise resolves with TASK ABORTED once its backstore work is done. */
  abortTask(nexus: Nexus, lun: number, tag: number): 'aborted' | 'not-found' {
    const state = this.#state(lun)
    const aborted = state?.tasks.abort((task) => task.nexusId === nexus.id && task.tag === tag) ?? []
    publish({ event: 'abort-task', nexusId: nexus.id, lun, tag, aborted: aborted.length })
    return aborted.length > 0 ? 'aborted' : 'not-found'
  }

  /** ABORT TASK SET (SAM-5 7.3): every task of this I_T nexus on the LU. */
  abortTaskSet(nexus: Nexus, lun: number): void {
    const aborted = this.#state(lun)?.tasks.abort((task) => task.nexusId === nexus.id) ?? []
    publish({ event: 'abort-task-set', nexusId: nexus.id, lun, aborted: aborted.length })
  }

  /**
   * CLEAR TASK SET (SAM-5 7.4): every task on the LU, from every I_T nexus; each other nexus that lost a task
   * learns COMMANDS CLEARED BY ANOTHER INITIATOR (TAS=0).
   */
  clearTaskSet(nexus: Nexus, lun: number): void {
    const state = this.#state(lun)
    if (state === undefined) return
    const aborted = state.tasks.abort(() => true)
    for (const nexusId of new Set(aborted.map((task) => task.nexusId))) {
      if (nexusId !== nexus.id) state.attentions.establish(nexusId, 'COMMANDS_CLEARED_BY_ANOTHER_INITIATOR')
    }
    publish({ event: 'clear-task-set', nexusId: nexus.id, lun, aborted: aborted.length })
  }

  #resetUnit(state: UnitState, asc: 'BUS_DEVICE_RESET_FUNCTION_OCCURRED' | 'POWER_ON_OCCURRED'): number {
    const aborted = state.tasks.abort(() => true)
    state.resetState()
    state.attentions.establishAll(asc)
    return aborted.length
  }

  /**
   * LOGICAL UNIT RESET (SAM-5 7.7, 6.3.3): abort every task, release SPC-2 reservations, reset mode pages and
   * medium removal prevention, and establish BUS DEVICE RESET FUNCTION OCCURRED for every I_T nexus.
   */
  lunReset(nexus: Nexus, lun: number): void {
    const state = this.#state(lun)
    if (state === undefined) return
    const aborted = this.#resetUnit(state, 'BUS_DEVICE_RESET_FUNCTION_OCCURRED')
    publish({ event: 'lun-reset', nexusId: nexus.id, lun, aborted })
  }

  /**
   * TARGET WARM RESET / TARGET COLD RESET (RFC 7143 11.5.1, SAM-5 6.3): a reset of every LU, and a unit attention for
   * every I_T nexus, the one that asked included (BUS DEVICE RESET FUNCTION OCCURRED, the old name of a target reset);
   * cold is a power on (POWER ON OCCURRED). An I_T nexus formed after the reset gets POWER ON, RESET, OR BUS DEVICE
   * RESET OCCURRED (29/00) on its first command instead, as every new nexus does.
   */
  targetReset(nexus: Nexus, kind: TargetResetKind): void {
    let aborted = 0
    for (const unit of this.#units.values()) aborted += this.#resetUnit(unitState(unit), kind === 'warm' ? 'BUS_DEVICE_RESET_FUNCTION_OCCURRED' : 'POWER_ON_OCCURRED')
    publish({ event: `target-${kind}-reset`, nexusId: nexus.id, aborted })
  }

  /**
   * I_T nexus loss (SAM-5 6.3.4): the nexus's tasks are aborted, its SPC-2 reservation and medium removal
   * prevention released, and it learns I_T NEXUS LOSS OCCURRED when it comes back.
   */
  nexusLoss(nexus: Nexus): void {
    let aborted = 0
    for (const unit of this.#units.values()) {
      const state = unitState(unit)
      aborted += state.tasks.abort((task) => task.nexusId === nexus.id).length
      state.preventers.delete(nexus.id)
      state.reservations.nexusLoss(nexus)
      state.attentions.depart(nexus.id)
    }
    this.copyManager.nexusLoss(nexus)
    // Gone from PERSISTENT RESERVE OUT's view of connected nexuses; the LUs keep it for its unit attention.
    this.#nexuses.delete(nexus.id)
    publish({ event: 'nexus-loss', nexusId: nexus.id, aborted })
  }

  /** Abort every task, wait for them and for background work, then close every LU's backstore. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const units = [...this.#units.values()]
      for (const unit of units) unitState(unit).tasks.abort(() => true)
      await Promise.all(units.map((unit) => unit.close()))
      this.#units.clear()
    })()
    return this.#closed
  }
}

function publish(event: Record<string, unknown>): void {
  if (taskManagementChannel.hasSubscribers) taskManagementChannel.publish(event)
}
