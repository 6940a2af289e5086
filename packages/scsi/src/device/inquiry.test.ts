import { describe, expect, it } from 'vitest'
import { buildInquiry } from '../cdb/builders.js'
import { decodeBlockLimits, decodeDeviceIdentification, decodeLogicalBlockProvisioning, decodeStandardInquiry } from '../data/inquiry.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'
import { MemoryBackstore } from '../backstore/memory-backstore.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const device = testDevice({ 0: memoryUnit({ serial: 'SERIAL0001', ...options }) }, { vendor: 'ACME', product: 'Block Thing', revision: '1.2' })
  return new CommandRunner(device, testNexus('host', { relativeTargetPortId: 3, targetPortGroup: 7 }))
}

describe('INQUIRY standard data (SPC-4 6.4.2)', () => {
  it('is 96 bytes with the SPC-4 fields', async () => {
    const runner = setup()
    const result = await runner.run(0, buildInquiry({ allocationLength: 255 }))
    expect(result.status).toBe(ScsiStatus.GOOD)
    expect(result.dataInLength).toBe(96)
    const data = result.dataIn!
    expect(data.subarray(0, 8)).toEqual(
      hex(`
        00  # PERIPHERAL QUALIFIER 000b, DEVICE TYPE 00h (direct access block)
        00  # RMB 0
        06  # VERSION: SPC-4
        12  # NORMACA 0, HISUP 1, RESPONSE DATA FORMAT 2
        5b  # ADDITIONAL LENGTH 91
        08  # 3PC 1 (EXTENDED COPY), TPGS 00b, PROTECT 0
        00  # ENCSERV 0, MULTIP 0
        02  # CMDQUE 1
      `),
    )
    expect(data.toString('latin1', 8, 16)).toBe('ACME    ')
    expect(data.toString('latin1', 16, 32)).toBe('Block Thing     ')
    expect(data.toString('latin1', 32, 36)).toBe('1.2 ')
    // VERSION DESCRIPTORS: SAM-5, SPC-4, SBC-3, iSCSI.
    expect(data.subarray(58, 66)).toEqual(hex('00a0 0460 04c0 0960'))
    expect(decodeStandardInquiry(data)).toMatchObject({ vendor: 'ACME', product: 'Block Thing', revision: '1.2', cmdque: true, versionDescriptors: [0xa0, 0x460, 0x4c0, 0x960] })
  })

  it('is cut to the allocation length, with the residual in dataInLength', async () => {
    const result = await setup().run(0, buildInquiry({ allocationLength: 36 }))
    expect(result.dataIn).toHaveLength(36)
    expect(result.dataInLength).toBe(36)
    const short = await setup().run(0, buildInquiry({ allocationLength: 255 }), { expected: 20 })
    expect(short.dataIn).toHaveLength(20)
    expect(short.dataInLength).toBe(96)
  })

  it('sets RMB for a removable LU', async () => {
    const result = await setup({ removable: true }).run(0, buildInquiry({ allocationLength: 96 }))
    expect(result.dataIn![1]).toBe(0x80)
  })

  it('answers for a LUN without a logical unit with qualifier 011b and type 1Fh', async () => {
    const result = await setup().run(9, buildInquiry({ allocationLength: 96 }))
    expect(result.status).toBe(ScsiStatus.GOOD)
    expect(result.dataIn![0]).toBe(0x7f)
    const pages = await setup().run(9, buildInquiry({ evpd: true, pageCode: 0, allocationLength: 96 }))
    expect(pages.dataIn).toEqual(hex('7f 00 0001 00'))
  })

  it('refuses CMDDT and a page code without EVPD, pointing at the field', async () => {
    const runner = setup()
    expect((await runner.run(0, buildInquiry({ cmddt: true, allocationLength: 96 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 1, bit: 1 } })
    expect((await runner.run(0, buildInquiry({ pageCode: 0x80, allocationLength: 96 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 2 } })
    expect((await runner.run(0, buildInquiry({ evpd: true, pageCode: 0xc5, allocationLength: 96 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 2 } })
  })
})

describe('VPD pages', () => {
  const page = async (code: number, options: Parameters<typeof memoryUnit>[0] = {}) => {
    const result = await setup(options).run(0, buildInquiry({ evpd: true, pageCode: code, allocationLength: 1024 }))
    expect(result.status).toBe(ScsiStatus.GOOD)
    return result.dataIn!
  }

  it('00h lists the supported pages', async () => {
    expect(await page(0x00)).toEqual(hex('00 00 0007 00 80 83 86 b0 b1 b2'))
  })

  it('80h carries the serial number', async () => {
    expect(await page(0x80)).toEqual(Buffer.concat([hex('00 80 000a'), Buffer.from('SERIAL0001')]))
  })

  it('83h has NAA, T10 vendor ID, relative target port, target port group and SCSI name string designators', async () => {
    const data = await page(0x83)
    const descriptors = decodeDeviceIdentification(data)
    expect(descriptors.map((d) => [d.codeSet, d.association, d.designatorType, d.protocolIdentifier])).toEqual([
      [1, 0, 3, undefined], // binary, LU, NAA
      [2, 0, 1, undefined], // ASCII, LU, T10 vendor ID
      [1, 1, 4, 5], // binary, target port, relative target port, iSCSI (PIV)
      [1, 1, 5, 5], // binary, target port, target port group
      [3, 1, 8, 5], // UTF-8, target port, SCSI name string
    ])
    // NAA 3h (locally assigned), derived from the serial: stable.
    expect(descriptors[0]!.designator).toHaveLength(8)
    expect(descriptors[0]!.designator[0]! >> 4).toBe(3)
    expect(descriptors[1]!.designator.toString('latin1')).toBe('ACME    SERIAL0001')
    expect(descriptors[2]!.designator).toEqual(hex('0000 0003'))
    expect(descriptors[3]!.designator).toEqual(hex('0000 0007'))
    const name = descriptors[4]!.designator
    expect(name.length % 4).toBe(0)
    expect(name.toString('utf8').replace(/\0+$/, '')).toBe('iqn.2024-01.org.iscsi-ts:target,t,0x0001')
    // The same serial gives the same designator in another device (restart).
    expect(decodeDeviceIdentification(await page(0x83))[0]!.designator).toEqual(descriptors[0]!.designator)
  })

  it('83h uses a configured NAA 6h designator', async () => {
    const naa = 0x6001405a_bcdef012_3456789a_bcdef012n
    const descriptors = decodeDeviceIdentification(await page(0x83, { naa }))
    expect(descriptors[0]!.designator).toEqual(hex('6001405abcdef0123456789abcdef012'))
    expect(() => new LogicalUnit({ backstore: new MemoryBackstore({ size: 4096 }), naa: 0x7n << 124n })).toThrow(RangeError)
    expect(() => new LogicalUnit({ backstore: new MemoryBackstore({ size: 4096 }), naa: 0x4n << 60n })).toThrow(RangeError)
  })

  it('86h reports the task attributes and the volatile cache', async () => {
    const data = await page(0x86)
    expect(data.subarray(0, 8)).toEqual(hex('00 86 003c 00 07 01 01'))
  })

  it('B0h carries the block limits', async () => {
    const data = await page(0xb0, { thinProvisioned: true, limits: { maxCompareAndWriteLength: 8, maxUnmapDescriptorCount: 16 } })
    expect(data.subarray(0, 4)).toEqual(hex('00 b0 003c'))
    expect(data[4]).toBe(0x00) // WSNZ 0: NUMBER OF LOGICAL BLOCKS 0 in WRITE SAME reaches the last LBA
    expect(decodeBlockLimits(data)).toEqual({
      wsnz: false,
      maxCompareAndWriteLength: 8,
      optimalTransferLengthGranularity: 1,
      maxTransferLength: 16384, // 8 MiB / 512
      optimalTransferLength: 2048, // 1 MiB / 512
      maxPrefetchLength: 16384,
      maxUnmapLbaCount: 1048576, // 1 GiB / 512, capped at 2^20 blocks
      maxUnmapDescriptorCount: 16,
      optimalUnmapGranularity: 128, // the 64 KiB memory chunk
      unmapGranularityAlignment: 0,
      maxWriteSameLength: 65535, // LIO's default
      maxAtomicTransferLength: 2048, // the memory backstore writes 1 MiB atomically
      atomicAlignment: 1,
      atomicTransferLengthGranularity: 1,
    })
    const full = decodeBlockLimits(await page(0xb0))
    expect(full.maxUnmapLbaCount).toBe(0)
    expect(full.maxUnmapDescriptorCount).toBe(0)
  })

  it('B1h reports a non-rotating medium and what reads return after a BLOCK or CRYPTOGRAPHIC ERASE sanitize', async () => {
    expect((await page(0xb1)).subarray(0, 9)).toEqual(
      hex(`
        00 b1 003c  # peripheral, page code, PAGE LENGTH 60
        0001        # MEDIUM ROTATION RATE 0001h: non-rotating medium (SBC-3 6.5.2)
        00          # PRODUCT TYPE not indicated
        50          # WABEREQ 01b, WACEREQ 01b: reads after the sanitize complete GOOD (the blocks read zeros)
        00          # FUAB 0, VBULS 0
      `),
    )
  })

  it('B0h defaults keep MAXIMUM UNMAP LBA COUNT at 2^20 blocks and MAXIMUM WRITE SAME LENGTH at 65535', async () => {
    const small = decodeBlockLimits(await page(0xb0, { thinProvisioned: true, blocks: 64, blockSize: 4096 }))
    expect(small).toMatchObject({ maxUnmapLbaCount: 262144, maxWriteSameLength: 65535 }) // 1 GiB / 4096
    const big = decodeBlockLimits(await page(0xb0, { thinProvisioned: true, limits: { maxUnmapLbaCount: 0xffffffff, maxWriteSameLength: 1 << 24 } }))
    expect(big).toMatchObject({ maxUnmapLbaCount: 0xffffffff, maxWriteSameLength: 1 << 24 })
  })

  it('B2h reports thin provisioning', async () => {
    const thin = await page(0xb2, { thinProvisioned: true })
    expect(thin).toEqual(hex('00 b2 0004 00 e4 02 00'))
    expect(decodeLogicalBlockProvisioning(thin)).toEqual({ lbpu: true, lbpws: true, lbpws10: true, lbprz: true, anchorSupported: false, provisioningType: 2 })
    expect(await page(0xb2)).toEqual(hex('00 b2 0004 00 00 00 00'))
  })
})
