import { describe, expect, it } from 'vitest'
import { ScsiDecodeError } from '../errors.js'
import { decodeBlockLimits, decodeDeviceIdentification, decodeLogicalBlockProvisioning, decodeStandardInquiry, decodeVpdPage } from './inquiry.js'

describe('INQUIRY parameter data decoders', () => {
  it('refuse data too short for their fields', () => {
    expect(() => decodeStandardInquiry(Buffer.alloc(35))).toThrow(ScsiDecodeError)
    expect(() => decodeBlockLimits(Buffer.alloc(40))).toThrow(ScsiDecodeError)
    expect(() => decodeLogicalBlockProvisioning(Buffer.alloc(7))).toThrow(ScsiDecodeError)
    expect(() => decodeVpdPage(Buffer.alloc(3))).toThrow(ScsiDecodeError)
  })

  it('read a 36-byte standard INQUIRY without version descriptors', () => {
    const data = Buffer.alloc(36)
    data[0] = 0x7f
    data[4] = 31
    data.write('VENDOR  PRODUCT         REV1', 8, 'latin1')
    expect(decodeStandardInquiry(data)).toMatchObject({ peripheralQualifier: 3, peripheralDeviceType: 0x1f, vendor: 'VENDOR', product: 'PRODUCT', revision: 'REV1', versionDescriptors: [] })
  })

  it('bound identification descriptors by the page length', () => {
    const page = Buffer.from([0x00, 0x83, 0x00, 0x0c, 0x01, 0x03, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(decodeDeviceIdentification(page)).toEqual([{ protocolIdentifier: undefined, codeSet: 1, association: 0, designatorType: 3, designator: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) }])
    const overrun = Buffer.from([0x00, 0x83, 0x00, 0x06, 0x01, 0x03, 0x00, 0x08, 1, 2])
    expect(() => decodeDeviceIdentification(overrun)).toThrow(ScsiDecodeError)
  })
})
