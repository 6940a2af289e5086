// The node:diagnostics_channel events @iscsi-ts/target publishes (docs/TARGET-CONTRACT.md), read defensively: the
// app turns them into logs and metrics and must never crash on a message with a missing or odd field.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'

export const Channel = {
  connection: 'iscsi:target:connection',
  login: 'iscsi:target:login',
  logout: 'iscsi:target:logout',
  command: 'iscsi:target:command',
  error: 'iscsi:target:error',
  pduReceive: 'iscsi:target:pdu:receive',
  pduSend: 'iscsi:target:pdu:send',
} as const
export type ChannelName = (typeof Channel)[keyof typeof Channel]

export interface ConnectionEvent {
  readonly event: 'open' | 'close'
  readonly remote?: string
  readonly local?: string
  readonly cid?: number
  readonly reason?: string
}
export interface LoginEvent {
  readonly event: 'success' | 'failure'
  readonly initiatorName?: string
  readonly targetName?: string
  readonly isid?: string
  readonly tsih?: number
  readonly type?: string
  readonly remote?: string
  readonly statusClass?: number
  readonly statusDetail?: number
  readonly reason?: string
}
export interface LogoutEvent {
  readonly initiatorName?: string
  readonly targetName?: string
  readonly isid?: string
  readonly tsih?: number
  readonly reason?: string
}
export interface CommandEvent {
  readonly targetName?: string
  readonly lun?: number
  readonly opcode?: string | number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly durationNs: number
  readonly status?: string | number
}
export interface ErrorEvent {
  readonly kind: string
  readonly message?: string
  readonly remote?: string
  readonly code?: string
}
export interface PduEvent {
  readonly opcode?: string | number
  readonly itt?: number
  readonly remote?: string
}

type Fields = Record<string, unknown>

function asFields(message: unknown): Fields {
  return typeof message === 'object' && message !== null ? (message as Fields) : {}
}
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  return undefined
}
function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'bigint') return Number(value)
  return undefined
}
function label(value: unknown): string | number | undefined {
  return typeof value === 'number' ? value : text(value)
}
/** Copy the defined entries only (exactOptionalPropertyTypes-friendly). */
function defined<T extends object>(fields: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T
}

export function readConnection(message: unknown): ConnectionEvent {
  const m = asFields(message)
  return defined<ConnectionEvent>({
    event: m.event === 'close' ? 'close' : 'open',
    remote: text(m.remote),
    local: text(m.local),
    cid: num(m.cid),
    reason: text(m.reason),
  })
}
export function readLogin(message: unknown): LoginEvent {
  const m = asFields(message)
  return defined<LoginEvent>({
    event: m.event === 'success' ? 'success' : 'failure',
    initiatorName: text(m.initiatorName),
    targetName: text(m.targetName),
    isid: text(m.isid),
    tsih: num(m.tsih),
    type: text(m.type),
    remote: text(m.remote),
    statusClass: num(m.statusClass),
    statusDetail: num(m.statusDetail),
    reason: text(m.reason),
  })
}
export function readLogout(message: unknown): LogoutEvent {
  const m = asFields(message)
  return defined<LogoutEvent>({
    initiatorName: text(m.initiatorName),
    targetName: text(m.targetName),
    isid: text(m.isid),
    tsih: num(m.tsih),
    reason: text(m.reason),
  })
}
export function readCommand(message: unknown): CommandEvent {
  const m = asFields(message)
  return defined<CommandEvent>({
    targetName: text(m.targetName),
    lun: num(m.lun),
    opcode: label(m.opcode),
    bytesIn: num(m.bytesIn) ?? 0,
    bytesOut: num(m.bytesOut) ?? 0,
    durationNs: num(m.durationNs) ?? 0,
    status: label(m.status),
  })
}
export function readError(message: unknown): ErrorEvent {
  const m = asFields(message)
  return defined<ErrorEvent>({ kind: text(m.kind) ?? 'unknown', message: text(m.message), remote: text(m.remote), code: text(m.code) })
}
export function readPdu(message: unknown): PduEvent {
  const m = asFields(message)
  return defined<PduEvent>({ opcode: label(m.opcode), itt: num(m.itt), remote: text(m.remote) })
}

/** `0x0201`: a login status class and detail (RFC 7143 11.13.5) as one label. */
export function loginStatusLabel(event: LoginEvent): string {
  if (event.statusClass === undefined) return 'unknown'
  const hex = (n: number) => n.toString(16).padStart(2, '0')
  return `0x${hex(event.statusClass)}${hex(event.statusDetail ?? 0)}`
}

/** Subscribe handlers to channels; returns the function that unsubscribes them all. */
export function subscribeAll(handlers: Partial<Record<ChannelName, (message: unknown) => void>>): () => void {
  const entries = Object.entries(handlers) as Array<[ChannelName, (message: unknown) => void]>
  // Node reports a subscriber that throws as an uncaught exception on the next tick, which would end the process:
  // each handler is fenced instead.
  const fenced = entries.map(([name, handler]): [ChannelName, (message: unknown) => void] => [
    name,
    (message) => {
      try {
        handler(message)
      } catch {
        // An observability handler must never break the protocol path; the event is lost, nothing else.
      }
    },
  ])
  for (const [name, handler] of fenced) subscribe(name, handler)
  return () => {
    for (const [name, handler] of fenced) unsubscribe(name, handler)
  }
}
