// One SCSI task of a session (RFC 7143 3.2.2, 4.2): the command's fields, the data-out being received, its place
// in the CmdSN order, and how it ends (a response, or termination by task management, logout or connection loss,
// after which nothing more is sent for it).
import type { ScsiCommandPdu } from '@iscsi-ts/pdu'
import type { WriteTransfer } from './data-out.js'
import type { TargetError } from './errors.js'

export type TaskState = 'receiving' | 'executing' | 'done'

export type TaskAttributeName = 'simple' | 'ordered' | 'head-of-queue' | 'aca' | 'untagged'

/** ATTR (RFC 7143 11.3.1.4) to the SAM task attribute names the device uses. */
export function taskAttribute(attr: number): TaskAttributeName {
  switch (attr) {
    case 0:
      return 'untagged'
    case 2:
      return 'ordered'
    case 3:
      return 'head-of-queue'
    case 4:
      return 'aca'
    default:
      return 'simple'
  }
}

/** The connection side a task needs: where its responses go (connection allegiance, RFC 7143 4.2.3.1). */
export interface TaskOwner {
  readonly cid: number
}

export class Task<C extends TaskOwner = TaskOwner> {
  readonly itt: number
  readonly cmdSN: number
  readonly immediate: boolean
  /** The raw LUN field, echoed where a response carries one. */
  readonly lunField: bigint
  /** The initiator-visible LUN number, -1 when the LUN field's address method is not supported. */
  readonly lun: number
  readonly cdb: Buffer
  readonly attribute: TaskAttributeName
  readonly read: boolean
  readonly write: boolean
  readonly expectedDataTransferLength: number
  readonly expectedBidirectionalReadLength: number
  readonly connection: C
  /** performance.now() at arrival when someone listens to the command channel, else 0. */
  startedAt = 0
  /**
   * The target LUN while the device executes the task, else -1: terminating it then aborts it in the device
   * (SAM-5 7.2), which is what an AbortSignal per task would do, without one per command.
   */
  deviceLun = -1
  state: TaskState = 'receiving'
  /** Reached in CmdSN order (immediate commands are delivered on arrival). */
  delivered = false
  /** Holds a slot of the CmdSN window until it ends. */
  holdsSlot = false
  terminated = false
  transfer: WriteTransfer | undefined
  /** An error found before execution; the task ends with it once delivered. */
  error: TargetError | undefined
  /** A status decided by the transport before execution (TASK SET FULL when the write budget is spent). */
  presetStatus: number | undefined
  /** Bytes of data-out the CDB transfers (write residuals, RFC 7143 11.4.5). */
  wantedOut = 0
  /** Data-In budget held on the connection while executing (bytes). */
  admitted = 0
  /** Write budget held (bytes). */
  reservedBytes = 0
  /** Data-In PDUs plus R2Ts sent (ExpDataSN of the SCSI Response, RFC 7143 11.4.8). */
  dataPdus = 0
  #settled: Promise<void> | undefined
  #resolve: (() => void) | undefined

  constructor(pdu: ScsiCommandPdu, lun: number, connection: C) {
    this.itt = pdu.itt
    this.cmdSN = pdu.cmdSN
    this.immediate = pdu.immediate
    this.lunField = pdu.lun
    this.lun = lun
    this.cdb = pdu.cdb
    this.attribute = taskAttribute(pdu.attribute)
    this.read = pdu.read
    this.write = pdu.write
    this.expectedDataTransferLength = pdu.expectedDataTransferLength
    this.expectedBidirectionalReadLength = pdu.expectedBidirectionalReadLength ?? 0
    this.connection = connection
  }

  /** Resolves when the task has ended (responded or terminated) and the device is done with it. */
  get settled(): Promise<void> {
    // Made only when task management waits for the task, not for every command.
    if (this.#settled === undefined) {
      this.#settled =
        this.state === 'done'
          ? Promise.resolve()
          : new Promise((resolve) => {
              this.#resolve = resolve
            })
    }
    return this.#settled
  }

  /** Bytes the initiator expects to read (bidirectional commands: the AHS length, RFC 7143 11.2.2.4). */
  get expectedReadLength(): number {
    if (!this.read) return 0
    return this.write ? this.expectedBidirectionalReadLength : this.expectedDataTransferLength
  }

  markDone(): void {
    if (this.state === 'done') return
    this.state = 'done'
    this.#resolve?.()
  }
}
