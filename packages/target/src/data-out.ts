// Receiving one write command's data (RFC 7143 4.2.4 Data Transfer, 11.7 Data-Out, 11.8 R2T): immediate data,
// unsolicited Data-Out up to FirstBurstLength, then solicited bursts through R2Ts (at most MaxOutstandingR2T at a
// time, each at most MaxBurstLength). Everything is checked (DataSN, Buffer Offset, burst lengths, F bits) and any
// mismatch is a DataOutError that ends the task with CHECK CONDITION (ErrorRecoveryLevel 0 has no recovery within
// the command). The bytes the command needs are assembled into one Buffer; bytes beyond what the command transfers
// (Expected Data Transfer Length above the CDB's length) are checked and dropped.
import { RESERVED_TAG } from '@iscsi-ts/pdu'
import type { DataOutPdu } from '@iscsi-ts/pdu'
import { DataOutError } from './errors.js'
import { TransportAsc } from './sense.js'

export interface BurstParameters {
  readonly initialR2T: boolean
  readonly immediateData: boolean
  readonly firstBurstLength: number
  readonly maxBurstLength: number
  readonly maxOutstandingR2T: number
}

/** One R2T to send (RFC 7143 11.8). */
export interface R2TRequest {
  readonly ttt: number
  readonly r2tSN: number
  readonly bufferOffset: number
  readonly desiredDataTransferLength: number
}

interface OutstandingR2T {
  readonly r2tSN: number
  readonly offset: number
  readonly end: number
  next: number
  dataSN: number
}

const NO_R2TS: readonly R2TRequest[] = []

function fail(code: readonly [number, number], message: string): never {
  throw new DataOutError(code[0], code[1], message)
}

export class WriteTransfer {
  /** Expected Data Transfer Length of the write direction. */
  readonly expected: number
  /** Bytes kept for the command: min(EDTL, what the CDB transfers). */
  readonly needed: number
  readonly #burst: BurstParameters
  readonly #buffer: Buffer
  /** Where unsolicited data ends: immediate data only (F=1), else min(FirstBurstLength, EDTL). */
  #unsolicitedEnd: number
  #unsolicitedNext: number
  #unsolicitedDataSN = 0
  #unsolicitedOpen: boolean
  #nextR2TOffset: number
  #nextR2TSN = 0
  /** Outstanding R2Ts by TTT; made with the first R2T (most writes come whole as immediate data). */
  #r2ts: Map<number, OutstandingR2T> | undefined

