// The session's command window (RFC 7143 4.2.2.1): non-immediate commands are accepted only with CmdSN in
// [ExpCmdSN, MaxCmdSN], handed on in CmdSN order whatever connection they came on, and anything outside the window
// or already seen is silently ignored. MaxCmdSN comes from a real queue: ExpCmdSN + free slots - 1, where a slot is
// held from delivery until the command's response is queued (`release`). Commands that arrive early wait here (at
// most `depth` of them: they all lie inside the window).
import { snAdd, snInWindow, snLt } from './serial.js'

const CONSUMED = Symbol('consumed')

export class CmdSnWindow<T> {
  readonly depth: number
  #exp: number
  #inFlight = 0
  /** The highest MaxCmdSN ever computed; the initiator may use it even if a later value were lower. */
  #highWater: number
  readonly #early = new Map<number, T | typeof CONSUMED>()

  constructor(initialCmdSN: number, depth: number) {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError('window depth must be a positive integer')
    this.depth = depth
    this.#exp = initialCmdSN >>> 0
    this.#highWater = snAdd(this.#exp, depth - 1)
  }

  get expCmdSN(): number {
    return this.#exp
  }

  /** ExpCmdSN + free slots - 1, never lower than a value already advertised (RFC 7143 4.2.2.1). */
  get maxCmdSN(): number {
    const free = Math.max(0, this.depth - this.#inFlight)
    const max = snAdd(this.#exp, free - 1)
    if (snLt(this.#highWater, max)) this.#highWater = max
    return this.#highWater
  }

  /** Commands handed on and not yet released. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Commands received ahead of a gap. */
  get waiting(): number {
    return this.#early.size
  }

  /** True when a non-immediate command with this CmdSN would be taken (inside the window, not a duplicate). */
  accepts(cmdSN: number): boolean {
    const max = this.maxCmdSN
    return snInWindow(cmdSN >>> 0, this.#exp, max) && !this.#early.has(cmdSN >>> 0)
  }

  /**
   * Offer a non-immediate command. Returns undefined when it must be ignored (outside the window or a duplicate),
   * else the commands now deliverable in CmdSN order (empty while a gap precedes this one). Each delivered command
   * holds a slot until `release`.
   */
  submit(cmdSN: number, item: T): T[] | undefined {
    const ready: T[] = []
    return this.offer(cmdSN, item, (next) => ready.push(next)) ? ready : undefined
  }

  /**
   * `submit` without the array: hands each command now deliverable to `deliver`, in CmdSN order. Returns false when
   * the command must be ignored. The next expected CmdSN with nothing waiting (the usual case) touches no map.
   */
  offer(cmdSN: number, item: T, deliver: (item: T) => void): boolean {
    const sn = cmdSN >>> 0
    if (sn === this.#exp && this.#early.size === 0) {
      if (!snInWindow(sn, this.#exp, this.maxCmdSN)) return false
      this.#exp = snAdd(this.#exp, 1)
      this.#inFlight++
      deliver(item)
      return true
    }
    if (!this.accepts(sn)) return false
    this.#early.set(sn, item)
    this.#drain(deliver)
    return true
  }

  /**
   * RFC 7143 11.5.1 (ABORT TASK, b): a referenced CmdSN inside the window that has not arrived is "considered
   * received": its slot is used up without a command, and the command is ignored if it arrives later. Returns the
   * commands this unblocks, or undefined when the CmdSN is not in the window.
   */
  consume(cmdSN: number): T[] | undefined {
    const ready: T[] = []
    return this.consumeInto(cmdSN, (next) => ready.push(next)) ? ready : undefined
  }

  /** `consume` handing the commands it unblocks to `deliver`; false when the CmdSN is not in the window. */
  consumeInto(cmdSN: number, deliver: (item: T) => void): boolean {
    if (!this.accepts(cmdSN)) return false
    this.#early.set(cmdSN >>> 0, CONSUMED)
    this.#drain(deliver)
    return true
  }

  /** True when `cmdSN` is inside the window and has not been received yet (used for the RefCmdSN rule). */
  isPending(cmdSN: number): boolean {
    return this.accepts(cmdSN)
  }

  /** A delivered command finished (its response is queued, or it was terminated). */
  release(): void {
    if (this.#inFlight > 0) this.#inFlight--
  }

  #drain(deliver: (item: T) => void): void {
    for (;;) {
      const next = this.#early.get(this.#exp)
      if (next === undefined) break
      this.#early.delete(this.#exp)
      this.#exp = snAdd(this.#exp, 1)
      if (next !== CONSUMED) {
        this.#inFlight++
        deliver(next)
      }
    }
  }

  /** Drop everything waiting (session teardown). */
  clear(): T[] {
    const items = [...this.#early.values()].filter((v): v is T => v !== CONSUMED)
    this.#early.clear()
    return items
  }
}
