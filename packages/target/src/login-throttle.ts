// Login failure rate limiting per source address, against online guessing of CHAP secrets: every failed CHAP
// response costs an attacker one round trip, so without a limit thousands of secrets a second can be tried. After
// `maxFailures` failures inside `windowMs`, an address is locked out: its logins that must authenticate are refused
// with 0x0301 (service unavailable, RFC 7143 11.13.5) for `lockoutMs`, doubled for every further lock-out while the
// address keeps failing (at most 16 times longer). The table is bounded: past `maxAddresses` the least recently
// failing address is forgotten.

export interface LoginThrottleOptions {
  /** Failures inside the window that lock an address out; 0 turns throttling off. */
  readonly maxFailures: number
  readonly windowMs: number
  readonly lockoutMs: number
  /** Addresses remembered at most. */
  readonly maxAddresses: number
  /** Clock (milliseconds); tests pass their own. */
  readonly now?: () => number
}

interface Entry {
  /** Start of the current counting window. */
  windowStart: number
  failures: number
  /** Lock-outs in a row (resets once an address stays clean for a window after its lock-out). */
  lockouts: number
  lockedUntil: number
}

const MAX_BACKOFF_SHIFT = 4

export class LoginThrottle {
  #options: LoginThrottleOptions
  readonly #now: () => number
  /** Insertion order is recency of the last failure: the first entry is evicted first. */
  readonly #entries = new Map<string, Entry>()

  constructor(options: LoginThrottleOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  /** New limits (target reconfiguration); what is remembered stays, trimmed to the new bound. */
  configure(options: Omit<LoginThrottleOptions, 'now'>): void {
    this.#options = { ...options, now: this.#now }
    this.#trim()
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.#entries.size
  }

  /** Milliseconds the address stays locked out; 0 when its logins may proceed. */
  lockedFor(address: string): number {
    const entry = this.#entries.get(address)
    if (entry === undefined || this.#options.maxFailures <= 0) return 0
    return Math.max(0, entry.lockedUntil - this.#now())
  }

  /** Note a failed CHAP response from the address. */
  failed(address: string): void {
    const { maxFailures, windowMs, lockoutMs } = this.#options
    if (maxFailures <= 0) return
    const now = this.#now()
    let entry = this.#entries.get(address)
    if (entry === undefined) {
      entry = { windowStart: now, failures: 0, lockouts: 0, lockedUntil: 0 }
    } else {
      this.#entries.delete(address)
      if (now - entry.windowStart >= windowMs) {
        // A fresh window; lock-outs in a row end once a whole window after the last one passed without one.
        if (entry.lockedUntil > 0 && now - entry.lockedUntil >= windowMs) entry.lockouts = 0
        entry.windowStart = now
        entry.failures = 0
      }
    }
    this.#entries.set(address, entry)
    entry.failures++
    if (entry.failures >= maxFailures) {
      entry.lockedUntil = now + lockoutMs * 2 ** Math.min(entry.lockouts, MAX_BACKOFF_SHIFT)
      entry.lockouts++
      entry.windowStart = now
      entry.failures = 0
    }
    this.#trim()
  }

  #trim(): void {
    while (this.#entries.size > this.#options.maxAddresses) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }
}
