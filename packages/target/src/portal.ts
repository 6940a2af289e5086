// One listening network portal (RFC 7143 4.4.1: an IP address and TCP port of a target portal group). IPv6 portals
// bind with ipv6Only so that '::' and '0.0.0.0' can share a port number.
import { createServer, isIPv6 } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { PortalConfig } from './config.js'
import { TargetError, TargetErrorCode } from './errors.js'

export interface BoundPortal {
  readonly host: string
  readonly port: number
  readonly tag: number
}

export class Portal {
  readonly tag: number
  readonly config: PortalConfig
  readonly #server: Server
  #bound: BoundPortal | undefined

  readonly #onError: (error: Error) => void

  constructor(
    tag: number,
    config: PortalConfig,
    onConnection: (socket: Socket, portal: Portal) => void,
    onError: (error: Error) => void,
  ) {
    this.tag = tag
    this.config = config
    this.#onError = onError
    this.#server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, (socket) => onConnection(socket, this))
  }

  /** The bound address (the real port when the configured one is 0), once listening. */
  get bound(): BoundPortal | undefined {
    return this.#bound
  }

  listen(): Promise<BoundPortal> {
    const { host, port } = this.config
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new TargetError(TargetErrorCode.Listen, `cannot listen on ${formatHostPort(host, port)}: ${error.message}`, { kind: 'none' }, { cause: error }))
      }
      this.#server.once('error', onError)
      this.#server.listen({ host, port, ipv6Only: isIPv6(host), backlog: 511 }, () => {
        this.#server.off('error', onError)
        // Accept errors after binding (EMFILE...) are reported, never thrown.
        this.#server.on('error', this.#onError)
        const address = this.#server.address()
        const realPort = typeof address === 'object' && address !== null ? address.port : port
        this.#bound = { host, port: realPort, tag: this.tag }
        resolve(this.#bound)
      })
    })
  }

  /**
   * Stop accepting. Existing connections are not touched (net.Server's close callback would wait for them all, so
   * this resolves once the listening socket is gone, not when the last connection ends).
   */
  close(): Promise<void> {
    if (!this.#server.listening) return Promise.resolve()
    return new Promise((resolve) => {
      this.#server.once('close', () => undefined)
      this.#server.close()
      setImmediate(resolve)
    })
  }
}

/** host:port with IPv6 hosts in brackets (RFC 3986 3.2.2, as TargetAddress uses, RFC 7143 13.8). */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}
