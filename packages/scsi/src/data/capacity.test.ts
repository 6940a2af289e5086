import { describe, expect, it } from 'vitest'
import { ScsiDecodeError } from '../errors.js'
import { decodeLbaStatus, decodeReadCapacity10, decodeReadCapacity16, decodeReportLuns } from './capacity.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

describe('capacity parameter data decoders', () => {
  it('READ CAPACITY(10) and (16)', () => {
    expect(decodeReadCapacity10(hex('0000ffff 00001000'))).toEqual({ lastLba: 0xffff, blockSize: 4096 })
    expect(decodeReadCapacity16(hex('00000001 00000000  00000200  00 03 c0 07  0000000000000000 0000000000000000'))).toEqual({
      lastLba: 2 ** 32,
      blockSize: 512,
      protectionEnabled: false,
      logicalBlocksPerPhysicalBlockExponent: 3,
      lbpme: true,
      lbprz: true,
      lowestAlignedLba: 7,
    })
    expect(() => decodeReadCapacity16(Buffer.alloc(12))).toThrow(ScsiDecodeError)
  })

  it('REPORT LUNS keeps to the data it has', () => {
    expect(decodeReportLuns(hex('00000010 00000000 0001000000000000 4100000000000000'))).toEqual({ listLength: 16, luns: [1, 256] })
    // A list length beyond the data (allocation length too small): only the whole LUNs present.
    expect(decodeReportLuns(hex('00000100 00000000 0007000000000000 41'))).toEqual({ listLength: 256, luns: [7] })
    expect(() => decodeReportLuns(Buffer.alloc(4))).toThrow(ScsiDecodeError)
  })

  it('GET LBA STATUS', () => {
    expect(decodeLbaStatus(hex('00000014 00000000  0000000000000010 00000008 01000000'))).toEqual({ dataLength: 20, descriptors: [{ lba: 16, blocks: 8, provisioningStatus: 1 }] })
    expect(decodeLbaStatus(hex('00000024 00000000  0000000000000010 00000008 01000000'))).toMatchObject({ descriptors: [{ lba: 16 }] })
  })
})
