// IscsiTarget: the public face of the package (docs/TARGET-CONTRACT.md). It owns the portals, the target nodes and
// their SCSI devices, the session table (TSIH allocation, session reinstatement lookups), target-wide limits and the
// shutdown sequence (Async Message "logout requested", drain, close; RFC 7143 11.9.1).
import { isIPv4, isIPv6 } from 'node:net'
import type { Socket } from 'node:net'
import { ChapChallengeCache, LoginStatus, NegotiationError, NegotiationErrorCode } from '@iscsi-ts/negotiation'
import type { AuthPolicy, LoginContext, TargetListing, TargetLoginPolicy, TargetPortalAddress } from '@iscsi-ts/negotiation'
import type { LogicalUnit } from '@iscsi-ts/scsi'
import { publishError } from './channels.js'
import type { AuthConfig, IscsiTargetOptions, PortalConfig, ResolvedLimits } from './config.js'
import { normalizeName, resolveLimits, validateOptions } from './config.js'
import { Connection } from './connection.js'
import type { ConnectionHost } from './connection.js'
import { TargetError, TargetErrorCode } from './errors.js'
import { authPolicy, operationalPreferences } from './login-policy.js'
import { LoginThrottle } from './login-throttle.js'
import type { LoginThrottleOptions } from './login-throttle.js'
import { LunView } from './lun-view.js'
import { Portal } from './portal.js'
import type { BoundPortal } from './portal.js'
import { Session } from './session.js'
import type { SessionHost, SessionInit } from './session.js'
import { TargetNode } from './target-node.js'

export interface SessionInfo {
  tsih: number
  isid: string
  initiatorName: string
  targetName: string
  type: 'Normal' | 'Discovery'
  connections: number
}

export interface CloseOptions {
  /** Ask initiators to log out (Async Message), let their I/O drain, then close. Default false. */
  graceful?: boolean
  /** How long a graceful close waits for logouts before dropping the rest (default 10000 ms). */
  timeoutMs?: number
}

type State = 'idle' | 'listening' | 'closing' | 'closed'

/**
 * How long the one connection let in beyond maxConnectionsPerInitiatorAddress has to send its Login Request (which
 * is answered with 0x0302, RFC 7143 11.13.5) before it is dropped; every further one is dropped at accept.
 */
const OVER_LIMIT_GRACE_MS = 250

function portalKey(tag: number, portal: PortalConfig): string {
  return `${tag}|${portal.host}|${portal.port}`
}

function throttleOptions(limits: ResolvedLimits): LoginThrottleOptions {
  return {
    maxFailures: limits.loginFailureLimit,
    windowMs: limits.loginFailureWindowMs,
    lockoutMs: limits.loginLockoutMs,
    maxAddresses: limits.loginThrottleAddresses,
  }
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 form. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped?.[1] ?? address
}

export class IscsiTarget {
  #options: IscsiTargetOptions
  #limits: ResolvedLimits
  #state: State = 'idle'
  readonly #portals = new Map<string, Portal>()
  readonly #nodes = new Map<string, TargetNode>()
  readonly #sessions = new Map<number, Session<Connection>>()
  readonly #connections = new Set<Connection>()
  readonly #perAddress = new Map<string, number>()
  readonly #replayCache = new ChapChallengeCache()
  readonly #loginThrottle: LoginThrottle
  #pendingWriteBytes = 0
  #nextTsih = 0
  #sessionsEmptied: (() => void) | undefined
  readonly #host: ConnectionHost & SessionHost

  constructor(options: IscsiTargetOptions) {
    validateOptions(options)
    this.#options = options
    this.#limits = resolveLimits(options.limits)
    this.#loginThrottle = new LoginThrottle(throttleOptions(this.#limits))
    for (const config of options.targets) {
      const node = new TargetNode(config)
      this.#nodes.set(node.key, node)
    }
    this.#host = this.#makeHost()
  }

