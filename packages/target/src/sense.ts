// Sense data the transport itself produces (the device server produces its own): iSCSI conditions of RFC 7143
// 11.4.7.2 and the SPC-4 data phase codes, always in fixed format (SPC-4 4.5.3).

/** ASC/ASCQ pairs the target uses to end a task on a transport error. */
export const TransportAsc = {
  /** RFC 7143 11.4.7.2: unsolicited data where none is allowed (InitialR2T=Yes / ImmediateData=No). */
  UNEXPECTED_UNSOLICITED_DATA: [0x0c, 0x0c],
  /** RFC 7143 11.4.7.2 (RFC 3720: "incorrect amount of data"): a burst shorter or longer than it must be. */
  NOT_ENOUGH_UNSOLICITED_DATA: [0x0c, 0x0d],
  /** RFC 7143 11.4.7.2: a data digest error the target could not recover from. */
  PROTOCOL_SERVICE_CRC_ERROR: [0x47, 0x05],
  /** SPC-4: DataSN out of order (no recovery at ErrorRecoveryLevel 0). */
  DATA_PHASE_ERROR: [0x4b, 0x00],
  /** SPC-4: Data-Out carrying a Target Transfer Tag that names no outstanding R2T. */
  INVALID_TARGET_PORT_TRANSFER_TAG_RECEIVED: [0x4b, 0x01],
  /** SPC-4: more Data-Out than solicited or than the command transfers. */
  TOO_MUCH_WRITE_DATA: [0x4b, 0x02],
  /** SPC-4: a Buffer Offset that does not continue the burst. */
  DATA_OFFSET_ERROR: [0x4b, 0x05],
  /** SPC-4: a LUN that is not mapped for this initiator. */
  LOGICAL_UNIT_NOT_SUPPORTED: [0x25, 0x00],
  /** SPC-4: a failure inside the target. */
  INTERNAL_TARGET_FAILURE: [0x44, 0x00],
} as const satisfies Record<string, readonly [number, number]>
export type TransportAscName = keyof typeof TransportAsc

export const SenseKeyCode = {
  NOT_READY: 0x02,
  HARDWARE_ERROR: 0x04,
  ILLEGAL_REQUEST: 0x05,
  ABORTED_COMMAND: 0x0b,
} as const

/** Fixed format sense data, current error, 18 bytes (SPC-4 4.5.3). */
export function fixedSense(senseKey: number, asc: number, ascq: number): Buffer {
  const sense = Buffer.alloc(18)
  sense[0] = 0x70
  sense[2] = senseKey & 0x0f
  sense[7] = 10
  sense[12] = asc & 0xff
  sense[13] = ascq & 0xff
  return sense
}
