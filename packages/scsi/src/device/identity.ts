// The identity of a logical unit once it has a place in a target device: serial number (VPD 80h) and NAA
// designator (VPD 83h), both derived from stable inputs so they survive restarts (never random per start).
import { createHash } from 'node:crypto'
import { naaDesignator } from './inquiry-data.js'

export interface UnitIdentity {
  readonly vendor: string
  readonly product: string
  readonly revision: string
  readonly serial: string
  /** NAA designator bytes (8 or 16). */
  readonly naa: Buffer
}

/** A serial from the backstore name (a path, a volume id) or, without one, from vendor, product and LUN. */
export function deriveSerial(vendor: string, product: string, lun: number, backstoreName: string | undefined): string {
  const source = backstoreName === undefined ? `lun:${vendor}:${product}:${lun}` : `store:${backstoreName}`
  return createHash('sha256').update(source).digest('hex').slice(0, 24)
}

export function unitIdentity(options: { vendor: string; product: string; revision: string; serial?: string; naa?: bigint }, lun: number, backstoreName: string | undefined): UnitIdentity {
  const serial = options.serial ?? deriveSerial(options.vendor, options.product, lun, backstoreName)
  if (!/^[\x20-\x7e]+$/.test(serial)) throw new RangeError('the unit serial number must be printable ASCII')
  return { vendor: options.vendor, product: options.product, revision: options.revision, serial, naa: naaDesignator(serial, options.naa) }
}
