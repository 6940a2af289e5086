// Serial number arithmetic on 32-bit sequence numbers (RFC 1982 with SERIAL_BITS = 32), which RFC 7143 4.2.2.1
// prescribes for CmdSN, ExpCmdSN, MaxCmdSN, StatSN and DataSN comparisons. `x >>> 0` is x modulo 2^32 for any
// integer x in the safe range, which every sum and difference of two 32-bit numbers is.

const MOD = 0x1_0000_0000
const HALF = 0x8000_0000

/** a + n modulo 2^32. */
export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0
}

/** The signed distance b - a in (-2^31, 2^31]: positive when b is "after" a. */
export function serialDiff(a: number, b: number): number {
  const d = (b - a) >>> 0
  return d > HALF ? d - MOD : d
}

/** a < b in serial arithmetic; the comparison with a distance of exactly 2^31 is undefined and answers false. */
export function serialLt(a: number, b: number): boolean {
  const d = serialDiff(a, b)
  return d > 0 && d !== HALF
}

export function serialGt(a: number, b: number): boolean {
  return serialLt(b, a)
}

export function serialLe(a: number, b: number): boolean {
  return a === b || serialLt(a, b)
}
