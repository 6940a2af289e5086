// What one session sees of its target's logical units. Without an ACL LUN map every LUN is passed to the device
// under its own number. With a map (AclConfig.luns) the transport translates initiator-visible LUNs to target LUNs
// and answers for the LUNs the initiator must not see, as SPC-4 asks of a LUN that is not supported: REPORT LUNS
// lists only mapped LUNs (SPC-4 6.33), INQUIRY returns peripheral qualifier 011b (SPC-4 6.6.2), REQUEST SENSE returns
// LOGICAL UNIT NOT SUPPORTED as parameter data (SPC-4 6.39), every other command ends in CHECK CONDITION with
// ILLEGAL REQUEST / LOGICAL UNIT NOT SUPPORTED (SAM-5 5.11).
import { encodeLun } from '@iscsi-ts/pdu'
import type { ScsiResult } from '@iscsi-ts/scsi'
import { SenseKeyCode, TransportAsc, fixedSense } from './sense.js'

const REPORT_LUNS = 0xa0
const INQUIRY = 0x12
const REQUEST_SENSE = 0x03

const GOOD = 0x00
const CHECK_CONDITION = 0x02

export type LunRoute =
  /** Pass to the device with this LUN. */
  | { readonly kind: 'device'; readonly lun: number }
  /** The transport answers (the command needs no device). */
  | { readonly kind: 'local'; readonly result: ScsiResult }

export class LunView {
  /** Initiator-visible LUN -> target LUN; undefined = identity. */
  readonly map: ReadonlyMap<number, number> | undefined
  /** One route object per target LUN, made once: routing a command allocates nothing. */
  readonly #routes = new Map<number, LunRoute>()

  constructor(map: ReadonlyMap<number, number> | undefined) {
    this.map = map
  }

  #device(lun: number): LunRoute {
    let route = this.#routes.get(lun)
    if (route === undefined) {
      route = { kind: 'device', lun }
      this.#routes.set(lun, route)
    }
    return route
  }

  /** The target LUN behind a visible one, or undefined when it is not mapped. */
  resolve(visible: number): number | undefined {
    if (this.map === undefined) return visible
    return this.map.get(visible)
  }

  /** Visible LUNs, ascending (only meaningful with a map). */
  visibleLuns(): number[] {
    return this.map === undefined ? [] : [...this.map.keys()].sort((a, b) => a - b)
  }

  /**
   * Where a command to visible LUN `visible` goes. `visible` is -1 when the LUN field used an address method the
   * transport does not support: such a LUN exists nowhere.
   */
  route(visible: number, cdb: Buffer, allocation: number): LunRoute {
    if (this.map === undefined) {
      if (visible >= 0) return this.#device(visible)
      return { kind: 'local', result: unsupportedLun(cdb, allocation) }
    }
    const opcode = cdb[0]
    if (opcode === REPORT_LUNS) return { kind: 'local', result: this.#reportLuns(cdb, allocation) }
    const real = visible >= 0 ? this.map.get(visible) : undefined
    if (real !== undefined) return this.#device(real)
    return { kind: 'local', result: unsupportedLun(cdb, allocation) }
  }

  /** REPORT LUNS parameter data (SPC-4 6.33): the mapped LUNs under their visible numbers. */
  #reportLuns(cdb: Buffer, allocation: number): ScsiResult {
    if (cdb.length < 12) return checkCondition(SenseKeyCode.ILLEGAL_REQUEST, 0x24, 0x00)
    const select = cdb[2]
    const allocationLength = cdb.readUInt32BE(6)
    // SELECT REPORT 01h: well-known LUNs only, of which there are none here.
    const luns = select === 0x01 ? [] : this.visibleLuns()
    const data = Buffer.alloc(8 + 8 * luns.length)
    data.writeUInt32BE(8 * luns.length, 0)
    luns.forEach((lun, i) => data.writeBigUInt64BE(encodeLun(lun), 8 + 8 * i))
    const cut = Math.min(data.length, allocationLength, allocation)
    return { status: GOOD, dataIn: data.subarray(0, cut), dataInLength: Math.min(data.length, allocationLength) }
  }
}

function checkCondition(senseKey: number, asc: number, ascq: number): ScsiResult {
  return { status: CHECK_CONDITION, sense: fixedSense(senseKey, asc, ascq) }
}

/** The answer for a LUN that is not there (SPC-4 6.6.2, 6.39; SAM-5 5.11). */
export function unsupportedLun(cdb: Buffer, allocation: number): ScsiResult {
  const [asc, ascq] = TransportAsc.LOGICAL_UNIT_NOT_SUPPORTED
  const opcode = cdb[0]
  if (opcode === INQUIRY && cdb.length >= 6 && (cdb[1]! & 0x01) === 0) {
    // Standard INQUIRY data: PERIPHERAL QUALIFIER 011b, DEVICE TYPE 1Fh: no device can be attached here.
    const data = Buffer.alloc(36, 0x20)
    data[0] = 0x7f
    data[1] = 0
    data[2] = 0x06
    data[3] = 0x02
    data[4] = 31
    data[5] = 0
    data[6] = 0
    data[7] = 0x02
    const allocationLength = cdb.readUInt16BE(3)
    const cut = Math.min(data.length, allocationLength, allocation)
    return { status: GOOD, dataIn: data.subarray(0, cut), dataInLength: Math.min(data.length, allocationLength) }
  }
  if (opcode === REQUEST_SENSE && cdb.length >= 6) {
    const sense = fixedSense(SenseKeyCode.ILLEGAL_REQUEST, asc, ascq)
    const cut = Math.min(sense.length, cdb[4]!, allocation)
    return { status: GOOD, dataIn: sense.subarray(0, cut), dataInLength: Math.min(sense.length, cdb[4]!) }
  }
  return checkCondition(SenseKeyCode.ILLEGAL_REQUEST, asc, ascq)
}
