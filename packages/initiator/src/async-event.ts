// Asynchronous Messages (RFC 7143 11.9) as the session reports them.
import { decodeLun, type AsyncMessagePdu } from '@iscsi-ts/pdu'
import { decodeSense, type DecodedSense } from './sense.js'

export interface AsyncEventInfo {
  event: number
  /** Name from RFC 7143 11.9.1. */
  name: string
  lun: number | undefined
  parameter1: number
  parameter2: number
  parameter3: number
  /** SCSI async event (event 0): the sense data. */
  sense?: DecodedSense
  senseData?: Buffer
  vendorCode: number
}

const asyncEventNames: Readonly<Record<number, string>> = {
  0: 'scsi-event',
  1: 'logout-requested',
  2: 'connection-drop',
  3: 'session-drop',
  4: 'negotiation-requested',
  5: 'task-termination',
  255: 'vendor-specific',
}

/** The caller's view of an Async Message: event name, LU, parameters and, for a SCSI event, its sense. */
export function asyncEventInfo(pdu: AsyncMessagePdu): AsyncEventInfo {
  let lun: number | undefined
  try {
    lun = decodeLun(pdu.lun)
  } catch {
    lun = undefined
  }
  const info: AsyncEventInfo = {
    event: pdu.asyncEvent,
    name: asyncEventNames[pdu.asyncEvent] ?? 'unknown',
    lun,
    parameter1: pdu.parameter1,
    parameter2: pdu.parameter2,
    parameter3: pdu.parameter3,
    vendorCode: pdu.asyncVCode,
  }
  // Event 0 carries SenseLength + sense data in its data segment (RFC 7143 11.9.4).
  if (pdu.asyncEvent === 0 && pdu.data.length >= 2) {
    const length = pdu.data.readUInt16BE(0)
    const sense = Buffer.from(pdu.data.subarray(2, 2 + Math.min(length, pdu.data.length - 2)))
    if (sense.length > 0) {
      info.senseData = sense
      info.sense = decodeSense(sense)
    }
  }
  return info
}
