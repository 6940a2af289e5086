// Task management functions (RFC 7143 11.5, 11.6; RFC 7144 4 for the SAM-4/5 additions). Each affected task is
// terminated without a response of its own (RFC 7143 4.2.3.3), the device server is told (SAM-5 7), and the
// function's response is sent only once every affected task is gone.
import { TaskManagementFunction, TaskManagementResponseCode } from '@iscsi-ts/pdu'
import type { TaskManagementRequestPdu } from '@iscsi-ts/pdu'
import { decodeLun } from '@iscsi-ts/pdu'
import { snLt } from './serial.js'
import type { Session, SessionConnection } from './session.js'
import type { Task } from './task.js'
import type { TargetNode } from './target-node.js'

export interface TaskManagementHost<C extends SessionConnection> {
  /** Every live session of a target node (LUN and target resets reach all initiators). */
  sessionsOf(node: TargetNode): Session<C>[]
}

export interface TaskManagementOutcome {
  readonly response: number
  /** Runs after the response is sent (TARGET COLD RESET drops every connection, RFC 7143 11.5.1). */
  readonly after?: () => void
}

const R = TaskManagementResponseCode
const F = TaskManagementFunction

/** Terminate tasks and wait until none of them is still in the device. */
async function terminateAll<C extends SessionConnection>(entries: Array<[Session<C>, Task<C>]>): Promise<void> {
  for (const [session, task] of entries) session.terminateTask(task)
  await Promise.all(entries.map(([, task]) => task.settled))
}

function visibleLun(pdu: TaskManagementRequestPdu): number {
  try {
    return decodeLun(pdu.lun)
  } catch {
    return -1
  }
}

export async function performTaskManagement<C extends SessionConnection>(
  session: Session<C>,
  pdu: TaskManagementRequestPdu,
  host: TaskManagementHost<C>,
): Promise<TaskManagementOutcome> {
  const node = session.node
  const nexus = session.nexus
  const fn = pdu.function
  if (node === undefined || nexus === undefined) return { response: R.FunctionNotSupported }
  const device = node.device

  /** The target LUN behind the request's LUN field, or undefined when the initiator has no such LUN. */
  const targetLun = (): number | undefined => {
    const visible = visibleLun(pdu)
    if (visible < 0) return undefined
    const real = session.view.resolve(visible)
    if (real === undefined || !device.logicalUnits().has(real)) return undefined
    return real
  }

  switch (fn) {
    case F.AbortTask: {
      const task = session.tasks.get(pdu.referencedTaskTag)
      if (task === undefined) {
        // RFC 7143 11.5.1: a RefCmdSN inside the window and below this request's CmdSN that has not arrived is
        // considered received and the abort succeeds; otherwise the task does not exist.
        if (session.window.isPending(pdu.refCmdSN) && snLt(pdu.refCmdSN, pdu.cmdSN)) {
          session.consumeCmdSN(pdu.refCmdSN)
          return { response: R.FunctionComplete }
        }
        return { response: R.TaskDoesNotExist }
      }
      // RFC 7143 11.5.5: RefCmdSN is used only when the task is not with the target; for a task of an immediate
      // command it is the request's own CmdSN, not the task's. The Referenced Task Tag alone names the task.
      const real = task.lun >= 0 ? session.view.resolve(task.lun) : undefined
      await terminateAll([[session, task]])
      if (real !== undefined) device.abortTask(nexus, real, task.itt)
      return { response: R.FunctionComplete }
    }
    case F.AbortTaskSet: {
      const real = targetLun()
      if (real === undefined) return { response: R.LunDoesNotExist }
      await terminateAll(session.tasksOnTargetLun(real).map((task) => [session, task] as [Session<C>, Task<C>]))
      device.abortTaskSet(nexus, real)
      return { response: R.FunctionComplete }
    }
    case F.ClearAca:
      // No ACA support (NACA=0 in every CDB we accept): the function is not supported.
      return { response: R.FunctionNotSupported }
    case F.ClearTaskSet:
    case F.LogicalUnitReset: {
      const real = targetLun()
      if (real === undefined) return { response: R.LunDoesNotExist }
      const entries: Array<[Session<C>, Task<C>]> = []
      for (const other of host.sessionsOf(node)) {
        for (const task of other.tasksOnTargetLun(real)) entries.push([other, task])
      }
      await terminateAll(entries)
      if (fn === F.ClearTaskSet) device.clearTaskSet(nexus, real)
      else device.lunReset(nexus, real)
      return { response: R.FunctionComplete }
    }
    case F.TargetWarmReset:
    case F.TargetColdReset: {
      const sessions = host.sessionsOf(node)
      const entries: Array<[Session<C>, Task<C>]> = []
      for (const other of sessions) for (const task of other.tasks.values()) entries.push([other, task])
      await terminateAll(entries)
      device.targetReset(nexus, fn === F.TargetWarmReset ? 'warm' : 'cold')
      if (fn === F.TargetWarmReset) return { response: R.FunctionComplete }
      // RFC 7143 11.5.1: after the response to TARGET COLD RESET the target closes all its connections.
      return {
        response: R.FunctionComplete,
        after: () => {
          for (const other of host.sessionsOf(node)) other.close('target cold reset')
        },
      }
    }
    case F.TaskReassign:
      // Allegiance reassignment needs ErrorRecoveryLevel 2 (RFC 7143 6.2.2, 11.6.1); this target runs at 0.
      return { response: R.TaskAllegianceReassignmentNotSupported }
    case F.QueryTask: {
      // RFC 7144 4.1.1: "function succeeded" when the task exists, "function complete" when it does not.
      const task = session.tasks.get(pdu.referencedTaskTag)
      return { response: task === undefined ? R.FunctionComplete : R.FunctionSucceeded }
    }
    case F.QueryTaskSet: {
      const real = targetLun()
      if (real === undefined) return { response: R.LunDoesNotExist }
      return { response: session.tasksOnTargetLun(real).length > 0 ? R.FunctionSucceeded : R.FunctionComplete }
    }
    case F.ITNexusReset: {
      // RFC 7144 4.1.3: every task of this I_T nexus ends; the device sees the nexus lost.
      await terminateAll([...session.tasks.values()].map((task) => [session, task] as [Session<C>, Task<C>]))
      device.nexusLoss(nexus)
      return { response: R.FunctionComplete }
    }
    default:
      return { response: R.FunctionNotSupported }
  }
}