  /**
   * Validates the command's immediate data and F bit (RFC 7143 11.2.1, 13.10 ImmediateData, 13.11 InitialR2T,
   * 13.14 FirstBurstLength). Throws DataOutError.
   */
  constructor(options: {
    readonly expectedDataTransferLength: number
    readonly needed: number
    readonly immediate: Buffer
    readonly final: boolean
    readonly burst: BurstParameters
  }) {
    const { immediate, burst } = options
    this.expected = options.expectedDataTransferLength
    this.needed = Math.min(options.needed, this.expected)
    this.#burst = burst
    if (immediate.length > 0 && !burst.immediateData) {
      fail(TransportAsc.UNEXPECTED_UNSOLICITED_DATA, 'immediate data sent with ImmediateData=No')
    }
    if (immediate.length > this.expected) {
      fail(TransportAsc.TOO_MUCH_WRITE_DATA, `${immediate.length} bytes of immediate data exceed EDTL ${this.expected}`)
    }
    if (immediate.length > burst.firstBurstLength) {
      fail(TransportAsc.NOT_ENOUGH_UNSOLICITED_DATA, `${immediate.length} bytes of immediate data exceed FirstBurstLength`)
    }
    if (!options.final && burst.initialR2T) {
      fail(TransportAsc.UNEXPECTED_UNSOLICITED_DATA, 'unsolicited Data-Out announced with InitialR2T=Yes')
    }
    const unsolicitedLimit = Math.min(burst.firstBurstLength, this.expected)
    this.#unsolicitedOpen = !options.final && immediate.length < unsolicitedLimit
    if (!options.final && !this.#unsolicitedOpen && immediate.length === this.expected && this.expected > 0) {
      // F=0 although the immediate data already covered the whole transfer: nothing can follow.
      fail(TransportAsc.TOO_MUCH_WRITE_DATA, 'F=0 on a command whose immediate data is the whole transfer')
    }
    this.#unsolicitedEnd = options.final ? immediate.length : unsolicitedLimit
    this.#unsolicitedNext = immediate.length
    this.#nextR2TOffset = this.#unsolicitedEnd
    if (this.needed <= immediate.length) {
      // Everything the command needs came with the command: keep a view, no copy.
      this.#buffer = immediate.subarray(0, this.needed)
    } else {
      this.#buffer = Buffer.allocUnsafe(this.needed)
      immediate.copy(this.#buffer, 0, 0, Math.min(immediate.length, this.needed))
    }
  }

  /** True while unsolicited Data-Out (TTT 0xffffffff) may still come. */
  get unsolicitedOpen(): boolean {
    return this.#unsolicitedOpen
  }

  /** True when every byte the command needs is here and no burst is still open. */
  get complete(): boolean {
    return !this.#unsolicitedOpen && (this.#r2ts?.size ?? 0) === 0 && this.#nextR2TOffset >= this.needed
  }

  /** R2TSNs used so far (bidirectional commands continue DataSN after them). */
  get r2tCount(): number {
    return this.#nextR2TSN
  }

  get outstandingR2Ts(): number {
    return this.#r2ts?.size ?? 0
  }

  /** The assembled data (length `needed`); valid once `complete`. */
  get data(): Buffer {
    return this.#buffer
  }

  /** The R2Ts to send now to keep up to MaxOutstandingR2T bursts open (RFC 7143 13.17). */
  nextR2Ts(allocateTtt: () => number): readonly R2TRequest[] {
    // Most writes come whole as immediate data: nothing to solicit, nothing allocated.
    if (this.#nextR2TOffset >= this.needed) return NO_R2TS
    const out: R2TRequest[] = []
    const r2ts = (this.#r2ts ??= new Map())
    while (r2ts.size < this.#burst.maxOutstandingR2T && this.#nextR2TOffset < this.needed) {
      const offset = this.#nextR2TOffset
      const length = Math.min(this.#burst.maxBurstLength, this.needed - offset)
      const ttt = allocateTtt()
      const r2tSN = this.#nextR2TSN
      this.#nextR2TSN = (this.#nextR2TSN + 1) >>> 0
      r2ts.set(ttt, { r2tSN, offset, end: offset + length, next: offset, dataSN: 0 })
      this.#nextR2TOffset = offset + length
      out.push({ ttt, r2tSN, bufferOffset: offset, desiredDataTransferLength: length })
    }
    return out
  }

  /** Take one Data-Out PDU of this task (RFC 7143 11.7). Throws DataOutError on any mismatch. */
  receive(pdu: DataOutPdu): void {
    const length = pdu.data.length
    const offset = pdu.bufferOffset
    if (pdu.ttt === RESERVED_TAG) {
      if (!this.#unsolicitedOpen) {
        fail(TransportAsc.UNEXPECTED_UNSOLICITED_DATA, 'unsolicited Data-Out where none may follow')
      }
      if (pdu.dataSN !== this.#unsolicitedDataSN) {
        fail(TransportAsc.DATA_PHASE_ERROR, `unsolicited Data-Out DataSN ${pdu.dataSN}, expected ${this.#unsolicitedDataSN}`)
      }
      if (offset !== this.#unsolicitedNext) {
        fail(TransportAsc.DATA_OFFSET_ERROR, `unsolicited Data-Out at offset ${offset}, expected ${this.#unsolicitedNext}`)
      }
      const end = offset + length
      if (end > this.#unsolicitedEnd) {
        fail(TransportAsc.NOT_ENOUGH_UNSOLICITED_DATA, `unsolicited data reaches ${end}, beyond ${this.#unsolicitedEnd} (FirstBurstLength/EDTL)`)
      }
      if (pdu.final && end !== this.#unsolicitedEnd) {
        fail(TransportAsc.NOT_ENOUGH_UNSOLICITED_DATA, `unsolicited burst ended at ${end}, must reach ${this.#unsolicitedEnd}`)
      }
      this.#store(offset, pdu.data)
      this.#unsolicitedNext = end
      this.#unsolicitedDataSN = (this.#unsolicitedDataSN + 1) >>> 0
      if (pdu.final) this.#unsolicitedOpen = false
      return
    }
    const r2t = this.#r2ts?.get(pdu.ttt)
    if (r2t === undefined) {
      fail(TransportAsc.INVALID_TARGET_PORT_TRANSFER_TAG_RECEIVED, `Data-Out with TTT 0x${pdu.ttt.toString(16)} answers no outstanding R2T`)
    }
    if (pdu.dataSN !== r2t.dataSN) {
      fail(TransportAsc.DATA_PHASE_ERROR, `Data-Out DataSN ${pdu.dataSN}, expected ${r2t.dataSN} (R2TSN ${r2t.r2tSN})`)
    }
    if (offset !== r2t.next) {
      fail(TransportAsc.DATA_OFFSET_ERROR, `Data-Out at offset ${offset}, expected ${r2t.next} (R2TSN ${r2t.r2tSN})`)
    }
    const end = offset + length
    if (end > r2t.end) {
      fail(TransportAsc.NOT_ENOUGH_UNSOLICITED_DATA, `Data-Out reaches ${end}, beyond the R2T's ${r2t.end}`)
    }
    if (pdu.final && end !== r2t.end) {
      fail(TransportAsc.NOT_ENOUGH_UNSOLICITED_DATA, `burst for R2TSN ${r2t.r2tSN} ended at ${end}, R2T asked up to ${r2t.end}`)
    }
    this.#store(offset, pdu.data)
    r2t.next = end
    r2t.dataSN = (r2t.dataSN + 1) >>> 0
    if (pdu.final) this.#r2ts?.delete(pdu.ttt)
  }

  #store(offset: number, data: Buffer): void {
    if (offset >= this.needed || data.length === 0) return
    data.copy(this.#buffer, offset, 0, Math.min(data.length, this.needed - offset))
  }
}
