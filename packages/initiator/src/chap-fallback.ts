// When to retry a CHAP login offering MD5 only (an interoperability fallback, see below).
import { LoginError } from './errors.js'

/**
 * True when a login failed with status 0x0200 (initiator error) while CHAP offered algorithms other than MD5: the
 * target may mis-handle the stronger algorithm it chose (tgt treats CHAP_A=7 as SHA1). A wrong secret is 0x0201 and
 * not retried.
 */
export function chapFallbackApplies(error: unknown, chap: boolean, md5Only: boolean, algorithms: readonly string[] | undefined): boolean {
  if (!chap || md5Only) return false
  if (algorithms !== undefined && algorithms.every((a) => a === 'MD5')) return false
  return error instanceof LoginError && error.statusClass === 2 && error.statusDetail === 0
}
