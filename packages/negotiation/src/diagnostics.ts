// node:diagnostics_channel events of the negotiation engines. Messages are plain objects and never carry a secret,
// a CHAP challenge or a CHAP response.
import { channel } from 'node:diagnostics_channel'
import type { NegotiationRole, SessionTypeName } from './types.js'

export const LOGIN_CHANNEL = 'iscsi:negotiation:login'
export const TEXT_CHANNEL = 'iscsi:negotiation:text'

export interface LoginEvent {
  readonly role: NegotiationRole
  readonly event: 'success' | 'failure' | 'redirect' | 'stage'
  readonly stage?: number
  readonly initiatorName?: string
  readonly targetName?: string
  readonly sessionType?: SessionTypeName
  readonly statusClass?: number
  readonly statusDetail?: number
  readonly code?: string
  readonly reason?: string
}

export interface TextEvent {
  readonly role: NegotiationRole
  readonly event: 'exchange' | 'reject'
  readonly keys: readonly string[]
  readonly code?: string
}

const login = channel(LOGIN_CHANNEL)
const text = channel(TEXT_CHANNEL)

export function publishLogin(event: LoginEvent): void {
  if (login.hasSubscribers) login.publish(event)
}

export function publishText(event: TextEvent): void {
  if (text.hasSubscribers) text.publish(event)
}
