// START STOP UNIT (SBC-3 5.25) and PREVENT ALLOW MEDIUM REMOVAL (SBC-3 5.12): power conditions, stopping with a
// cache flush, ejecting and loading a removable medium, and medium removal prevention per I_T nexus.
import { invalidField } from '../cdb/cdb.js'
import { CheckCondition } from '../errors.js'
import { type CommandContext, GOOD, type Outcome } from './context.js'

/** POWER CONDITION values (SBC-3 5.25 table 98) with the largest POWER CONDITION MODIFIER each accepts. */
export const PowerConditionCode = {
  START_VALID: 0x0,
  ACTIVE: 0x1,
  IDLE: 0x2,
  STANDBY: 0x3,
  LU_CONTROL: 0x7,
  FORCE_IDLE_0: 0xa,
  FORCE_STANDBY_0: 0xb,
} as const

const maxModifier: Readonly<Record<number, number>> = { 0x0: 0, 0x1: 0, 0x2: 2, 0x3: 1, 0x7: 0, 0xa: 0, 0xb: 0 }

export async function startStopUnit(context: CommandContext<'START_STOP_UNIT'>): Promise<Outcome> {
  const { unit, cdb } = context
  const limit = maxModifier[cdb.powerCondition]
  if (limit === undefined) throw invalidField('START_STOP_UNIT', 'powerCondition', `POWER CONDITION ${cdb.powerCondition} is not supported`)
  if (cdb.powerConditionModifier > limit) throw invalidField('START_STOP_UNIT', 'powerConditionModifier', `POWER CONDITION MODIFIER ${cdb.powerConditionModifier} is not valid`)
  switch (cdb.powerCondition) {
    case PowerConditionCode.ACTIVE:
    case PowerConditionCode.LU_CONTROL:
      // LU_CONTROL hands power management back to the LU, which has no timers: it stays active.
      unit.power = 'active'
      return GOOD
    case PowerConditionCode.IDLE:
    case PowerConditionCode.FORCE_IDLE_0:
      unit.power = 'idle'
      return GOOD
    case PowerConditionCode.STANDBY:
    case PowerConditionCode.FORCE_STANDBY_0:
      // Standby writes the cache out first (SBC-3 4.19.x).
      await unit.io('flush', () => unit.backstore.flush())
      unit.power = 'standby'
      return GOOD
  }
  // START_VALID: process START and LOEJ.
  if (cdb.loej && !unit.removable) throw invalidField('START_STOP_UNIT', 'loej', 'the medium is not removable')
  if (cdb.loej && unit.preventers.size > 0) {
    // SBC-3 5.25: loading or ejecting while removal is prevented.
    throw new CheckCondition('ILLEGAL_REQUEST', 'MEDIUM_REMOVAL_PREVENTED', { message: `medium removal prevented by ${unit.preventers.size} I_T nexus(es)` })
  }
  if (cdb.start) {
    // Loading closes the tray on the medium that was ejected: the same backstore, so the medium cannot have changed
    // and no nexus is told NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED (28/00). SBC-3 5.25 calls for no unit
    // attention here, and tgt establishes none; a nexus that met MEDIUM NOT PRESENT just finds the LU ready again.
    // A medium changed from outside (LogicalUnit.setMedium) is a real medium change and does raise 28/00.
    if (cdb.loej) unit.medium = 'present'
    unit.power = 'active'
    return GOOD
  }
  // Stop: the cache goes to the medium unless NO_FLUSH (SBC-3 5.25), then the medium is ejected if LOEJ.
  if (!cdb.noFlush && unit.medium === 'present') await unit.io('flush', () => unit.backstore.flush())
  unit.power = 'stopped'
  if (cdb.loej) unit.medium = 'ejected'
  return GOOD
}

/** PREVENT values (SBC-3 5.12 table 69): 00b allow, 01b prevent; 10b and 11b are obsolete. */
export function preventAllowMediumRemoval(context: CommandContext<'PREVENT_ALLOW_MEDIUM_REMOVAL'>): Outcome {
  const { unit, cdb, nexus } = context
  if (cdb.prevent > 1) throw invalidField('PREVENT_ALLOW_MEDIUM_REMOVAL', 'prevent', `PREVENT ${cdb.prevent} is obsolete`)
  if (cdb.prevent === 1) unit.preventers.add(nexus.id)
  else unit.preventers.delete(nexus.id)
  return GOOD
}
