// node:diagnostics_channel channels of the target (docs/TARGET-CONTRACT.md). Messages are plain objects and never
// carry a secret. High-rate channels (command, PDUs) are published only when someone subscribes.
import diagnostics from 'node:diagnostics_channel'

export const channels = {
  connection: diagnostics.channel('iscsi:target:connection'),
  login: diagnostics.channel('iscsi:target:login'),
  logout: diagnostics.channel('iscsi:target:logout'),
  command: diagnostics.channel('iscsi:target:command'),
  error: diagnostics.channel('iscsi:target:error'),
  pduReceive: diagnostics.channel('iscsi:target:pdu:receive'),
  pduSend: diagnostics.channel('iscsi:target:pdu:send'),
} as const

export interface ConnectionEvent {
  readonly event: 'open' | 'close'
  readonly remote: string
  readonly local: string
  readonly cid?: number
  readonly reason?: string
}

export interface LoginEvent {
  readonly event: 'success' | 'failure'
  readonly initiatorName: string
  readonly targetName: string
  readonly isid: string
  readonly tsih: number
  readonly type: 'Normal' | 'Discovery'
  readonly remote: string
  readonly statusClass?: number
  readonly statusDetail?: number
  readonly reason?: string
}

export interface LogoutEvent {
  readonly initiatorName: string
  readonly targetName: string
  readonly isid: string
  readonly tsih: number
  readonly reason: string
}

export interface CommandEvent {
  readonly targetName: string
  readonly lun: number
  readonly opcode: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly durationNs: number
  readonly status: number
}

export interface ErrorEvent {
  readonly kind: string
  readonly message: string
  readonly remote?: string
  readonly code: string
}

export interface PduEvent {
  readonly opcode: number
  readonly itt: number
  readonly remote: string
}

export function publishConnection(message: ConnectionEvent): void {
  if (channels.connection.hasSubscribers) channels.connection.publish(message)
}

export function publishLogin(message: LoginEvent): void {
  if (channels.login.hasSubscribers) channels.login.publish(message)
}

export function publishLogout(message: LogoutEvent): void {
  if (channels.logout.hasSubscribers) channels.logout.publish(message)
}

export function publishError(message: ErrorEvent): void {
  if (channels.error.hasSubscribers) channels.error.publish(message)
}