  /** Live sessions and connections (connections still logging in included). */
  get stats(): { sessions: number; connections: number } {
    return { sessions: this.#sessions.size, connections: this.#connections.size }
  }

  /** Bind every portal of every portal group. Resolves with the bound addresses (port 0 becomes the real port). */
  async listen(): Promise<Array<{ host: string; port: number; tag: number }>> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new TargetError(TargetErrorCode.Closed, 'the target is closed')
    }
    if (this.#state === 'listening') return this.#boundPortals()
    this.#state = 'listening'
    try {
      for (const group of this.#options.portalGroups) {
        for (const config of group.portals) await this.#openPortal(group.tag, config)
      }
    } catch (error) {
      await Promise.all([...this.#portals.values()].map((portal) => portal.close()))
      this.#portals.clear()
      this.#state = 'idle'
      throw error
    }
    return this.#boundPortals()
  }

  /** Live sessions. */
  sessions(): SessionInfo[] {
    return [...this.#sessions.values()].map((session) => ({
      tsih: session.tsih,
      isid: session.isidHex,
      initiatorName: session.initiatorName,
      targetName: session.targetName ?? '',
      type: session.type,
      connections: session.connections.size,
    }))
  }

  /**
   * Apply a new configuration: portals, targets, LUNs and ACLs are added, changed or removed. Sessions stay when
   * their target still exists and still admits their initiator (their LUN mapping follows the new ACL); the others
   * are closed. New limits apply to new connections and sessions.
   */
  async reload(options: IscsiTargetOptions): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new TargetError(TargetErrorCode.Closed, 'the target is closed')
    }
    validateOptions(options)
    const limits = resolveLimits(options.limits)
    // Portals: close the ones that went, open the new ones (when listening).
    const wanted = new Map<string, { tag: number; config: PortalConfig }>()
    for (const group of options.portalGroups) {
      for (const config of group.portals) wanted.set(portalKey(group.tag, config), { tag: group.tag, config })
    }
    for (const [key, portal] of [...this.#portals]) {
      if (!wanted.has(key)) {
        this.#portals.delete(key)
        await portal.close()
      }
    }
    this.#options = options
    this.#limits = limits
    this.#loginThrottle.configure(throttleOptions(limits))
    if (this.#state === 'listening') {
      for (const [key, { tag, config }] of wanted) {
        if (!this.#portals.has(key)) await this.#openPortal(tag, config)
      }
    }
    // Targets, in two passes: detach every logical unit that leaves or moves, then attach the new inventory (a
    // logical unit belongs to one device at a time).
    const configs = new Map(options.targets.map((config) => [normalizeName(config.name), config]))
    const keptUnits = new Set(options.targets.flatMap((config) => [...config.luns.values()]))
    const detached: LogicalUnit[] = []
    const removed: TargetNode[] = []
    for (const [key, node] of [...this.#nodes]) {
      const config = configs.get(key)
      detached.push(...node.detachChanged(config))
      if (config === undefined) {
        this.#nodes.delete(key)
        removed.push(node)
      }
    }
    for (const node of removed) {
      for (const session of this.#sessionsOf(node)) session.close('target removed')
      await node.close()
    }
    for (const [key, config] of configs) {
      const node = this.#nodes.get(key)
      if (node === undefined) this.#nodes.set(key, new TargetNode(config))
      else node.attach(config)
    }
    // Units no target serves any more are closed (their backstores with them).
    await Promise.all(detached.filter((unit) => !keptUnits.has(unit)).map((unit) => unit.close()))
    // Sessions of the remaining targets: re-check the ACL and follow the new LUN mapping.
    for (const session of [...this.#sessions.values()]) {
      const node = session.node
      if (node === undefined) continue
      const access = node.access(session.initiatorName)
      if (!access.allowed || !node.reachableThrough(session.portalGroupTag)) {
        session.close('access revoked by reload')
        continue
      }
      session.view = new LunView(access.lunMap)
    }
  }

  /**
   * Stop the target. Graceful: no new logins, every session is asked to log out (Async Message event 1 with
   * Parameter3 = the seconds left), and the target waits for them (their commands complete meanwhile) up to
   * `timeoutMs`; whatever remains is then closed. Otherwise every connection is dropped at once.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closing'
    await Promise.all([...this.#portals.values()].map((portal) => portal.close()))
    this.#portals.clear()
    const timeoutMs = options.timeoutMs ?? 10000
    if (options.graceful === true && this.#sessions.size > 0) {
      const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
      for (const session of [...this.#sessions.values()]) {
        if (session.type === 'Discovery') {
          session.close('target shutting down')
          continue
        }
        for (const connection of session.connections.values()) connection.requestLogout(seconds)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs)
        function done(): void {
          clearTimeout(timer)
          resolve()
        }
        this.#sessionsEmptied = done
        if (this.#sessions.size === 0) done()
      })
      this.#sessionsEmptied = undefined
    }
    for (const session of [...this.#sessions.values()]) session.close('target shutting down')
    const closing = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.phase === 'closed') {
            resolve()
            return
          }
          connection.socket.once('close', () => resolve())
          connection.close('target shutting down')
        }),
    )
    await Promise.all(closing)
    await Promise.all([...this.#nodes.values()].map((node) => node.close()))
    this.#state = 'closed'
  }

  // ---------------------------------------------------------------------------------------------------------------

  async #openPortal(tag: number, config: PortalConfig): Promise<void> {
    const portal = new Portal(
      tag,
      config,
      (socket, from) => this.#accept(socket, from),
      (error) => publishError({ kind: 'portal', message: error.message, code: TargetErrorCode.Listen }),
    )
    await portal.listen()
    this.#portals.set(portalKey(tag, config), portal)
  }

  #boundPortals(): BoundPortal[] {
    return [...this.#portals.values()].flatMap((portal) => (portal.bound === undefined ? [] : [portal.bound]))
  }

  #accept(socket: Socket, portal: Portal): void {
    if (this.#state !== 'listening') {
      socket.destroy()
      return
    }
    socket.on('error', () => undefined)
    const address = plainAddress(socket.remoteAddress ?? '')
    const count = this.#perAddress.get(address) ?? 0
    const limit = this.#limits.maxConnectionsPerInitiatorAddress
    if (count > limit) {
      // A connection flood from one address: hold nothing for it, not even until the login timeout.
      socket.destroy()
      return
    }
    this.#perAddress.set(address, count + 1)
    const connection = new Connection(socket, portal.tag, this.#host)
    this.#connections.add(connection)
    if (count === limit) {
      // One beyond the limit is let in to be told 0x0302 at login; one that stays silent (or still finds the address
      // over the limit) is dropped soon.
      const grace = setTimeout(() => {
        if (connection.phase === 'login' && (this.#perAddress.get(address) ?? 0) > limit) connection.close('too many connections from one address')
      }, OVER_LIMIT_GRACE_MS)
      grace.unref()
    }
  }

  /**
   * The authentication policy of a login. One that must authenticate, from an address locked out after failed CHAP
   * responses, is refused with 0x0301 (login-throttle.ts); logins that need no authentication go on (there is no
   * secret to guess).
   */
  #authPolicyFor(connection: Connection, auth: AuthConfig | undefined): AuthPolicy {
    const policy = authPolicy(auth)
    if (!policy.methods.includes('CHAP')) return policy
    const lockedFor = this.#loginThrottle.lockedFor(plainAddress(connection.remoteAddress))
    if (lockedFor > 0) {
      throw new NegotiationError(
        NegotiationErrorCode.AuthenticationFailed,
        `too many failed CHAP responses from ${connection.remoteAddress}; refused for ${Math.ceil(lockedFor / 1000)} s`,
        { kind: 'login', ...LoginStatus.SERVICE_UNAVAILABLE },
      )
    }
    return policy
  }

  #sessionsOf(node: TargetNode): Session<Connection>[] {
    return [...this.#sessions.values()].filter((session) => session.node === node && !session.closed)
  }

  /** Addresses of a target for SendTargets (RFC 7143 appendix C): every portal of its portal groups. */
  #listing(node: TargetNode, connection: Connection): TargetListing {
    const addresses: TargetPortalAddress[] = []
    const local = plainAddress(connection.localAddress)
    for (const group of this.#options.portalGroups) {
      if (!node.reachableThrough(group.tag)) continue
      for (const config of group.portals) {
        const bound = this.#portals.get(portalKey(group.tag, config))?.bound
        const port = bound?.port ?? config.port
        let host = config.host
        // A wildcard portal is announced under the address this initiator reached us on, when the family matches.
        if (host === '0.0.0.0' || host === '::') {
          const family = host === '0.0.0.0' ? isIPv4 : isIPv6
          if (!family(local)) continue
          host = local
        }
        addresses.push({ host, port, portalGroupTag: group.tag })
      }
    }
    return { name: node.name, ...(node.config.alias !== undefined ? { alias: node.config.alias } : {}), addresses }
  }

  #makeHost(): ConnectionHost & SessionHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const target = this
    return {
      get limits(): ResolvedLimits {
        return target.#limits
      },
      get closing(): boolean {
        return target.#state === 'closing' || target.#state === 'closed'
      },
      get sessionCount(): number {
        return target.#sessions.size
      },
      loginPolicy(connection: Connection, observe: (context: LoginContext) => void): TargetLoginPolicy {
        const tag = connection.portalGroupTag
        return {
          resolveTarget(context: LoginContext) {
            observe(context)
            const node = target.#nodes.get(normalizeName(context.targetName))
            if (node === undefined || !node.reachableThrough(tag)) {
              return { exists: false, allowed: false, auth: { methods: ['None'] }, portalGroupTag: tag }
            }
            const access = node.access(context.initiatorName)
            return {
              exists: true,
              allowed: access.allowed,
              auth: target.#authPolicyFor(connection, access.auth),
              portalGroupTag: tag,
              ...(node.config.alias !== undefined ? { alias: node.config.alias } : {}),
            }
          },
          discovery: {
            auth: authPolicy(target.#options.discoveryAuth),
            allowed: (initiatorName: string) => {
              observe({ targetName: '', initiatorName, initiatorAlias: undefined, isid: undefined })
              target.#authPolicyFor(connection, target.#options.discoveryAuth)
              return true
            },
            portalGroupTag: tag,
          },
          limits: operationalPreferences(target.#limits),
          replayCache: target.#replayCache,
        }
      },
      sessionByTsih(tsih: number) {
        return target.#sessions.get(tsih)
      },
      findSession(initiatorName: string, isid: string, targetName: string | undefined) {
        const name = normalizeName(initiatorName)
        const wantedTarget = targetName === undefined ? undefined : normalizeName(targetName)
        for (const session of target.#sessions.values()) {
          if (session.closed || session.isidHex !== isid || normalizeName(session.initiatorName) !== name) continue
          const sessionTarget = session.targetName === undefined ? undefined : normalizeName(session.targetName)
          if (sessionTarget === wantedTarget) return session
        }
        return undefined
      },
      openSession(init: Omit<SessionInit, 'host' | 'tsih'>) {
        // TSIH: 16 bits, never 0 (RFC 7143 11.12.6), unique among live sessions.
        for (let i = 0; i < 0xffff; i++) {
          target.#nextTsih = (target.#nextTsih % 0xffff) + 1
          if (!target.#sessions.has(target.#nextTsih)) {
            const session = new Session<Connection>({ ...init, tsih: target.#nextTsih, host: target.#host })
            target.#sessions.set(session.tsih, session)
            return session
          }
        }
        return undefined
      },
      connectionsFrom(address: string): number {
        return target.#perAddress.get(plainAddress(address)) ?? 0
      },
      authenticationFailed(address: string): void {
        target.#loginThrottle.failed(plainAddress(address))
      },
      nodeOf(name: string) {
        return target.#nodes.get(normalizeName(name))
      },
      sessionsOf(node: TargetNode) {
        return target.#sessionsOf(node)
      },
      listTargets(connection: Connection, session: Session<Connection>, initiatorName: string): TargetListing[] {
        if (session.type === 'Normal') {
          // In a normal session SendTargets reports only the session's target (RFC 7143 appendix C).
          return session.node === undefined ? [] : [target.#listing(session.node, connection)]
        }
        const listings: TargetListing[] = []
        for (const node of target.#nodes.values()) {
          if (!node.access(initiatorName).allowed) continue
          const listing = target.#listing(node, connection)
          if (listing.addresses.length > 0) listings.push(listing)
        }
        return listings
      },
      connectionClosed(connection: Connection): void {
        target.#connections.delete(connection)
        const address = plainAddress(connection.remoteAddress)
        const count = (target.#perAddress.get(address) ?? 1) - 1
        if (count <= 0) target.#perAddress.delete(address)
        else target.#perAddress.set(address, count)
      },
      reserveWriteBytes(bytes: number): boolean {
        if (bytes <= 0) return true
        if (target.#pendingWriteBytes > 0 && target.#pendingWriteBytes + bytes > target.#limits.maxPendingWriteBytes) return false
        target.#pendingWriteBytes += bytes
        return true
      },
      releaseWriteBytes(bytes: number): void {
        target.#pendingWriteBytes = Math.max(0, target.#pendingWriteBytes - bytes)
      },
      sessionClosed(session: Session<Connection>): void {
        if (target.#sessions.get(session.tsih) === session) target.#sessions.delete(session.tsih)
        if (target.#sessions.size === 0) target.#sessionsEmptied?.()
      },
    }
  }
}
