// Commands the device server hands to other modules of the package: persistent reservations and SPC-2
// RESERVE/RELEASE (reservations/, SPC-4 5.9, 6.15, 6.16) and third-party copy (copy/, SPC-4 6.4, 6.18).
import { CheckCondition } from '../errors.js'
import { type CommandContext, GOOD, type Outcome } from './context.js'

/** The parameter list of a data-out command, refusing one the initiator sent short (SPC-4 4.5.6, 1A/00). */
function parameterList(context: CommandContext, length: number): Buffer {
  if (context.dataOut.length < length) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: `${context.dataOut.length} bytes of data-out for a ${length}-byte parameter list` })
  }
  return context.dataOut.subarray(0, length)
}

export function persistentReserveIn(context: CommandContext<'PERSISTENT_RESERVE_IN'>): Outcome {
  return { data: context.unit.reservations.persistentReserveIn(context.nexus, context.raw) }
}

export async function persistentReserveOut(context: CommandContext<'PERSISTENT_RESERVE_OUT'>): Promise<Outcome> {
  const parameters = parameterList(context, context.cdb.parameterListLength)
  await context.unit.reservations.persistentReserveOut(context.nexus, context.raw, parameters, () => context.device.knownNexuses())
  return GOOD
}

export function reserve(context: CommandContext<'RESERVE_6' | 'RESERVE_10'>): Outcome {
  context.unit.reservations.reserve(context.nexus, context.raw)
  return GOOD
}

export function release(context: CommandContext<'RELEASE_6' | 'RELEASE_10'>): Outcome {
  context.unit.reservations.release(context.nexus, context.raw)
  return GOOD
}

export async function extendedCopy(context: CommandContext<'EXTENDED_COPY'>): Promise<Outcome> {
  const parameters = parameterList(context, context.cdb.parameterListLength)
  await context.device.copy.extendedCopy(context.nexus, context.raw, parameters, context.signal)
  return GOOD
}

export function receiveCopyResults(context: CommandContext<'RECEIVE_COPY_RESULTS'>): Outcome {
  return { data: context.device.copy.receiveCopyResults(context.nexus, context.raw) }
}
