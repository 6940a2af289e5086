// iSCSI URLs in the form libiscsi and QEMU use:
//   iscsi://[user[%secret]@]host[:port][/target-name[/lun]][?header_digest=crc32c&target_user=u&target_password=p]
// The host is a name, an IPv4 address or an IPv6 address in brackets. Target name, user and secrets are
// percent-decoded. Like libiscsi, `user:secret` is also accepted, and LIBISCSI_CHAP_USERNAME /
// LIBISCSI_CHAP_PASSWORD / LIBISCSI_CHAP_TARGET_USERNAME / LIBISCSI_CHAP_TARGET_PASSWORD fill what the URL leaves out.
import { InitiatorError, InitiatorErrorCode } from './errors.js'

export type DigestPreference = 'CRC32C' | 'None' | 'CRC32C,None' | 'None,CRC32C'

export interface IscsiUrl {
  host: string
  port: number
  targetName?: string
  lun?: number
  user?: string
  secret?: string
  /** Mutual CHAP: the name the target must answer with (`target_user` query key). */
  targetUser?: string
  /** Mutual CHAP: the secret the target must prove (`target_password` query key). */
  targetSecret?: string
  headerDigest?: DigestPreference
  dataDigest?: DigestPreference
}

export interface ParseIscsiUrlOptions {
  /** Where LIBISCSI_CHAP_* defaults come from; `process.env` unless given (pass `{}` to ignore the environment). */
  env?: Readonly<Record<string, string | undefined>>
}

/** The well-known iSCSI port (RFC 7143 13.8 / IANA). */
export const DEFAULT_ISCSI_PORT = 3260

const SYNTAX = 'iscsi://[user[%secret]@]host[:port]/target-name/lun'
/** SAM-5 flat/peripheral LUN addressing reaches 16383; larger values need extended addressing. */
const MAX_LUN = 0x3fff
/** Characters a user name may hold in a URL: unreserved, sub-delims but '&', and ':' (IQN-style CHAP names). */
const USER_PATTERN = /^[A-Za-z0-9._~!$'()*+,;=:-]+$/

function urlError(url: string, why: string): InitiatorError {
  return new InitiatorError(InitiatorErrorCode.Url, `invalid iSCSI URL ${JSON.stringify(redactForError(url))}: ${why} (expected ${SYNTAX})`)
}

/** Never echo a secret back in an error message. */
function redactForError(url: string): string {
  return url
    .replace(/^(iscsi:\/\/[^@/?]*?)[%:][^@/?]*@/i, '$1%***@')
    .replace(/([?&]target_password=)[^&]*/i, '$1***')
}

function decodeComponent(url: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw urlError(url, `bad percent-encoding in the ${what}`)
  }
}

function parseDigest(url: string, key: string, value: string): DigestPreference {
  switch (value.toLowerCase()) {
    case 'crc32c':
      return 'CRC32C'
    case 'none':
      return 'None'
    case 'crc32c,none':
    case 'crc32c-none':
      return 'CRC32C,None'
    case 'none,crc32c':
    case 'none-crc32c':
      return 'None,CRC32C'
    default:
      throw urlError(url, `${key} must be crc32c, none, crc32c,none or none,crc32c, not ${JSON.stringify(value)}`)
  }
}

function parseHostPort(url: string, authority: string): { host: string; port: number } {
  let host: string
  let portText: string | undefined
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']')
    if (end < 0) throw urlError(url, 'unterminated [ in an IPv6 address')
    host = authority.slice(1, end)
    const rest = authority.slice(end + 1)
    if (rest !== '') {
      if (!rest.startsWith(':')) throw urlError(url, `unexpected ${JSON.stringify(rest)} after the IPv6 address`)
      portText = rest.slice(1)
    }
    if (!/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(host) || !host.includes(':')) throw urlError(url, `bad IPv6 address ${JSON.stringify(host)}`)
  } else {
    const colon = authority.indexOf(':')
    if (colon >= 0) {
      if (authority.indexOf(':', colon + 1) >= 0) throw urlError(url, 'an IPv6 address must be in brackets')
      host = authority.slice(0, colon)
      portText = authority.slice(colon + 1)
    } else {
      host = authority
    }
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw urlError(url, host === '' ? 'missing host' : `bad host ${JSON.stringify(host)}`)
  }
  let port = DEFAULT_ISCSI_PORT
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw urlError(url, `bad port ${JSON.stringify(portText)}`)
    port = Number(portText)
    if (port < 1 || port > 65535) throw urlError(url, `port ${port} out of range`)
  }
  return { host, port }
}

/**
 * Parses an iscsi:// URL. A portal URL (`iscsi://host[:port][/]`) has no target name and no LUN; a target URL
 * without a LUN leaves `lun` undefined. Throws InitiatorError `ISCSI_ERR_URL` on anything malformed.
 */
