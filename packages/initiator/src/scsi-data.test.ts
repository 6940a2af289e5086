import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ProtocolError } from './errors.js'
import {
  decodeInquiry,
  decodeLbaStatus,
  decodePersistentReserveIn,
  decodeReadCapacity10,
  decodeReadCapacity16,
  decodeReportLuns,
  decodeVpdPage,
  encodePersistentReserveOutParameters,
  encodeUnmapParameters,
} from './scsi-data.js'

describe('INQUIRY', () => {
  it('decodes standard data (SPC-4 6.6.2)', () => {
    const data = Buffer.alloc(74)
    data[0] = 0x00 // qualifier 0, direct access block device
    data[1] = 0x80 // RMB
    data[2] = 0x06 // SPC-4
    data[3] = 0x12 // HISUP, response data format 2
    data[4] = 69 // additional length
    data[5] = 0x18 // TPGS 01b, 3PC
    data[6] = 0x10 // MULTIP
    data[7] = 0x02 // CMDQUE
    data.write('VENDOR  ', 8, 'latin1')
    data.write('PRODUCT NAME    ', 16, 'latin1')
    data.write('1.2 ', 32, 'latin1')
    data.writeUInt16BE(0x04c0, 58) // SBC-3
    data.writeUInt16BE(0x0960, 60) // iSCSI
    expect(decodeInquiry(data)).toEqual({
      kind: 'standard',
      peripheralQualifier: 0,
      peripheralDeviceType: 0,
      removable: true,
      version: 6,
      normaca: false,
      hisup: true,
      responseDataFormat: 2,
      sccs: false,
      acc: false,
      tpgs: 1,
      thirdPartyCopy: true,
      protect: false,
      encserv: false,
      multip: true,
      cmdque: true,
      vendor: 'VENDOR',
      product: 'PRODUCT NAME',
      revision: '1.2',
      versionDescriptors: [0x04c0, 0x0960],
    })
  })

  it('reads a short answer as far as it goes, and refuses less than 5 bytes', () => {
    expect(decodeInquiry(Buffer.from([0x7f, 0, 5, 2, 31]))).toMatchObject({ peripheralQualifier: 3, peripheralDeviceType: 0x1f, vendor: '' })
    expect(() => decodeInquiry(Buffer.alloc(4))).toThrow(ProtocolError)
  })
})

describe('VPD pages', () => {
  it('decodes device identification designators (SPC-4 7.8.6)', () => {
    const naa = Buffer.from('6001405abcdef0123456789abcdef012', 'hex')
    const name = Buffer.from('iqn.2003-01.org.example:disk,t,0x1\0\0', 'latin1')
    const body = Buffer.concat([
      Buffer.from([0x01, 0x03, 0x00, naa.length]), naa, // binary, LU, NAA
      Buffer.from([0x53, 0x98, 0x00, name.length]), name, // iSCSI (5), UTF-8, PIV, target port, SCSI name string
    ])
    const page = Buffer.concat([Buffer.from([0x00, 0x83, 0, body.length]), body])
    const decoded = decodeVpdPage(page)
    expect(decoded.name).toBe('device-identification')
    if (decoded.name !== 'device-identification') return
    expect(decoded.designators[0]).toMatchObject({ codeSet: 1, association: 0, type: 3, protocolIdentifier: undefined, text: naa.toString('hex') })
    expect(decoded.designators[1]).toMatchObject({ codeSet: 3, association: 1, type: 8, protocolIdentifier: 5, text: 'iqn.2003-01.org.example:disk,t,0x1' })
  })

  it('refuses a designator running past the page', () => {
    expect(() => decodeVpdPage(Buffer.from([0, 0x83, 0, 6, 1, 3, 0, 16, 1, 2]))).toThrow(ProtocolError)
  })

  it('decodes block limits (SBC-3 6.6.4) and logical block provisioning (SBC-3 6.6.5)', () => {
    const limits = Buffer.alloc(64)
    limits[1] = 0xb0
    limits.writeUInt16BE(60, 2)
    limits[5] = 1 // MAXIMUM COMPARE AND WRITE LENGTH
    limits.writeUInt16BE(8, 6)
    limits.writeUInt32BE(65536, 8)
    limits.writeUInt32BE(2048, 12)
    limits.writeUInt32BE(0x100000, 20)
    limits.writeUInt32BE(64, 24)
    limits.writeUInt32BE(8, 28)
    limits.writeUInt32BE(0x80000004, 32) // UGAVALID, alignment 4
    limits.writeBigUInt64BE(0x4000n, 36)
    expect(decodeVpdPage(limits)).toMatchObject({
      name: 'block-limits',
      maximumCompareAndWriteLength: 1,
      optimalTransferLengthGranularity: 8,
      maximumTransferLength: 65536,
      optimalTransferLength: 2048,
      maximumUnmapLbaCount: 0x100000,
      maximumUnmapBlockDescriptorCount: 64,
      optimalUnmapGranularity: 8,
      unmapGranularityAlignment: 4,
      maximumWriteSameLength: 0x4000n,
    })
    expect(decodeVpdPage(Buffer.from([0, 0xb2, 0, 4, 0, 0xe4, 0x02, 0]))).toMatchObject({
      name: 'logical-block-provisioning',
      lbpu: true,
      lbpws: true,
      lbpws10: true,
      lbprz: true,
      anc_sup: false,
      provisioningType: 2,
    })
    expect(decodeVpdPage(Buffer.from([0, 0x80, 0, 4, 0x41, 0x42, 0x43, 0]))).toMatchObject({ name: 'unit-serial-number', serialNumber: 'ABC' })
    expect(decodeVpdPage(Buffer.from([0, 0x00, 0, 3, 0x00, 0x80, 0x83]))).toMatchObject({ pages: [0, 0x80, 0x83] })
    expect(decodeVpdPage(Buffer.from([0, 0xc0, 0, 1, 9]))).toMatchObject({ name: 'other', pageCode: 0xc0 })
  })
})

