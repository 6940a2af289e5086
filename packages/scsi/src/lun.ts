// The 8-byte LUN structure (SAM-5 4.7.7): peripheral device addressing (00b) for LUNs 0-255 and flat space
// addressing (01b) for 256-16383, the two single-level methods REPORT LUNS and the transports use.
import { ScsiDecodeError } from './errors.js'

/** Highest LUN the single-level flat space method can address. */
export const MAX_LUN = 0x3fff

/** Encode a LUN number into the 8-byte LUN structure (into `buf` at `offset` when given). */
export function encodeLun(lun: number, buf: Buffer = Buffer.alloc(8), offset = 0): Buffer {
  if (!Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) throw new RangeError(`LUN ${lun} is outside 0-${MAX_LUN}`)
  buf.fill(0, offset, offset + 8)
  if (lun < 256) {
    buf[offset + 1] = lun
  } else {
    buf[offset] = 0x40 | (lun >> 8)
    buf[offset + 1] = lun & 0xff
  }
  return buf
}

/** Decode a single-level LUN structure; other addressing methods and levels are a ScsiDecodeError. */
export function decodeLun(buf: Buffer, offset = 0): number {
  if (buf.length < offset + 8) throw new ScsiDecodeError('LUN structure needs 8 bytes')
  const method = buf[offset]! >> 6
  for (let i = 2; i < 8; i++) {
    if (buf[offset + i] !== 0) throw new ScsiDecodeError('multi-level LUNs are not supported')
  }
  if (method === 0) {
    if ((buf[offset]! & 0x3f) !== 0) throw new ScsiDecodeError('peripheral device addressing with a bus identifier is not supported')
    return buf[offset + 1]!
  }
  if (method === 1) return ((buf[offset]! & 0x3f) << 8) | buf[offset + 1]!
  throw new ScsiDecodeError(`LUN addressing method ${method} is not supported`)
}
