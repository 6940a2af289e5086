// Decoders of READ CAPACITY, REPORT LUNS and GET LBA STATUS parameter data for initiators (SBC-3 5.15, 5.16,
// 5.16.2; SPC-4 6.33). Bounds-checked.
import { ScsiDecodeError } from '../errors.js'
import { decodeLun } from '../lun.js'

export interface Capacity {
  /** Last LBA (READ CAPACITY(10) reports FFFFFFFFh when it does not fit). */
  readonly lastLba: number
  readonly blockSize: number
  readonly protectionEnabled?: boolean
  readonly logicalBlocksPerPhysicalBlockExponent?: number
  readonly lbpme?: boolean
  readonly lbprz?: boolean
  readonly lowestAlignedLba?: number
}

export function decodeReadCapacity10(buf: Buffer): Capacity {
  if (buf.length < 8) throw new ScsiDecodeError(`READ CAPACITY(10) data needs 8 bytes, got ${buf.length}`)
  return { lastLba: buf.readUInt32BE(0), blockSize: buf.readUInt32BE(4) }
}

export function decodeReadCapacity16(buf: Buffer): Capacity {
  if (buf.length < 16) throw new ScsiDecodeError(`READ CAPACITY(16) data needs 16 bytes, got ${buf.length}`)
  return {
    lastLba: Number(buf.readBigUInt64BE(0)),
    blockSize: buf.readUInt32BE(8),
    protectionEnabled: (buf[12]! & 0x01) !== 0,
    logicalBlocksPerPhysicalBlockExponent: buf[13]! & 0x0f,
    lbpme: (buf[14]! & 0x80) !== 0,
    lbprz: (buf[14]! & 0x40) !== 0,
    lowestAlignedLba: ((buf[14]! & 0x3f) << 8) | buf[15]!,
  }
}

/** REPORT LUNS parameter data: the LUN numbers (only as many as the data holds). */
export function decodeReportLuns(buf: Buffer): { listLength: number; luns: number[] } {
  if (buf.length < 8) throw new ScsiDecodeError(`REPORT LUNS data needs 8 bytes, got ${buf.length}`)
  const listLength = buf.readUInt32BE(0)
  const luns: number[] = []
  for (let offset = 8; offset + 8 <= Math.min(buf.length, 8 + listLength); offset += 8) luns.push(decodeLun(buf, offset))
  return { listLength, luns }
}

export interface LbaStatusDescriptor {
  readonly lba: number
  readonly blocks: number
  /** 0 mapped, 1 deallocated, 2 anchored (SBC-3 table 67). */
  readonly provisioningStatus: number
}

/** GET LBA STATUS parameter data (SBC-3 5.16.2). */
export function decodeLbaStatus(buf: Buffer): { dataLength: number; descriptors: LbaStatusDescriptor[] } {
  if (buf.length < 8) throw new ScsiDecodeError(`GET LBA STATUS data needs 8 bytes, got ${buf.length}`)
  const dataLength = buf.readUInt32BE(0)
  const descriptors: LbaStatusDescriptor[] = []
  for (let offset = 8; offset + 16 <= Math.min(buf.length, 4 + dataLength); offset += 16) {
    descriptors.push({ lba: Number(buf.readBigUInt64BE(offset)), blocks: buf.readUInt32BE(offset + 8), provisioningStatus: buf[offset + 12]! & 0x0f })
  }
  return { dataLength, descriptors }
}
