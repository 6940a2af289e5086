// SendTargets (RFC 7143 appendix C) and TargetAddress values (RFC 7143 13.8): `host[:port][,tpgt]`, an IPv6
// address in brackets.
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import type { DiscoveredTarget, TargetAddress, TargetListing, TargetPortalAddress, TextPair } from './types.js'

/** The iSCSI well-known port (RFC 7143 13.8: the default when the port is omitted). */
export const ISCSI_PORT = 3260

function badAddress(message: string): NegotiationError {
  return new NegotiationError(NegotiationErrorCode.BadValue, message)
}

/** `host:port,tpgt` with an IPv6 host in brackets: `[::1]:3260,1`. */
export function formatTargetAddress(address: TargetPortalAddress | TargetAddress): string {
  const host = address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host
  const tag = address.portalGroupTag === undefined ? '' : `,${address.portalGroupTag}`
  return `${host}:${address.port}${tag}`
}

/** Parse a TargetAddress value; the port defaults to 3260 and the tag may be absent. */
export function parseTargetAddress(value: string): TargetAddress {
  let rest = value
  let portalGroupTag: number | undefined
  const comma = rest.lastIndexOf(',')
  if (comma !== -1) {
    const tag = rest.slice(comma + 1)
    if (!/^[0-9]{1,5}$/.test(tag) || Number(tag) > 65535) throw badAddress('TargetAddress with a bad portal group tag')
    portalGroupTag = Number(tag)
    rest = rest.slice(0, comma)
  }
  let host: string
  let port = ISCSI_PORT
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close === -1) throw badAddress('TargetAddress with an unclosed IPv6 bracket')
    host = rest.slice(1, close)
    const after = rest.slice(close + 1)
    if (after.length > 0) {
      if (!after.startsWith(':')) throw badAddress('TargetAddress with text after the IPv6 address')
      port = parsePort(after.slice(1))
    }
  } else {
    const colon = rest.lastIndexOf(':')
    if (colon !== -1) {
      if (rest.indexOf(':') !== colon) throw badAddress('TargetAddress with an IPv6 address outside brackets')
      host = rest.slice(0, colon)
      port = parsePort(rest.slice(colon + 1))
    } else {
      host = rest
    }
  }
  if (host.length === 0) throw badAddress('TargetAddress without a host')
  return { host, port, portalGroupTag }
}

function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw badAddress('TargetAddress with a bad port')
  return Number(text)
}

/** The pairs answering SendTargets: TargetName then one TargetAddress per portal (RFC 7143 appendix C). */
export function buildSendTargetsAnswer(targets: readonly TargetListing[]): TextPair[] {
  const pairs: TextPair[] = []
  for (const target of targets) {
    pairs.push({ key: 'TargetName', value: target.name })
    for (const address of target.addresses) pairs.push({ key: 'TargetAddress', value: formatTargetAddress(address) })
  }
  return pairs
}

/**
 * Read a SendTargets answer. A TargetAddress without a tag gets tag 1 (the default portal group); unrelated keys
 * are ignored. A TargetAddress before any TargetName is malformed.
 */
export function parseSendTargetsAnswer(pairs: readonly TextPair[]): DiscoveredTarget[] {
  const targets: { name: string; addresses: { host: string; port: number; tpgt: number }[] }[] = []
  for (const { key, value } of pairs) {
    if (key === 'TargetName') {
      if (value.length === 0) throw badAddress('SendTargets answer with an empty TargetName')
      targets.push({ name: value, addresses: [] })
    } else if (key === 'TargetAddress') {
      const current = targets.at(-1)
      if (current === undefined) throw badAddress('SendTargets answer with a TargetAddress before any TargetName')
      const address = parseTargetAddress(value)
      current.addresses.push({ host: address.host, port: address.port, tpgt: address.portalGroupTag ?? 1 })
    }
  }
  return targets
}

export interface SendTargetsContext {
  readonly sessionType: 'Normal' | 'Discovery'
  /** The target of a normal session. */
  readonly targetName: string | undefined
  /** Every target this initiator may see. */
  readonly visible: readonly TargetListing[]
}

/**
 * Which targets a SendTargets value selects (RFC 7143 appendix C): `All` every visible target (discovery sessions
 * only; undefined means answer SendTargets=Reject), empty the session's own target (normal sessions only), a name
 * that target when visible.
 */
export function selectSendTargets(value: string, context: SendTargetsContext): TargetListing[] | undefined {
  if (value === 'All') return context.sessionType === 'Discovery' ? [...context.visible] : undefined
  if (value === '') {
    if (context.sessionType !== 'Normal' || context.targetName === undefined) return undefined
    return context.visible.filter((t) => t.name === context.targetName)
  }
  return context.visible.filter((t) => t.name === value)
}
