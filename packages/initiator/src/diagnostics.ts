// Observability: node:diagnostics_channel channels the initiator publishes on. Messages are plain objects and never
// carry a CHAP secret. Per-command and per-PDU channels are only published when someone subscribes.
import { channel } from 'node:diagnostics_channel'

export const channels = {
  /** { event: 'open' | 'close', address, localAddress?, cid, targetName?, reason? } */
  connection: channel('iscsi:initiator:connection'),
  /** { event: 'success' | 'failure' | 'redirect', address, targetName, initiatorName, sessionType, isid, tsih?, cid?, statusClass?, statusDetail?, reason?, redirectTo? } */
  login: channel('iscsi:initiator:login'),
  /** { targetName, isid, tsih, reason } */
  logout: channel('iscsi:initiator:logout'),
  /** { targetName, lun, opcode, itt, cmdSN, cid, bytesIn, bytesOut, durationNs, status, error? } (only with subscribers) */
  command: channel('iscsi:initiator:command'),
  /** { event: 'failed' | 'reconnecting' | 'reconnected' | 'retry' | 'closed' | 'async', targetName, ... } */
  session: channel('iscsi:initiator:session'),
  /** { function, lun, referencedTaskTag?, response?, targetName } */
  taskManagement: channel('iscsi:initiator:task-management'),
  /** { kind, message, code, targetName?, address? } */
  error: channel('iscsi:initiator:error'),
  /** { opcode, itt, address } (only with subscribers) */
  pduSend: channel('iscsi:initiator:pdu:send'),
  pduReceive: channel('iscsi:initiator:pdu:receive'),
} as const

export const CHANNEL_NAMES = {
  connection: 'iscsi:initiator:connection',
  login: 'iscsi:initiator:login',
  logout: 'iscsi:initiator:logout',
  command: 'iscsi:initiator:command',
  session: 'iscsi:initiator:session',
  taskManagement: 'iscsi:initiator:task-management',
  error: 'iscsi:initiator:error',
  pduSend: 'iscsi:initiator:pdu:send',
  pduReceive: 'iscsi:initiator:pdu:receive',
} as const
