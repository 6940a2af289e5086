// Prometheus metrics: a prom-client registry fed by the target library's diagnostics_channel events (commands,
// logins, errors) and by its live counters at scrape time (sessions, connections), served at /metrics over node:http.
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { type HostPort, formatHostPort } from './address.js'
import { StartupError } from './errors.js'
import { Channel, loginStatusLabel, readCommand, readError, readLogin, subscribeAll } from './events.js'

/** What the metrics read from the running target at scrape time (IscsiTarget satisfies it). */
export interface TargetStatsSource {
  readonly stats: { readonly sessions: number; readonly connections: number }
  sessions(): ReadonlyArray<{ readonly type: string; readonly targetName: string }>
}

// Command latencies from 50 us (a RAM disk) to 10 s (a stalled backstore).
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const LABEL_MAX = 64

/** A label value from a number (hex, as opcodes and statuses are written in the specs) or a string (bounded). */
export function labelValue(value: string | number | undefined, width = 2): string {
  if (value === undefined) return 'unknown'
  if (typeof value === 'number') return `0x${value.toString(16).padStart(width, '0')}`
  return value.slice(0, LABEL_MAX)
}

export interface ServerMetricsOptions {
  /** The target to read sessions and connections from at scrape time. */
  readonly source?: () => TargetStatsSource | undefined
  /** Collect prom-client's default process and Node.js metrics (default true). */
  readonly defaultMetrics?: boolean
}

export class ServerMetrics {
  readonly registry = new Registry()
  readonly commands: Counter<'target' | 'opcode' | 'status'>
  readonly bytesIn: Counter<'target'>
  readonly bytesOut: Counter<'target'>
  readonly latency: Histogram<'target'>
  readonly logins: Counter<'type' | 'result'>
  readonly loginFailures: Counter<'status'>
  readonly logouts: Counter
  readonly connectionsOpened: Counter
  readonly errors: Counter<'kind'>
  readonly reloads: Counter<'result'>

  constructor(options: ServerMetricsOptions = {}) {
    const registers = [this.registry]
    const source = options.source ?? (() => undefined)
    new Gauge({
      name: 'iscsi_sessions',
      help: 'iSCSI sessions now open, by session type and target',
      labelNames: ['type', 'target'] as const,
      registers,
      collect() {
        this.reset()
        const target = source()
        if (target === undefined) return
        for (const session of target.sessions()) this.inc({ type: session.type, target: session.targetName })
      },
    })
    new Gauge({
      name: 'iscsi_connections',
      help: 'TCP connections now open (logged in or logging in)',
      registers,
      collect() {
        this.set(source()?.stats.connections ?? 0)
      },
    })
    this.commands = new Counter({
      name: 'iscsi_commands_total',
      help: 'SCSI commands completed, by target, CDB opcode and SCSI status',
      labelNames: ['target', 'opcode', 'status'] as const,
      registers,
    })
    this.bytesIn = new Counter({
      name: 'iscsi_bytes_in_total',
      help: 'Data bytes received from initiators (write data)',
      labelNames: ['target'] as const,
      registers,
    })
    this.bytesOut = new Counter({
      name: 'iscsi_bytes_out_total',
      help: 'Data bytes sent to initiators (read data)',
      labelNames: ['target'] as const,
      registers,
    })
    this.latency = new Histogram({
      name: 'iscsi_command_duration_seconds',
      help: 'SCSI command latency from the command PDU to its response',
      labelNames: ['target'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.logins = new Counter({
      name: 'iscsi_logins_total',
      help: 'Completed login phases, by session type and result',
      labelNames: ['type', 'result'] as const,
      registers,
    })
    this.loginFailures = new Counter({
      name: 'iscsi_login_failures_total',
      help: 'Failed logins by login status class and detail (RFC 7143 11.13.5), e.g. 0x0201 authentication failure',
      labelNames: ['status'] as const,
      registers,
    })
    this.logouts = new Counter({ name: 'iscsi_logouts_total', help: 'Sessions or connections logged out', registers })
    this.connectionsOpened = new Counter({ name: 'iscsi_connections_opened_total', help: 'TCP connections accepted', registers })
    this.errors = new Counter({
      name: 'iscsi_errors_total',
      help: 'Errors reported by the target, by kind',
      labelNames: ['kind'] as const,
      registers,
    })
    this.reloads = new Counter({
      name: 'iscsi_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by result',
      labelNames: ['result'] as const,
      registers,
    })
    for (const result of ['success', 'failure']) this.reloads.inc({ result }, 0)
    if (options.defaultMetrics ?? true) this.collectDefaults()
  }

  #defaults = false

  /**
   * Start collecting prom-client's default process and Node.js metrics (idempotent). Its GC duration histogram
   * observes every garbage collection, which costs a busy target CPU on every command it serves: a server turns it
   * on only when /metrics is served.
   */
  collectDefaults(): void {
    if (this.#defaults) return
    this.#defaults = true
    collectDefaultMetrics({ register: this.registry })
  }

  /** Count the target's events; returns the function that stops. */
  subscribe(): () => void {
    return subscribeAll({
      [Channel.command]: (message) => {
        const event = readCommand(message)
        const target = labelValue(event.targetName)
        this.commands.inc({ target, opcode: labelValue(event.opcode), status: labelValue(event.status) })
        if (event.bytesIn > 0) this.bytesIn.inc({ target }, event.bytesIn)
        if (event.bytesOut > 0) this.bytesOut.inc({ target }, event.bytesOut)
        this.latency.observe({ target }, event.durationNs / 1e9)
      },
      [Channel.login]: (message) => {
        const event = readLogin(message)
        this.logins.inc({ type: labelValue(event.type), result: event.event })
        if (event.event === 'failure') this.loginFailures.inc({ status: loginStatusLabel(event) })
      },
      [Channel.logout]: () => this.logouts.inc(),
      [Channel.connection]: (message) => {
        if (typeof message === 'object' && message !== null && (message as { event?: unknown }).event === 'open') this.connectionsOpened.inc()
      },
      [Channel.error]: (message) => this.errors.inc({ kind: labelValue(readError(message).kind) }),
    })
  }
}

export interface MetricsServer {
  readonly address: HostPort
  close(): Promise<void>
}

/** Serve `registry` at http://HOST:PORT/metrics (port 0: any free port; see `.address`). */
export async function startMetricsServer(listen: HostPort, registry: Registry): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path === '/metrics') {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end()
        return
      }
      registry.metrics().then(
        (body) => {
          response.writeHead(200, { 'content-type': registry.contentType })
          response.end(request.method === 'HEAD' ? undefined : body)
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`)
        },
      )
    } else if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('iscsi-target: metrics at /metrics\n')
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new StartupError(`cannot serve metrics on ${formatHostPort(listen)} (${error.code ?? error.message})`, { cause: error }))
    }
    server.once('error', onError)
    server.listen(listen.port, listen.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  return {
    address: { host: listen.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
