// Unit attention conditions of one logical unit, per I_T nexus (SAM-5 5.14, SPC-4 5.x). A nexus the LU has never
// seen starts with POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; a reset condition (ASC 29h) supersedes everything
// pending for the nexus; other conditions queue in arrival order without duplicates.
import type { AscName } from '../sense/asc.js'
import { Asc } from '../sense/asc.js'

/** Pending conditions per nexus are bounded; past this the oldest non-reset one is dropped (SPC-4 4.5.2.4.5 overflow). */
const MAX_PENDING = 16
/**
 * Departed nexuses (I_T nexus loss) whose conditions an LU keeps, least recently departed dropped first. One evicted
 * and back later is a nexus never seen: it gets POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (SAM-5 6.3.1), so
 * initiators that come and go with new ISIDs cost the LU bounded memory.
 */
export const MAX_DEPARTED_NEXUSES = 1024

const isReset = (asc: AscName): boolean => Asc[asc].code[0] === 0x29

export class UnitAttentions {
  private readonly pending = new Map<string, AscName[]>()
  private readonly seen = new Set<string>()
  /** Nexuses gone (I_T nexus loss) and not back, oldest departure first. */
  private readonly departed = new Set<string>()

  private readonly maxDeparted: number

  constructor(maxDeparted = MAX_DEPARTED_NEXUSES) {
    this.maxDeparted = maxDeparted
  }

  /** Nexuses this LU has seen. */
  nexusIds(): IterableIterator<string> {
    return this.seen.values()
  }

  /** Note a command from a nexus; the first one establishes the power-on condition (SAM-5 6.3.1). */
  touch(nexusId: string): void {
    if (this.seen.has(nexusId)) {
      if (this.departed.size > 0) this.departed.delete(nexusId)
      return
    }
    this.seen.add(nexusId)
    this.pending.set(nexusId, ['POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED'])
  }

  /**
   * The nexus is gone (SAM-5 6.3.4): if this LU has seen it, it learns I_T NEXUS LOSS OCCURRED when it comes back,
   * and its state is kept among the most recent `maxDeparted` departures.
   */
  depart(nexusId: string): void {
    if (!this.seen.has(nexusId)) return
    this.establish(nexusId, 'I_T_NEXUS_LOSS_OCCURRED')
    this.departed.delete(nexusId)
    this.departed.add(nexusId)
    while (this.departed.size > this.maxDeparted) {
      const oldest = this.departed.values().next().value as string
      this.departed.delete(oldest)
      this.seen.delete(oldest)
      this.pending.delete(oldest)
    }
  }

  /** Establish a condition for one nexus. */
  establish(nexusId: string, asc: AscName): void {
    const queue = this.pending.get(nexusId) ?? []
    if (isReset(asc)) {
      // A reset clears every other condition of the nexus (SAM-5 6.3).
      this.pending.set(nexusId, [asc])
      return
    }
    if (queue.includes(asc)) return
    if (queue.length >= MAX_PENDING) {
      const drop = queue.findIndex((pending) => !isReset(pending))
      if (drop >= 0) queue.splice(drop, 1)
    }
    queue.push(asc)
    this.pending.set(nexusId, queue)
  }

  /** Establish a condition for every nexus this LU has seen, except one (the nexus that caused it). */
  establishAll(asc: AscName, except?: string): void {
    for (const nexusId of this.seen) if (nexusId !== except) this.establish(nexusId, asc)
  }

  /** The condition that would be reported next, without clearing it. */
  peek(nexusId: string): AscName | undefined {
    return this.pending.get(nexusId)?.[0]
  }

  /** Report and clear the next condition (UA_INTLCK_CTRL 00b, SPC-4 7.5.8). */
  take(nexusId: string): AscName | undefined {
    const queue = this.pending.get(nexusId)
    const next = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.pending.delete(nexusId)
    return next
  }

  /** Clear one kind of condition (REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED, SPC-4 6.33). */
  clear(nexusId: string, asc: AscName): void {
    const queue = this.pending.get(nexusId)
    if (queue === undefined) return
    const rest = queue.filter((pending) => pending !== asc)
    if (rest.length === 0) this.pending.delete(nexusId)
    else this.pending.set(nexusId, rest)
  }

  /** Every pending condition of a nexus, in report order. */
  list(nexusId: string): readonly AscName[] {
    return this.pending.get(nexusId) ?? []
  }
}
