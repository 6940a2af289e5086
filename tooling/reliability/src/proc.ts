// What a process holds, read from /proc (Linux): resident memory and open file descriptors. Works for any pid, so a
// test can watch a target running in another process (a crash there cannot take the test down with it).
import { readFileSync, readdirSync } from 'node:fs'

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

/** Open file descriptors of a process (sockets, files, pipes), or undefined once it is gone. */
export function fdCountOf(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
  }
}

export interface MemorySummary {
  readonly samples: number
  readonly first: number
  readonly last: number
  readonly max: number
  /** The sample taken nearest to the given fraction of the run (0..1). */
  at(fraction: number): number
}

/** Samples a process's RSS on an interval; `stop` returns what was seen. */
export class MemorySampler {
  readonly #pid: number
  readonly #timer: NodeJS.Timeout
  readonly #samples: Array<{ readonly t: number; readonly rss: number }> = []
  readonly #started = Date.now()

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid
    this.sample()
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  sample(): number | undefined {
    const rss = rssOf(this.#pid)
    if (rss !== undefined) this.#samples.push({ t: Date.now() - this.#started, rss })
    return rss
  }

  get max(): number {
    return this.#samples.reduce((max, s) => Math.max(max, s.rss), 0)
  }

  stop(): MemorySummary {
    clearInterval(this.#timer)
    this.sample()
    const samples = [...this.#samples]
    const end = samples[samples.length - 1]?.t ?? 0
    return {
      samples: samples.length,
      first: samples[0]?.rss ?? 0,
      last: samples[samples.length - 1]?.rss ?? 0,
      max: samples.reduce((max, s) => Math.max(max, s.rss), 0),
      at(fraction: number): number {
        const wanted = end * fraction
        let best = samples[0]
        for (const s of samples) if (Math.abs(s.t - wanted) < Math.abs((best?.t ?? 0) - wanted)) best = s
        return best?.rss ?? 0
      },
    }
  }
}

export const MiB = 1024 * 1024

export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`
}
