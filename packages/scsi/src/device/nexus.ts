// The I_T nexus and the command/result shapes the transport exchanges with the device (SAM-5 4.7, 5.1). The scsi
// package never knows which transport built them.

/** The I_T nexus, built by the transport. */
export interface Nexus {
  /** Unique key of this I_T nexus (e.g. `${initiatorPort}|${targetPort}`). */
  readonly id: string
  /** SCSI initiator port name (iSCSI: "iqn.x,i,0x<isid>"). */
  readonly initiatorPort: string
  /** SCSI target port name (iSCSI: "iqn.y,t,0x<tpgt>"). */
  readonly targetPort: string
  /** Relative target port identifier (VPD 83h, PR full status). */
  readonly relativeTargetPortId: number
  /** Target port group (VPD 83h target port group designator). */
  readonly targetPortGroup?: number
  /** SPC-4 TransportID of the initiator port (PR); byte 0 bits 3-0 are the protocol identifier. */
  readonly transportId: Buffer
}

/** Task attribute (SAM-5 8.6). */
export type TaskAttribute = 'simple' | 'ordered' | 'head-of-queue' | 'aca' | 'untagged'

export interface ScsiCommand {
  readonly nexus: Nexus
  /** Decoded LUN number. */
  readonly lun: number
  /** The whole CDB (6..260 bytes); may be longer than the command's CDB (the 16-byte iSCSI field). */
  readonly cdb: Buffer
  /** Task tag, unique per nexus while the task lives. */
  readonly tag: number
  readonly attribute: TaskAttribute
  /** All data-out the initiator sent (write-type commands). */
  readonly dataOut?: Buffer
  /**
   * Bytes of data-out the initiator announced (iSCSI: the Expected Data Transfer Length of a write), when the
   * transport passes on less than it received (it may stop at what the CDB transfers). COMPARE AND WRITE and WRITE
   * SAME, whose data-out must be exactly what the CDB describes, refuse any other length. Absent: `dataOut.length`.
   */
  readonly expectedDataOutLength?: number
  /** Allocation the initiator expects (bytes); data-in is cut to it. */
  readonly expectedDataInLength: number
  /** Aborted by task management or the transport. */
  readonly signal?: AbortSignal
}

export interface ScsiResult {
  /** SCSI status (ScsiStatus table). */
  readonly status: number
  /** Sense data (fixed or descriptor format, per the control mode page D_SENSE). */
  readonly sense?: Buffer
  /** Data-in, never longer than expectedDataInLength. */
  readonly dataIn?: Buffer
  /** Bytes the command would transfer (for residual overflow/underflow). */
  readonly dataInLength?: number
  /** Bytes of data-out the CDB asked for (for write residuals). */
  readonly dataOutLength?: number
  /**
   * When present, `dataIn` is a pooled buffer: call this once it has been sent and nothing refers to it any more
   * (after the socket has written it, not when the write was queued), and it is reused for a later read. Never call
   * it twice or early. A transport that never calls it just leaves the buffer to the GC.
   */
  readonly release?: () => void
}
