// The life of one iscsi-target process: open the units, start the IscsiTarget and the metrics endpoint, say how to
// connect, then react to signals: SIGHUP reloads the configuration (a bad one is logged and the running one kept),
// SIGTERM/SIGINT shut down gracefully, and a second one forces the exit.
import { IscsiTarget } from '@iscsi-ts/target'
import { type HostPort, connectHost, formatHostPort, isLoopback } from './address.js'
import { type UnitOpener, type PreparedUnits, UnitPool } from './build.js'
import type { AuthSettings, ServerConfig } from './config.js'
import { ConfigError, ExitCode, StartupError } from './errors.js'
import { type LogFormat, type Logger, createLogger, subscribeLogs } from './logging.js'
import { type MetricsServer, ServerMetrics, startMetricsServer } from './metrics.js'
import { formatSize } from './units.js'

export interface BoundPortal {
  readonly host: string
  readonly port: number
  readonly tag: number
}

export interface RunServerOptions {
  readonly config: ServerConfig
  /** Reads the configuration again (SIGHUP, reload()); absent: nothing to reload. Throws ConfigError. */
  readonly reloadConfig?: () => Promise<ServerConfig>
  /** Default: a pino logger on stdout at config.logLevel. */
  readonly logger?: Logger
  readonly logFormat?: LogFormat
  /** Install SIGHUP/SIGTERM/SIGINT handlers (default true). */
  readonly handleSignals?: boolean
  /** Opens backstores and logical units (default: FileBackstore / MemoryBackstore + LogicalUnit). */
  readonly openUnit?: UnitOpener
}

export interface RunningServer {
  readonly target: IscsiTarget
  readonly logger: Logger
  readonly metrics: ServerMetrics
  /** Where the target listens (real ports, also for port 0). */
  readonly portals: readonly BoundPortal[]
  /** Where /metrics is served, if it is. */
  readonly metricsAddress: HostPort | undefined
  /** The configuration in force. */
  readonly config: ServerConfig
  /** Re-read and apply the configuration; false when it was rejected (the running one stays). */
  reload(): Promise<boolean>
  /** Stop: graceful (initiators asked to log out, then a bounded drain) unless told otherwise. */
  shutdown(options?: { graceful?: boolean }): Promise<void>
  /** Settles with the process exit code once the server stopped on a signal or shutdown(). */
  readonly done: Promise<number>
}

/** A stop signal this soon after the first is the same signal delivered twice, not a request to force the exit. */
export const DUPLICATE_SIGNAL_MS = 250

/** Targets reachable on a non-loopback portal without CHAP (initiator-name ACLs do not authenticate anyone). */
export function exposureWarnings(config: ServerConfig, portals: readonly BoundPortal[]): Array<{ target: string; portals: string[] }> {
  const warnings: Array<{ target: string; portals: string[] }> = []
  const hasChap = (auth: AuthSettings | undefined) => auth?.chap !== undefined
  for (const target of config.targets) {
    const open = portals.filter((portal) => target.portalGroups.includes(portal.tag) && !isLoopback(portal.host))
    if (open.length === 0) continue
    const unauthenticated = !hasChap(target.auth) && (target.acls.length === 0 || target.acls.some((acl) => !hasChap(acl.auth)))
    if (unauthenticated) warnings.push({ target: target.name, portals: open.map(formatHostPort) })
  }
  return warnings
}

/** `iscsi://127.0.0.1:3260/iqn.../0` for each LUN of each target, through its first portal. */
export function connectUrls(config: ServerConfig, portals: readonly BoundPortal[]): Array<{ target: string; urls: string[]; discover: string }> {
  const result: Array<{ target: string; urls: string[]; discover: string }> = []
  for (const target of config.targets) {
    const portal = portals.find((candidate) => target.portalGroups.includes(candidate.tag))
    if (portal === undefined) continue
    const host = connectHost(portal.host)
    const address = formatHostPort({ host, port: portal.port })
    const user = target.auth?.chap === undefined ? '' : `${target.auth.chap.user}%<secret>@`
    // libiscsi URLs: iscsi://[user[%password]@]host[:port]/target-iqn/lun
    const base = portal.port === 3260 ? (host.includes(':') ? `[${host}]` : host) : address
    result.push({
      target: target.name,
      urls: target.luns.map((lun) => `iscsi://${user}${address}/${target.name}/${lun.lun}`),
      discover: `iscsi-ls -s iscsi://${user}${base}`,
    })
  }
  return result
}

