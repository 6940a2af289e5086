// `host[:port]` arguments: `10.0.0.5`, `10.0.0.5:3261`, `san.example`, `[fe80::1]:3260`, `[::1]`, `::1`.
import { UsageError } from './errors.js'
import type { Portal } from './session.js'

export const DEFAULT_PORT = 3260

function port(text: string, original: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`invalid port in '${original}' (1-65535)`)
  }
  return Number(text)
}

/** Parse a portal; a bare IPv6 address (more than one colon, no brackets) has no port. */
export function parsePortal(text: string): Portal {
  const value = text.trim()
  if (value === '') throw new UsageError('empty portal (use host[:port], IPv6 in brackets: [::1]:3260)')
  const bracketed = /^\[([0-9a-fA-F:.%a-zA-Z0-9]+)\](?::(.*))?$/.exec(value)
  if (bracketed) {
    const host = bracketed[1] ?? ''
    if (!host.includes(':')) throw new UsageError(`'${text}': brackets are for IPv6 addresses`)
    return { host, port: bracketed[2] === undefined ? DEFAULT_PORT : port(bracketed[2], text) }
  }
  const colons = value.split(':').length - 1
  if (colons > 1) {
    if (!/^[0-9a-fA-F:.%a-zA-Z0-9]+$/.test(value)) throw new UsageError(`invalid portal '${text}'`)
    return { host: value, port: DEFAULT_PORT }
  }
  const [host = '', portText] = value.split(':')
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) throw new UsageError(`invalid host in portal '${text}'`)
  return { host, port: portText === undefined ? DEFAULT_PORT : port(portText, text) }
}

/** `10.0.0.5:3260`, `[::1]:3260`. */
export function formatPortal(portal: Portal): string {
  return portal.host.includes(':') ? `[${portal.host}]:${portal.port}` : `${portal.host}:${portal.port}`
}
