// Numbers to text: medians, human-readable figures, fixed-width tables, sizes and durations on the command line.

/** Median of the finite numbers in `values` (mean of the middle two for an even count); undefined when none. */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** `value` with `digits` decimals and thousands separators, or '-' when undefined. */
export function fmt(value, digits = 0) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '-'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** A ratio as "1.23x", or '-'. */
export function fmtRatio(value) {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`
}

/** a / b when both are positive numbers, else undefined. */
export function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined
}

export const MB = 1e6

/**
 * A fixed-width table. `columns` is [{ title, align: 'left'|'right' }]; a row is an array of cells, the string '-'
 * for a rule line, or any other string for a line printed as it is (a heading over the rows that follow).
 */
export function renderTable(columns, rows) {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.filter(Array.isArray).map((r) => String(r[i] ?? '').length)))
  const line = (cells) =>
    cells
      .map((cell, i) => {
        const text = String(cell ?? '')
        return columns[i]?.align === 'left' ? text.padEnd(widths[i]) : text.padStart(widths[i])
      })
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  const out = [line(columns.map((c) => c.title)), rule]
  for (const row of rows) out.push(row === '-' ? rule : typeof row === 'string' ? row : line(row))
  return out.join('\n')
}

const SIZE_UNITS = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }

/** "1G", "512M", "4k", "4096" to bytes; undefined when malformed. */
export function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?B)?$/.exec(String(text).trim())
  if (!match) return undefined
  const bytes = Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()]
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** A positive number of seconds from "5", "5s", "1.5", "500ms"; undefined when malformed. */
export function parseSeconds(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(String(text).trim())
  if (!match) return undefined
  const seconds = Number(match[1]) / (match[2] === 'ms' ? 1000 : 1)
  return seconds > 0 ? seconds : undefined
}