function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) return { issues: error.issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)) }
  if (error instanceof Error) return { error: error.message, ...('code' in error && typeof error.code === 'string' ? { code: error.code } : {}) }
  return { error: String(error) }
}

function isTargetConfigError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === 'ISCSI_ERR_TARGET_CONFIG'
}

/** The system error code (EADDRINUSE, EACCES) somewhere in an error's cause chain, else its message. */
function errnoOf(error: unknown): string {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
  }
  return error instanceof Error ? error.message : String(error)
}

function sameAddress(a: HostPort | undefined, b: HostPort | undefined): boolean {
  return a?.host === b?.host && a?.port === b?.port
}

/** Start serving `config`. Throws ConfigError (exit 2) or StartupError (exit 1) when it cannot start. */
export async function runServer(options: RunServerOptions): Promise<RunningServer> {
  let config = options.config
  const logger = options.logger ?? createLogger({ level: config.logLevel, ...(options.logFormat === undefined ? {} : { format: options.logFormat }) })
  const pool = new UnitPool(options.openUnit)
  let target: IscsiTarget | undefined
  // prom-client's default metrics only while /metrics is served (their GC observer costs CPU per collection).
  const metrics = new ServerMetrics({ source: () => target, defaultMetrics: config.metrics !== undefined })
  let unsubscribeLogs = subscribeLogs(logger)
  // Commands are published only while someone listens; count them only when metrics are served.
  let unsubscribeMetrics = config.metrics === undefined ? () => undefined : metrics.subscribe()
  let metricsServer: MetricsServer | undefined
  let prepared: PreparedUnits | undefined
  let portals: BoundPortal[] = []

  const logImages = (units: PreparedUnits) => {
    for (const image of units.images) {
      logger.info({ path: image.path, ...(image.size === undefined ? {} : { size: formatSize(image.size) }) }, image.action === 'created' ? 'created image' : 'grew image')
    }
  }

  try {
    prepared = await pool.prepare(config)
    logImages(prepared)
    try {
      target = new IscsiTarget(prepared.options)
    } catch (error) {
      // The schema checks what the library checks; should they ever disagree, it is still a configuration error.
      if (isTargetConfigError(error)) throw new ConfigError([{ path: '', message: error.message }], undefined, { cause: error })
      throw error
    }
    try {
      portals = await target.listen()
    } catch (error) {
      const where = config.portalGroups.flatMap((group) => group.portals.map(formatHostPort)).join(', ')
      throw new StartupError(`cannot listen on ${where} (${errnoOf(error)})`, { cause: error })
    }
    await prepared.commit()
    if (config.metrics !== undefined) metricsServer = await startMetricsServer(config.metrics, metrics.registry)
  } catch (error) {
    unsubscribeLogs()
    unsubscribeMetrics()
    await target?.close({ graceful: false }).catch(() => undefined)
    await prepared?.discard().catch(() => undefined)
    await pool.close().catch(() => undefined)
    throw error
  }
  const iscsiTarget = target

  const announce = (bound: readonly BoundPortal[]) => {
    for (const warning of exposureWarnings(config, bound)) {
      logger.warn(
        warning,
        `target ${warning.target} is reachable beyond this machine without authentication: set chap (initiator-name ACLs are not authentication)`,
      )
    }
  }

  // Reloads run one at a time, in order.
  let reloadChain: Promise<boolean> = Promise.resolve(true)
  const applyReload = async (): Promise<boolean> => {
    if (options.reloadConfig === undefined) {
      logger.info('reload requested, but the target runs from flags: nothing to reload (use --config)')
      return false
    }
    const reject = (error: unknown, stage: string) => {
      metrics.reloads.inc({ result: 'failure' })
      logger.error({ stage, ...errorFields(error) }, 'reload failed; the running configuration stays')
      return false
    }
    let next: ServerConfig
    try {
      next = await options.reloadConfig()
    } catch (error) {
      return reject(error, 'config')
    }
    let units: PreparedUnits
    try {
      units = await pool.prepare(next)
    } catch (error) {
      return reject(error, 'units')
    }
    try {
      await iscsiTarget.reload(units.options)
    } catch (error) {
      await units.discard().catch(() => undefined)
      return reject(error, 'target')
    }
    try {
      await units.commit()
    } catch (error) {
      logger.warn(errorFields(error), 'closing a removed LUN failed')
    }
    logImages(units)
    const previous = config
    config = next
    if (next.logLevel !== logger.level) {
      logger.level = next.logLevel
      unsubscribeLogs()
      unsubscribeLogs = subscribeLogs(logger)
    }
    if (!sameAddress(previous.metrics, next.metrics)) {
      unsubscribeMetrics()
      unsubscribeMetrics = next.metrics === undefined ? () => undefined : metrics.subscribe()
      await metricsServer?.close()
      metricsServer = undefined
      if (next.metrics !== undefined) {
        metrics.collectDefaults()
        try {
          metricsServer = await startMetricsServer(next.metrics, metrics.registry)
          logger.info({ url: `http://${formatHostPort(metricsServer.address)}/metrics` }, 'metrics listening')
        } catch (error) {
          logger.error(errorFields(error), 'metrics endpoint not started')
        }
      }
    }
    metrics.reloads.inc({ result: 'success' })
    logger.info(
      { targets: next.targets.length, added: units.opened.map((unit) => unit.description), removed: units.retired.map((unit) => unit.description) },
      'configuration reloaded',
    )
    // Portals may have changed with the reload: judge exposure from the configured addresses.
    announce(next.portalGroups.flatMap((group) => group.portals.map((portal) => ({ ...portal, tag: group.tag }))))
    return true
  }
  const reload = (): Promise<boolean> => {
    reloadChain = reloadChain.then(applyReload, applyReload)
    return reloadChain
  }

  let resolveDone: (code: number) => void = () => undefined
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })
  let stopping: Promise<void> | undefined
  const shutdown = (shutdownOptions: { graceful?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      const graceful = shutdownOptions.graceful ?? true
      logger.info({ graceful, timeoutMs: config.timers.shutdownTimeoutMs, sessions: iscsiTarget.stats.sessions }, 'shutting down')
      try {
        await iscsiTarget.close({ graceful, timeoutMs: config.timers.shutdownTimeoutMs })
      } finally {
        unsubscribeLogs()
        unsubscribeMetrics()
        await metricsServer?.close()
        await pool.close()
      }
      logger.info('stopped')
    })()
    return stopping
  }

  if (options.handleSignals ?? true) {
    let firstSignalAt: number | undefined
    const onStop = (signal: NodeJS.Signals) => {
      if (firstSignalAt !== undefined) {
        // One Ctrl-C can arrive twice: the terminal signals the whole process group and a wrapper (pnpm, run-app.mjs)
        // forwards it as well. Only a signal sent deliberately later forces the exit.
        if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) {
          logger.debug({ signal }, 'repeated signal ignored')
          return
        }
        logger.warn({ signal }, 'second signal: forcing exit')
        void iscsiTarget.close({ graceful: false }).catch(() => undefined)
        resolveDone(ExitCode.RUNTIME)
        return
      }
      firstSignalAt = Date.now()
      logger.info({ signal }, 'signal received')
      shutdown().then(
        () => resolveDone(ExitCode.OK),
        (error: unknown) => {
          logger.error(errorFields(error), 'shutdown failed')
          resolveDone(ExitCode.RUNTIME)
        },
      )
    }
    const onHangup = () => {
      logger.info({ signal: 'SIGHUP' }, 'reloading configuration')
      void reload()
    }
    process.on('SIGTERM', onStop)
    process.on('SIGINT', onStop)
    process.on('SIGHUP', onHangup)
    void done.then(() => {
      process.off('SIGTERM', onStop)
      process.off('SIGINT', onStop)
      process.off('SIGHUP', onHangup)
    })
  }

  // Announce only now that the signal handlers are in place: whoever waits for 'listening' may signal at once.
  logger.info({ portals: portals.map(formatHostPort), targets: config.targets.length }, 'listening')
  for (const entry of connectUrls(config, portals)) {
    logger.info({ target: entry.target, urls: entry.urls, discover: entry.discover }, 'connect')
  }
  if (metricsServer !== undefined) logger.info({ url: `http://${formatHostPort(metricsServer.address)}/metrics` }, 'metrics listening')
  announce(portals)

  return {
    target: iscsiTarget,
    logger,
    metrics,
    get portals() {
      return portals
    },
    get metricsAddress() {
      return metricsServer?.address
    },
    get config() {
      return config
    },
    reload,
    shutdown: async (shutdownOptions) => {
      try {
        await shutdown(shutdownOptions)
        resolveDone(ExitCode.OK)
      } catch (error) {
        resolveDone(ExitCode.RUNTIME)
        throw error
      }
    },
    done,
  }
}
