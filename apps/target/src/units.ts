// Human-friendly quantities of the command line and the config file: sizes (`1G`, `512M`, `4096`) and durations
// (`15s`, `500ms`, `2m`). Sizes are binary (K = 1024); a plain number is bytes, or milliseconds for a duration.

const SIZE_UNITS = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 } as const
type SizeUnit = keyof typeof SIZE_UNITS

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i

/** Bytes in a size like `10G`, `1.5T`, `512MiB`, `4096` or `4096B`; undefined when it is not one. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined
  const match = SIZE_PATTERN.exec(input.trim())
  if (match === null) return undefined
  const [, amount = '', unit = ''] = match
  const bytes = Number(amount) * SIZE_UNITS[unit.toUpperCase() as SizeUnit]
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** The shortest exact spelling of a byte count: 1073741824 -> `1G`, 1536 -> `1536`, 3145728 -> `3M`. */
export function formatSize(bytes: number): string {
  for (const unit of ['P', 'T', 'G', 'M', 'K'] as const) {
    const scale = SIZE_UNITS[unit]
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`
  }
  return String(bytes)
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
type DurationUnit = keyof typeof DURATION_UNITS
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i

/** Milliseconds in a duration like `15s`, `500ms`, `2m`, `1h` or a plain number of milliseconds. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined
  const match = DURATION_PATTERN.exec(input.trim())
  if (match === null) return undefined
  const [, amount = '', unit = 'ms'] = match
  const ms = Number(amount) * DURATION_UNITS[unit.toLowerCase() as DurationUnit]
  return Number.isSafeInteger(ms) ? ms : undefined
}
