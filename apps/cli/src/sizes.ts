// Human sizes and durations for flags (`--bs 4k`, `--length 1GiB`, `--time 10s`) and for output (`1 GiB`).
// Binary suffixes (k, K, KiB, M, MiB, ...) are powers of 1024 like fio and dd; decimal ones (kB, KB, MB, ...) are
// powers of 1000 like dd. A size is a non-negative safe integer number of bytes.
import { UsageError } from './errors.js'

const BINARY = ['', 'k', 'm', 'g', 't', 'p'] as const
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

/** Multiplier of a size suffix, or undefined when the suffix is unknown. */
function multiplier(suffix: string): number | undefined {
  if (suffix === '' || suffix === 'b' || suffix === 'B') return 1
  const lower = suffix.toLowerCase()
  const index = BINARY.indexOf(lower[0] as (typeof BINARY)[number])
  if (index <= 0) return undefined
  const rest = suffix.slice(1)
  // `kB`, `KB`, `MB`: decimal (dd). `k`, `K`, `KiB`, `kib`: binary.
  if (rest === 'B') return 1000 ** index
  if (rest === '' || rest.toLowerCase() === 'ib') return 1024 ** index
  return undefined
}

/** Parse a byte size: `4096`, `4k`, `1.5M`, `1GiB`, `10MB`, `0x1000`. Throws UsageError on anything else. */
export function parseSize(text: string, what = 'size'): number {
  const trimmed = text.trim()
  if (/^0x[0-9a-f]+$/i.test(trimmed)) {
    const value = Number.parseInt(trimmed.slice(2), 16)
    if (!Number.isSafeInteger(value)) throw new UsageError(`${what} is too large: ${text}`)
    return value
  }
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(trimmed)
  if (!match) throw new UsageError(`invalid ${what}: '${text}' (use bytes or a suffix: 512, 4k, 1MiB, 10GB)`)
  const factor = multiplier(match[2] ?? '')
  if (factor === undefined) throw new UsageError(`invalid ${what}: unknown unit '${match[2] ?? ''}' in '${text}'`)
  const value = Number(match[1]) * factor
  if (!Number.isInteger(value)) throw new UsageError(`invalid ${what}: '${text}' is not a whole number of bytes`)
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what} is too large: ${text}`)
  return value
}

/** Parse a positive integer (queue depth, counts): `32`, `1000`. */
export function parseCount(text: string, what: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`invalid ${what}: '${text}' (a whole number)`)
  const value = Number(text.trim())
  if (value < min || value > max) throw new UsageError(`${what} must be between ${min} and ${max}, got ${text}`)
  return value
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/** Parse a duration into milliseconds: `10s`, `500ms`, `2m`, `1.5h`, a bare number is seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|)$/.exec(text.trim())
  if (!match) throw new UsageError(`invalid ${what}: '${text}' (use 500ms, 10s, 2m or 1h)`)
  const value = Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 1000)
  if (!Number.isFinite(value) || value > 2 ** 31 - 1) throw new UsageError(`${what} is too long: ${text}`)
  return Math.round(value)
}

/** `1073741824` -> `1 GiB`, `1572864` -> `1.5 GiB`, `512` -> `512 B`. Exact multiples print without decimals. */
export function formatBytes(bytes: number | bigint): string {
  let value = Number(bytes)
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const text = Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value.toFixed(1)
  return `${text} ${UNITS[unit] ?? 'B'}`
}

/** A byte rate per second in decimal megabytes, as storage benchmarks print it: `412.3 MB/s`. */
export function formatRate(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6
  return `${mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2)} MB/s`
}

/** Microseconds with a unit that keeps three significant digits: `87.2 us`, `1.25 ms`, `2.10 s`. */
export function formatMicros(us: number): string {
  if (us < 1000) return `${us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2)} us`
  if (us < 1_000_000) return `${formatMicros(us / 1000).replace(' us', '')} ms`
  return `${(us / 1_000_000).toFixed(2)} s`
}
