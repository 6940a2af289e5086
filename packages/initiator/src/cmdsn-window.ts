// The session's command window (RFC 7143 4.2.2.1): a non-immediate command may be sent when its CmdSN lies in
// [ExpCmdSN, MaxCmdSN]; beyond that it waits in a local FIFO until a PDU from the target opens the window. Immediate
// PDUs (task management, NOP-Out pings) carry the current CmdSN without advancing it and need no room.
import { serialAdd, serialDiff, serialGt, serialLt } from './serial.js'

export interface WindowState {
  /** CmdSN the next non-immediate command will carry. */
  readonly cmdSN: number
  readonly expCmdSN: number
  readonly maxCmdSN: number
}

export class CmdSnWindow<T> {
  #cmdSN: number
  #expCmdSN: number
  #maxCmdSN: number
  readonly #queue: T[] = []

  constructor(initial: WindowState) {
    this.#cmdSN = initial.cmdSN >>> 0
    this.#expCmdSN = initial.expCmdSN >>> 0
    this.#maxCmdSN = initial.maxCmdSN >>> 0
  }

  get cmdSN(): number {
    return this.#cmdSN
  }

  get expCmdSN(): number {
    return this.#expCmdSN
  }

  get maxCmdSN(): number {
    return this.#maxCmdSN
  }

  /** Commands waiting for room in the window. */
  get queued(): number {
    return this.#queue.length
  }

  /** How many more non-immediate commands the target accepts now (0 when the window is closed). */
  get room(): number {
    // MaxCmdSN = ExpCmdSN - 1 closes the window (RFC 7143 4.2.2.1); the CmdSNs from #cmdSN to #maxCmdSN are free.
    const d = serialDiff(this.#cmdSN, this.#maxCmdSN) + 1
    return d > 0 ? d : 0
  }

  /**
   * Takes ExpCmdSN/MaxCmdSN from a target PDU. Per RFC 7143 4.2.2.1 both are ignored when MaxCmdSN < ExpCmdSN - 1
   * (serial), and each only ever moves forward. An ExpCmdSN beyond the next CmdSN we would send acknowledges
   * commands never sent: ignored as well. Returns true when the window gained room.
   */
  update(expCmdSN: number, maxCmdSN: number): boolean {
    expCmdSN >>>= 0
    maxCmdSN >>>= 0
    if (serialLt(maxCmdSN, serialAdd(expCmdSN, -1))) return false
    if (serialGt(expCmdSN, this.#cmdSN)) return false
    const before = this.room
    if (serialGt(expCmdSN, this.#expCmdSN)) this.#expCmdSN = expCmdSN
    if (serialGt(maxCmdSN, this.#maxCmdSN)) this.#maxCmdSN = maxCmdSN
    return this.room > before
  }

  /** Assigns the next CmdSN to a command that is being sent now. Throws when the window has no room. */
  take(): number {
    if (this.room === 0) throw new RangeError('the CmdSN window is closed')
    const cmdSN = this.#cmdSN
    this.#cmdSN = serialAdd(this.#cmdSN, 1)
    return cmdSN
  }

  /** Queues a command behind the ones already waiting (FIFO keeps the caller's order). */
  enqueue(item: T): void {
    this.#queue.push(item)
  }

  /** Drops a waiting command (aborted or timed out before it was sent). */
  remove(item: T): boolean {
    const index = this.#queue.indexOf(item)
    if (index < 0) return false
    this.#queue.splice(index, 1)
    return true
  }

  /**
   * The first waiting command when the window has room for it, removed from the queue (the caller then numbers it
   * with `take()`), else undefined. Draining with `next()` + `take()` allocates nothing.
   */
  next(): T | undefined {
    if (this.#queue.length === 0 || this.room === 0) return undefined
    return this.#queue.shift()
  }

  /** The waiting commands that fit the window now, each with the CmdSN it must carry, in FIFO order. */
  drain(): Array<{ item: T; cmdSN: number }> {
    const out: Array<{ item: T; cmdSN: number }> = []
    while (this.#queue.length > 0 && this.room > 0) {
      const item = this.#queue.shift() as T
      out.push({ item, cmdSN: this.take() })
    }
    return out
  }

  /** Empties the queue and returns what was waiting (session failure or logout). */
  clear(): T[] {
    return this.#queue.splice(0, this.#queue.length)
  }

  /** Starts over for a new session (reinstatement): new numbers, the waiting commands stay queued. */
  reset(state: WindowState): void {
    this.#cmdSN = state.cmdSN >>> 0
    this.#expCmdSN = state.expCmdSN >>> 0
    this.#maxCmdSN = state.maxCmdSN >>> 0
  }

  /** Puts commands back at the head of the queue, keeping their relative order (retry after reconnect). */
  requeueFront(items: readonly T[]): void {
    this.#queue.unshift(...items)
  }
}
