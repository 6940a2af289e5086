// A logical unit: a block device server (SBC-3) over a backstore. Added to a ScsiTargetDevice, which routes
// commands and task management to it. Its state lives in UnitState; this class is the public face.
import type { Backstore } from '../backstore/backstore.js'
import { CheckCondition } from '../errors.js'
import type { AscName } from '../sense/asc.js'
import { type LogicalUnitOptions, UnitState } from './unit-state.js'

const states = new WeakMap<LogicalUnit, UnitState>()

/** The state behind a logical unit (for the target device; not exported from the package). */
export function unitState(unit: LogicalUnit): UnitState {
  const state = states.get(unit)
  if (state === undefined) throw new TypeError('not a LogicalUnit')
  return state
}

export class LogicalUnit {
  constructor(options: LogicalUnitOptions) {
    states.set(this, new UnitState(options))
  }

  get backstore(): Backstore {
    return unitState(this).backstore
  }

  get blockSize(): number {
    return unitState(this).blockSize
  }

  get blockCount(): number {
    return unitState(this).blockCount
  }

  /** Writes are refused: read-only LU or backstore, or software write protect (control mode page SWP). */
  get writeProtected(): boolean {
    return unitState(this).writeProtection !== undefined
  }

  get removable(): boolean {
    return unitState(this).removable
  }

  get thinProvisioned(): boolean {
    return unitState(this).thin
  }

  /** VPD 80h serial number, once the LU is part of a target device. */
  get serial(): string | undefined {
    const state = unitState(this)
    return state.attached ? state.identity.serial : undefined
  }

  /** VPD 83h NAA designator bytes, once the LU is part of a target device. */
  get naa(): Buffer | undefined {
    const state = unitState(this)
    return state.attached ? Buffer.from(state.identity.naa) : undefined
  }

  /** Whether a removable medium is loaded (always true for a fixed medium). */
  get mediumPresent(): boolean {
    return unitState(this).medium === 'present'
  }

  /** Unit attention conditions pending for an I_T nexus, next first (diagnostics and tests). */
  pendingUnitAttentions(nexusId: string): readonly AscName[] {
    return unitState(this).attentions.list(nexusId)
  }

  /**
   * Change the capacity: resize the backstore, then tell every I_T nexus (CAPACITY DATA HAS CHANGED, SBC-3 4.x).
   * Writes in flight finish first (the whole range is locked while the size changes).
   */
  async resize(blockCount: number): Promise<void> {
    const state = unitState(this)
    const resize = state.backstore.resize?.bind(state.backstore)
    if (resize === undefined) throw new TypeError('the backstore cannot resize')
    await state.lock.run(0, Infinity, () => resize(blockCount))
    this.capacityChanged()
  }

  /** The backstore's capacity changed by other means: establish CAPACITY DATA HAS CHANGED for every I_T nexus. */
  capacityChanged(): void {
    unitState(this).attentions.establishAll('CAPACITY_DATA_HAS_CHANGED')
  }

  /**
   * Load (true) or eject (false) a removable medium from outside, as an operator would. Loading raises NOT READY TO
   * READY CHANGE for every I_T nexus; ejecting fails while an I_T nexus prevents medium removal.
   */
  setMedium(present: boolean): void {
    const state = unitState(this)
    if (!state.removable) throw new TypeError('the medium is not removable')
    if (!present && state.preventers.size > 0) throw new CheckCondition('ILLEGAL_REQUEST', 'MEDIUM_REMOVAL_PREVENTED')
    const was = state.medium
    state.medium = present ? 'present' : 'ejected'
    if (present && was === 'ejected') state.attentions.establishAll('NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED')
  }

  /** Wait for the tasks and background work (SANITIZE, no longer paced) of this LU, then close its backstore. */
  async close(): Promise<void> {
    const state = unitState(this)
    state.closing.abort()
    await state.tasks.drain()
    await state.settled()
    await state.backstore.close()
  }
}
