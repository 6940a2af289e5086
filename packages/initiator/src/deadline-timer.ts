// One timer for every command timeout of a session, instead of a setTimeout per command (each would cost a timer
// object, a closure and a timer-list insert and removal per I/O). Commands only record their deadline; the timer
// is armed for the earliest deadline it was told about, and when it fires the owner sweeps its commands, times out
// the expired ones and reports the next deadline. With one timeout for all commands a new deadline is never the
// earliest, so the timer is armed about once per timeout period, however many commands run.
import { performance } from 'node:perf_hooks'

/** Longest delay setTimeout takes (2^31 - 1 ms); a later deadline is reached in several hops. */
const MAX_DELAY = 0x7fffffff

export class DeadlineTimer {
  readonly #sweep: (now: number) => number
  #timer: NodeJS.Timeout | undefined
  #armedFor = Number.POSITIVE_INFINITY
  #refed = true

  /**
   * `sweep(now)` handles every deadline at or before `now` and returns the earliest deadline left (+Infinity when
   * none). Deadlines are `performance.now()` milliseconds.
   */
  constructor(sweep: (now: number) => number) {
    this.#sweep = sweep
  }

  /** The current time on the deadlines' clock. */
  static now(): number {
    return performance.now()
  }

  /** Makes sure the timer fires no later than `deadline`. */
  schedule(deadline: number): void {
    if (deadline < this.#armedFor) this.#arm(deadline)
    else if (!this.#refed) this.#ref(true)
  }

  /**
   * Whether a pending timer keeps the process alive: true while commands are pending (as their own timers would),
   * false when the owner has nothing left to time out.
   */
  keepAlive(alive: boolean): void {
    if (alive !== this.#refed) this.#ref(alive)
  }

  /** Disarms the timer (the owner closed). */
  cancel(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedFor = Number.POSITIVE_INFINITY
  }

  #ref(alive: boolean): void {
    this.#refed = alive
    if (alive) this.#timer?.ref()
    else this.#timer?.unref()
  }

  #arm(deadline: number): void {
    clearTimeout(this.#timer)
    this.#armedFor = deadline
    const delay = Math.min(MAX_DELAY, Math.max(1, Math.ceil(deadline - performance.now())))
    this.#timer = setTimeout(this.#fire, delay)
    this.#refed = true
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#armedFor = Number.POSITIVE_INFINITY
    const next = this.#sweep(performance.now())
    // The sweep may have scheduled deadlines of its own (this.#armedFor is then finite): keep the earliest.
    if (next < this.#armedFor) this.#arm(next)
  }
}
