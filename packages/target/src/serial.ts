// 32-bit serial number arithmetic (RFC 1982 with SERIAL_BITS = 32), the comparison RFC 7143 4.2.2.1 prescribes for
// CmdSN, ExpCmdSN, MaxCmdSN, StatSN, DataSN and R2TSN.

const HALF = 0x80000000

/** `a + n` modulo 2^32. */
export function snAdd(a: number, n: number): number {
  return (a + n) >>> 0
}

/** Distance from `a` forward to `b` modulo 2^32 (0 .. 2^32-1). */
export function snDistance(a: number, b: number): number {
  return (b - a) >>> 0
}

/** RFC 1982 3.2: `a < b`. Undefined pairs (exactly 2^31 apart) compare as neither less nor greater. */
export function snLt(a: number, b: number): boolean {
  const d = snDistance(a, b)
  return d !== 0 && d < HALF
}

export function snGt(a: number, b: number): boolean {
  return snLt(b, a)
}

export function snLte(a: number, b: number): boolean {
  return a >>> 0 === b >>> 0 || snLt(a, b)
}

export function snGte(a: number, b: number): boolean {
  return a >>> 0 === b >>> 0 || snGt(a, b)
}

/** True when `sn` lies in the closed serial interval [`low`, `high`]. An empty window has `high` = `low` - 1. */
export function snInWindow(sn: number, low: number, high: number): boolean {
  return snDistance(low, sn) <= snDistance(low, high) && snDistance(low, high) !== 0xffffffff
}
