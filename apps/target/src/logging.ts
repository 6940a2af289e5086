// Logs: pino JSON lines on stdout (or a short readable line when stdout is a terminal), and the target library's
// diagnostics_channel events turned into one line per connection, login, logout and error. Secrets never reach a
// line: the events carry none, the app logs none, and pino's `redact` censors any `secret`/`password` field anyway.
import pino from 'pino'
import type { LogLevel } from './config.js'
import { Channel, loginStatusLabel, readConnection, readError, readLogin, readLogout, readPdu, subscribeAll } from './events.js'

export type Logger = pino.Logger
export type LogFormat = 'json' | 'pretty'

/** Fields censored wherever they appear (up to five levels deep, also inside arrays). */
export const REDACT_PATHS: readonly string[] = ['secret', 'secrets', 'password'].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
  `*.*.*.*.${key}`,
  `*.*.*.*.*.${key}`,
])

export interface LogSink {
  write(line: string): unknown
}

export interface CreateLoggerOptions {
  readonly level: LogLevel
  /** `pretty` for a terminal (the default when stdout is a TTY), `json` lines otherwise. */
  readonly format?: LogFormat
  /** Where lines go (default: stdout, written synchronously so no line is lost at exit). */
  readonly sink?: LogSink
  /** ANSI colours in the pretty format (default: a TTY without NO_COLOR). */
  readonly color?: boolean
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json')
  const settings: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  const sink: LogSink = options.sink ?? pino.destination({ fd: 1, sync: true })
  if (format === 'json') return pino(settings, sink)
  const color = options.color ?? (process.stdout.isTTY && process.env.NO_COLOR === undefined)
  return pino(settings, { write: (line: string) => sink.write(formatPretty(line, color)) })
}

const LEVEL_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '34'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
}
const HIDDEN_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg'])

function renderValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' && !item.includes(','))) return value.join(',')
  if (typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string') {
    return JSON.stringify(value.message)
  }
  return JSON.stringify(value)
}

/** One pino JSON line as `12:00:00.123 INFO  listening portals=127.0.0.1:3260` (input lines that are not JSON pass through). */
export function formatPretty(line: string, color = false): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : new Date().toISOString().slice(11, 23)
  const [name, code] = LEVEL_NAMES[typeof record.level === 'number' ? record.level : 30] ?? ['INFO ', '32']
  const level = color ? `\x1b[${code}m${name}\x1b[0m` : name
  const fields = Object.entries(record)
    .filter(([key, value]) => !HIDDEN_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${renderValue(value)}`)
  const msg = typeof record.msg === 'string' ? record.msg : ''
  return `${time} ${level} ${[msg, ...fields].filter((part) => part !== '').join(' ')}\n`
}

/** Log the target's events; returns the function that stops. Subscribe again after changing the level. */
export function subscribeLogs(logger: Logger): () => void {
  // Channels logged only at debug/trace are not subscribed otherwise: the library publishes only to listeners.
  return subscribeAll({
    ...(logger.isLevelEnabled('debug')
      ? {
          [Channel.connection]: (message: unknown) => {
            const event = readConnection(message)
            const fields = { remote: event.remote, local: event.local, cid: event.cid, reason: event.reason }
            logger.debug(fields, event.event === 'open' ? 'connection opened' : 'connection closed')
          },
        }
      : {}),
    [Channel.login]: (message) => {
      const event = readLogin(message)
      const fields = {
        initiator: event.initiatorName,
        target: event.targetName,
        isid: event.isid,
        tsih: event.tsih,
        type: event.type,
        remote: event.remote,
      }
      if (event.event === 'success') logger.info(fields, 'login')
      else logger.warn({ ...fields, status: loginStatusLabel(event), reason: event.reason }, 'login failed')
    },
    [Channel.logout]: (message) => {
      const event = readLogout(message)
      logger.info(
        { initiator: event.initiatorName, target: event.targetName, isid: event.isid, tsih: event.tsih, reason: event.reason },
        'logout',
      )
    },
    [Channel.error]: (message) => {
      const event = readError(message)
      logger.warn({ kind: event.kind, code: event.code, remote: event.remote, error: event.message }, 'error')
    },
    ...(logger.isLevelEnabled('trace')
      ? {
          [Channel.pduReceive]: (message: unknown) => logger.trace(readPdu(message), 'pdu received'),
          [Channel.pduSend]: (message: unknown) => logger.trace(readPdu(message), 'pdu sent'),
        }
      : {}),
  })
}
