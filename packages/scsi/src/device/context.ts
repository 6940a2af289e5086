// What a command handler gets and gives back. Handlers are plain functions over the LU state (unit-state.ts) and a
// view of the target device, one per command name (dispatch.ts).
import type { CdbOf } from '../cdb/cdb.js'
import type { CommandName } from '../cdb/commands.js'
import type { CopyManager } from '../copy/extended-copy.js'
import type { Nexus } from './nexus.js'
import { TaskAbortedError } from './task-set.js'
import type { UnitState } from './unit-state.js'

/** What the target device offers its LUs' handlers. */
export interface DeviceView {
  readonly vendor: string
  readonly product: string
  readonly revision: string
  readonly versionDescriptors: readonly number[]
  /** LUNs of the inventory, ascending. */
  luns(): number[]
  /** Every I_T nexus that has sent a command (PERSISTENT RESERVE OUT with ALL_TG_PT and REGISTER AND MOVE). */
  knownNexuses(): Iterable<Nexus>
  /** REPORT LUNS ran for a nexus: clear its REPORTED LUNS DATA HAS CHANGED on every LU (SPC-4 6.33). */
  reportedLuns(nexusId: string): void
  readonly copy: CopyManager
}

export interface CommandContext<N extends CommandName = CommandName> {
  readonly unit: UnitState
  readonly device: DeviceView
  readonly nexus: Nexus
  readonly lun: number
  readonly cdb: CdbOf<N>
  /** The CDB bytes as received. */
  readonly raw: Buffer
  /** Data-out as received (may be shorter or longer than the CDB asks). */
  readonly dataOut: Buffer
  /** Bytes of data-out the initiator announced (the transport's expected length; `dataOut.length` when it gives none). */
  readonly expectedDataOutLength: number
  readonly expectedDataInLength: number
  /** Aborted by task management. */
  readonly signal: AbortSignal
  /** The task was aborted (the same as `signal.aborted`, without making the signal). */
  readonly aborted: boolean
}

/** The result of a handler. `data` is the parameter data (cut to the allocation length by the dispatcher) or read data. */
export interface Outcome {
  readonly status?: number
  readonly data?: Buffer
  /** Bytes the command would transfer when that differs from data.length (reads cut to the expected length). */
  readonly dataLength?: number
  /** Gives `data` back to its pool once the transport is done with it (passed on as ScsiResult.release). */
  readonly release?: () => void
}

export type Handler<N extends CommandName> = (context: CommandContext<N>) => Promise<Outcome> | Outcome

/** Every command has a handler: the compiler checks the table is complete. */
export type HandlerTable = { readonly [N in CommandName]: Handler<N> }

export const GOOD: Outcome = {}

/**
 * Settle as `work` does, or reject with TaskAbortedError as soon as the task is aborted: the command ends (its task
 * management function can complete) while the work itself goes on, for operations that outlive their command.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new TaskAbortedError())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TaskAbortedError())
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** Stop before modifying the medium when the task was aborted (SAM-5 7.2: leave no half-done work where avoidable). */
export function checkpoint(context: CommandContext): void {
  if (context.aborted) throw new TaskAbortedError()
}