describe('READ CAPACITY, REPORT LUNS, GET LBA STATUS', () => {
  it('decodes READ CAPACITY(10) and (16) (SBC-3 5.15, 5.16)', () => {
    expect(decodeReadCapacity10(Buffer.from([0, 0, 0x0f, 0xff, 0, 0, 2, 0]))).toMatchObject({ blockCount: 4096n, blockSize: 512 })
    const rc16 = Buffer.alloc(32)
    rc16.writeBigUInt64BE(0x1_0000_0000n, 0)
    rc16.writeUInt32BE(4096, 8)
    rc16[13] = 0x03
    rc16[14] = 0xc0
    rc16[15] = 0x08
    expect(decodeReadCapacity16(rc16)).toEqual({
      blockCount: 0x1_0000_0001n,
      blockSize: 4096,
      lbpme: true,
      lbprz: true,
      logicalBlocksPerPhysicalBlockExponent: 3,
      lowestAlignedLba: 8,
      protectionEnabled: false,
    })
    expect(() => decodeReadCapacity16(Buffer.alloc(8))).toThrow(ProtocolError)
  })

  it('decodes REPORT LUNS entries, skipping address methods it cannot express', () => {
    const data = Buffer.alloc(8 + 4 * 8)
    data.writeUInt32BE(32, 0)
    data.writeBigUInt64BE(0n, 8)
    data.writeBigUInt64BE(0x0005000000000000n, 16) // peripheral LUN 5
    data.writeBigUInt64BE(0x4123000000000000n, 24) // flat space LUN 0x123
    data.writeBigUInt64BE(0xc000000000000000n, 32) // extended: skipped
    expect(decodeReportLuns(data)).toEqual({ luns: [0, 5, 0x123], listLength: 32 })
  })

  it('decodes GET LBA STATUS descriptors (SBC-3 5.7)', () => {
    const data = Buffer.alloc(8 + 32)
    data.writeUInt32BE(36, 0)
    data.writeBigUInt64BE(0n, 8)
    data.writeUInt32BE(96, 16)
    data[20] = 1
    data.writeBigUInt64BE(96n, 24)
    data.writeUInt32BE(24, 32)
    data[36] = 0
    expect(decodeLbaStatus(data).descriptors).toEqual([
      { lba: 0n, blocks: 96, status: 'deallocated' },
      { lba: 96n, blocks: 24, status: 'mapped' },
    ])
    data[36] = 9
    expect(() => decodeLbaStatus(data)).toThrow(ProtocolError)
  })
})

