// HOST:PORT addresses of portals and the metrics endpoint. IPv6 hosts are bracketed (`[::1]:3260`), as in URLs, so the
// last colon always separates the port.
import { isIP } from 'node:net'

export interface HostPort {
  readonly host: string
  readonly port: number
}

/** The IANA-registered iSCSI port (RFC 7143 13.12 and the IANA service registry). */
export const ISCSI_PORT = 3260

const HOSTNAME_PATTERN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * `host:port`, `[v6]:port`, or with `defaultPort` also a bare `host` / `[v6]`. IPv6 always takes brackets: `::1:3260` is
 * itself a valid IPv6 address, so without them a port could silently become part of the host. Returns a reason string
 * when the text is not an address.
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort | string {
  const input = text.trim()
  let host: string
  let portText: string | undefined
  if (input.startsWith('[')) {
    const close = input.indexOf(']')
    if (close < 0) return 'missing "]" after an IPv6 address'
    host = input.slice(1, close)
    const rest = input.slice(close + 1)
    if (rest !== '') {
      if (!rest.startsWith(':')) return 'expected ":PORT" after "]"'
      portText = rest.slice(1)
    }
    if (isIP(host) !== 6) return `"${host}" is not an IPv6 address`
  } else {
    const colon = input.lastIndexOf(':')
    if (colon >= 0) {
      host = input.slice(0, colon)
      portText = input.slice(colon + 1)
      if (host.includes(':')) return 'put an IPv6 address in brackets, like [::1]:3260'
    } else {
      host = input
    }
    if (isIP(host) === 0 && !HOSTNAME_PATTERN.test(host)) return `"${host}" is not a host name or IP address`
  }
  if (portText === undefined) {
    if (defaultPort === undefined) return 'expected HOST:PORT'
    return { host, port: defaultPort }
  }
  if (!/^\d{1,5}$/.test(portText)) return `"${portText}" is not a port number`
  const port = Number(portText)
  if (port > 65535) return `port ${port} is out of range (0-65535)`
  return { host, port }
}

/** `127.0.0.1:3260`, `[::1]:3260`. */
export function formatHostPort(address: HostPort): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

/** Whether only this machine can reach an address bound to `host`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return /^::ffff:127\./i.test(host)
}

/** The address a local client dials to reach a listener bound to `host` (a wildcard means this machine). */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '::1'
  return host
}