export function parseIscsiUrl(url: string, options: ParseIscsiUrlOptions = {}): IscsiUrl {
  if (typeof url !== 'string') throw urlError(String(url), 'not a string')
  const env = options.env ?? process.env
  const match = /^iscsi:\/\//i.exec(url)
  if (match === null) throw urlError(url, 'must start with iscsi://')
  let rest = url.slice(match[0].length)

  let query: string | undefined
  const q = rest.indexOf('?')
  if (q >= 0) {
    query = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  if (rest.includes('#')) throw urlError(url, 'fragments are not allowed')

  // The user part ends at the last '@' before the path (a secret may contain '@' only percent-encoded).
  const slash = rest.indexOf('/')
  const authorityAndUser = slash >= 0 ? rest.slice(0, slash) : rest
  const path = slash >= 0 ? rest.slice(slash + 1) : ''

  let user: string | undefined
  let secret: string | undefined
  let authority = authorityAndUser
  const at = authorityAndUser.lastIndexOf('@')
  if (at >= 0) {
    const userInfo = authorityAndUser.slice(0, at)
    authority = authorityAndUser.slice(at + 1)
    // libiscsi splits at the first '%' (QEMU also accepts ':' when there is no '%'), so the user name itself never
    // carries a percent-encoding; the secret is percent-decoded.
    let split = userInfo.indexOf('%')
    if (split < 0) split = userInfo.indexOf(':')
    user = split >= 0 ? userInfo.slice(0, split) : userInfo
    if (split >= 0) secret = decodeComponent(url, userInfo.slice(split + 1), 'secret')
    if (!USER_PATTERN.test(user) && user !== '') throw urlError(url, 'bad character in the user name')
    if (user === '') throw urlError(url, 'empty user name before @')
  }

  const { host, port } = parseHostPort(url, authority)
  const result: IscsiUrl = { host, port }

  if (path !== '') {
    const parts = path.split('/')
    if (parts.length > 2 && !(parts.length === 3 && parts[2] === '')) throw urlError(url, 'too many path segments')
    const targetName = decodeComponent(url, parts[0] ?? '', 'target name')
    if (targetName === '') throw urlError(url, 'empty target name')
    if (/[\s\0]/.test(targetName)) throw urlError(url, 'the target name contains white space or NUL')
    result.targetName = targetName
    const lunText = parts[1]
    if (lunText !== undefined && lunText !== '') {
      if (!/^\d+$/.test(lunText)) throw urlError(url, `bad LUN ${JSON.stringify(lunText)}`)
      const lun = Number(lunText)
      if (lun > MAX_LUN) throw urlError(url, `LUN ${lun} out of range (0-${MAX_LUN})`)
      result.lun = lun
    }
  }

  let targetUser: string | undefined
  let targetSecret: string | undefined
  if (query !== undefined && query !== '') {
    for (const item of query.split('&')) {
      if (item === '') continue
      const eq = item.indexOf('=')
      const key = eq >= 0 ? item.slice(0, eq) : item
      const value = decodeComponent(url, eq >= 0 ? item.slice(eq + 1) : '', `value of ${key}`)
      switch (key) {
        case 'header_digest':
          result.headerDigest = parseDigest(url, key, value)
          break
        case 'data_digest':
          result.dataDigest = parseDigest(url, key, value)
          break
        case 'target_user':
          targetUser = value
          break
        case 'target_password':
          targetSecret = value
          break
        default:
          throw urlError(url, `unknown option ${JSON.stringify(key)}`)
      }
    }
  }

  // The environment fills in what the URL does not say (libiscsi iscsi_parse_url).
  user ??= nonEmpty(env.LIBISCSI_CHAP_USERNAME)
  secret ??= nonEmpty(env.LIBISCSI_CHAP_PASSWORD)
  targetUser ??= nonEmpty(env.LIBISCSI_CHAP_TARGET_USERNAME)
  targetSecret ??= nonEmpty(env.LIBISCSI_CHAP_TARGET_PASSWORD)

  if (user !== undefined) result.user = user
  if (secret !== undefined && secret !== '') result.secret = secret
  if (targetUser !== undefined && targetUser !== '') result.targetUser = targetUser
  if (targetSecret !== undefined && targetSecret !== '') result.targetSecret = targetSecret
  return result
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** Percent-encodes everything but the characters an IQN/EUI/NAA name and a plain user name use. */
function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(/%3A/gi, ':')
}


/** Formats an IscsiUrl back into an iscsi:// URL; `redactSecret` replaces both secrets by `***`. */
export function formatIscsiUrl(url: IscsiUrl, options: { redactSecret?: boolean } = {}): string {
  const redact = options.redactSecret === true
  let out = 'iscsi://'
  if (url.user !== undefined && url.user !== '') {
    if (!USER_PATTERN.test(url.user)) {
      throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'the CHAP user name has characters an iSCSI URL cannot carry')
    }
    out += url.user
    // '%' always separates user and secret, even with an empty secret, so a ':' in the user name stays literal.
    out += `%${url.secret === undefined ? '' : redact ? '***' : encodeURIComponent(url.secret)}@`
  }
  out += url.host.includes(':') ? `[${url.host}]` : url.host
  if (url.port !== DEFAULT_ISCSI_PORT) out += `:${url.port}`
  if (url.targetName !== undefined) {
    out += `/${encodeComponent(url.targetName)}`
    if (url.lun !== undefined) out += `/${url.lun}`
  } else if (url.lun !== undefined) {
    throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'a LUN needs a target name in an iSCSI URL')
  }
  const query: string[] = []
  if (url.headerDigest !== undefined) query.push(`header_digest=${url.headerDigest.toLowerCase()}`)
  if (url.dataDigest !== undefined) query.push(`data_digest=${url.dataDigest.toLowerCase()}`)
  if (url.targetUser !== undefined) query.push(`target_user=${encodeURIComponent(url.targetUser)}`)
  if (url.targetSecret !== undefined) query.push(`target_password=${redact ? '***' : encodeURIComponent(url.targetSecret)}`)
  if (query.length > 0) out += `?${query.join('&')}`
  return out
}