describe('PERSISTENT RESERVE IN/OUT', () => {
  it('decodes READ KEYS and READ RESERVATION (SPC-4 6.15.2, 6.15.3)', () => {
    const keys = Buffer.alloc(24)
    keys.writeUInt32BE(7, 0)
    keys.writeUInt32BE(16, 4)
    keys.writeBigUInt64BE(0x1122334455667788n, 8)
    keys.writeBigUInt64BE(42n, 16)
    expect(decodePersistentReserveIn('read-keys', keys)).toEqual({ action: 'read-keys', generation: 7, keys: [0x1122334455667788n, 42n] })
    const reservation = Buffer.alloc(24)
    reservation.writeUInt32BE(3, 0)
    reservation.writeUInt32BE(16, 4)
    reservation.writeBigUInt64BE(42n, 8)
    reservation[21] = 0x05
    expect(decodePersistentReserveIn('read-reservation', reservation)).toEqual({ action: 'read-reservation', generation: 3, reservation: { key: 42n, scope: 0, type: 5 } })
    expect(decodePersistentReserveIn('read-reservation', Buffer.from([0, 0, 0, 3, 0, 0, 0, 0]))).toEqual({ action: 'read-reservation', generation: 3 })
  })

  it('decodes REPORT CAPABILITIES with its type mask (SPC-4 6.15.4)', () => {
    const caps = Buffer.from([0, 8, 0x1d, 0x81, 0xea, 0x01, 0, 0])
    expect(decodePersistentReserveIn('report-capabilities', caps)).toEqual({
      action: 'report-capabilities',
      crh: true,
      sipC: true,
      atpC: true,
      ptplC: true,
      tmv: true,
      allowCommands: 0,
      ptplA: true,
      types: [1, 3, 5, 6, 7, 8],
    })
  })

  it('decodes READ FULL STATUS descriptors (SPC-4 6.15.5)', () => {
    const transportId = Buffer.from('iqn.x,i,0x1\0', 'latin1')
    const descriptor = Buffer.alloc(24)
    descriptor.writeBigUInt64BE(9n, 0)
    descriptor[12] = 0x03 // ALL_TG_PT, R_HOLDER
    descriptor[13] = 0x01
    descriptor.writeUInt16BE(1, 18)
    descriptor.writeUInt32BE(transportId.length, 20)
    const body = Buffer.concat([descriptor, transportId])
    const header = Buffer.alloc(8)
    header.writeUInt32BE(2, 0)
    header.writeUInt32BE(body.length, 4)
    expect(decodePersistentReserveIn('read-full-status', Buffer.concat([header, body]))).toEqual({
      action: 'read-full-status',
      generation: 2,
      registrations: [{ key: 9n, allTargetPorts: true, reservationHolder: true, scope: 0, type: 1, relativeTargetPortId: 1, transportId }],
    })
  })

  it('encodes the PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3) and the UNMAP list (SBC-3 5.28.2)', () => {
    const pr = encodePersistentReserveOutParameters({ key: 1n, serviceActionKey: 0xffn, aptpl: true, allTargetPorts: true })
    expect(pr.toString('hex')).toBe('0000000000000001' + '00000000000000ff' + '00000000' + '05' + '000000')
    const unmap = encodeUnmapParameters([{ lba: 0x10, blocks: 8 }, { lba: 0x1_0000_0000n, blocks: 1 }])
    expect(unmap.toString('hex')).toBe(
      '0026' + '0020' + '00000000' + '0000000000000010' + '00000008' + '00000000' + '0000000100000000' + '00000001' + '00000000',
    )
  })

  it('only ever throws ProtocolError on random answers', () => {
    const decoders = [
      decodeInquiry,
      decodeVpdPage,
      decodeReadCapacity10,
      decodeReadCapacity16,
      decodeReportLuns,
      decodeLbaStatus,
      (b: Buffer) => decodePersistentReserveIn('read-keys', b),
      (b: Buffer) => decodePersistentReserveIn('read-reservation', b),
      (b: Buffer) => decodePersistentReserveIn('report-capabilities', b),
      (b: Buffer) => decodePersistentReserveIn('read-full-status', b),
    ]
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(Buffer.from(bytes))
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError)
          }
        }
      }),
      { numRuns: 1000 },
    )
  })
})
