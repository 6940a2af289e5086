// Human and JSON rendering. Human output is aligned text for people; `--json` is one JSON document on stdout with
// bigints as numbers when they are safe integers (else `0x` hex strings: such values are identifiers such as NAA
// designators in practice) and bytes as hex strings.

/** Convert a value into plain JSON data: bigint, Buffer, Map and Set become numbers, strings, objects and arrays. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : `0x${value.toString(16)}`
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) return toJsonValue(Object.fromEntries(value))
  if (value instanceof Set) return [...value].map(toJsonValue)
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (typeof value === 'number' && !Number.isFinite(value)) return null
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      if (inner === undefined || typeof inner === 'function') continue
      out[key] = toJsonValue(inner)
    }
    return out
  }
  return value
}

/** The one JSON document a command prints with `--json`. */
export function jsonDocument(value: unknown): string {
  return `${JSON.stringify(toJsonValue(value), null, 2)}\n`
}

/** `maxTransferLength` -> `max transfer length`, `lbpme` stays `lbpme`, `vendorSpecific2` -> `vendor specific 2`. */
export function labelOf(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d+)$/, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase()
}

// Bigints that name things (keys, designators, WWNs) read best in hex; counts in decimal. Page and operation
// codes read best in hex too.
const HEX_KEYS = /(key|naa|wwn|designator|identifier|eui|id)$/i
const HEX_CODES = /(pages?|pageCode|opcodes?|operationCodes?|versionDescriptors)$/i

/** One value as text for key/value output. */
export function formatValue(value: unknown, key = ''): string {
  if (value === undefined || value === null) return '-'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'bigint') return HEX_KEYS.test(key) ? `0x${value.toString(16).padStart(16, '0')}` : value.toString()
  if (value instanceof Uint8Array) return value.length === 0 ? '(empty)' : Buffer.from(value).toString('hex')
  if (typeof value === 'string') return value === '' ? '(empty)' : value
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map((v) => formatValue(v, key)).join(', ')
  if (typeof value === 'number') return HEX_CODES.test(key) && Number.isInteger(value) && value >= 0 ? `0x${value.toString(16).padStart(value > 0xff ? 4 : 2, '0')}` : String(value)
  return JSON.stringify(toJsonValue(value))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/**
 * Key/value lines, labels padded to one column. Nested objects and arrays of objects indent beneath their label.
 * `undefined` values are left out.
 */
export function keyValues(record: Readonly<Record<string, unknown>>, indent = ''): string {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined && typeof v !== 'function')
  const width = Math.max(0, ...entries.map(([k]) => labelOf(k).length)) + 1
  const lines: string[] = []
  for (const [key, value] of entries) {
    const label = `${labelOf(key)}:`.padEnd(width + 1)
    if (isPlainObject(value)) {
      lines.push(`${indent}${labelOf(key)}:`)
      lines.push(keyValues(value, `${indent}  `))
    } else if (Array.isArray(value) && value.some(isPlainObject)) {
      lines.push(`${indent}${labelOf(key)}:`)
      for (const item of value) {
        if (!isPlainObject(item)) {
          lines.push(`${indent}  - ${formatValue(item, key)}`)
          continue
        }
        const inner = keyValues(item, `${indent}    `).split('\n')
        lines.push(`${indent}  - ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1))
      }
    } else {
      lines.push(`${indent}${label}${formatValue(value, key)}`)
    }
  }
  return lines.join('\n')
}

export interface Column<Row> {
  readonly header: string
  readonly value: (row: Row) => string
  readonly align?: 'left' | 'right'
}

/** An aligned table with a header row; columns are two spaces apart; trailing spaces trimmed. */
export function table<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, indent = ''): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (values: readonly string[]): string =>
    indent +
    values
      .map((v, i) => (columns[i]?.align === 'right' ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')
}

/** `0x0000000000abcdef` for a reservation key. */
export function formatKey(key: bigint): string {
  return `0x${key.toString(16).padStart(16, '0')}`
}

/** `0x83`. */
export function formatPage(page: number): string {
  return `0x${page.toString(16).padStart(2, '0')}`
}

/** `label: value` lines with the values in one column. */
export function pairs(entries: ReadonlyArray<readonly [label: string, value: string]>, indent = ''): string {
  const width = Math.max(0, ...entries.map(([label]) => label.length)) + 2
  return entries.map(([label, value]) => `${indent}${`${label}:`.padEnd(width)}${value}`.trimEnd()).join('\n')
}
