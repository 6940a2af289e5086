// Two budgets for every reliability test: the CI one (the whole suite in about four minutes on two cores) and the
// long one, chosen with RELIABILITY_LONG=1, for soak runs before a release.

/** True when RELIABILITY_LONG is set to anything but "", "0" or "false". */
export function isLong(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env.RELIABILITY_LONG
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false'
}

/** The CI value, or the long one under RELIABILITY_LONG=1. */
export function budget<T>(ci: T, long: T, env: Readonly<Record<string, string | undefined>> = process.env): T {
  return isLong(env) ? long : ci
}

/** A vitest timeout that covers `seconds` of work plus setup and teardown. */
export function timeoutFor(seconds: number): number {
  return Math.ceil(seconds * 1000 * 1.5) + 60_000
}
