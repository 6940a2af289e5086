// Decoders of INQUIRY parameter data for initiators (SPC-4 6.4.2 standard data, 7.8 VPD pages, SBC-3 6.5).
// Bounds-checked: data too short for a field is a ScsiDecodeError, never an out-of-range read.
import { ScsiDecodeError } from '../errors.js'

export interface StandardInquiryData {
  readonly peripheralQualifier: number
  readonly peripheralDeviceType: number
  readonly removable: boolean
  readonly version: number
  readonly normaca: boolean
  readonly hisup: boolean
  readonly responseDataFormat: number
  readonly thirdPartyCopy: boolean
  readonly tpgs: number
  readonly protect: boolean
  readonly cmdque: boolean
  readonly vendor: string
  readonly product: string
  readonly revision: string
  readonly versionDescriptors: number[]
}

function need(buf: Buffer, bytes: number, what: string): void {
  if (buf.length < bytes) throw new ScsiDecodeError(`${what} needs ${bytes} bytes, got ${buf.length}`)
}

const text = (buf: Buffer, start: number, end: number): string => buf.subarray(start, end).toString('latin1').trimEnd()

export function decodeStandardInquiry(buf: Buffer): StandardInquiryData {
  need(buf, 36, 'standard INQUIRY data')
  const length = Math.min(buf.length, 5 + buf[4]!)
  const versionDescriptors: number[] = []
  for (let offset = 58; offset + 2 <= Math.min(length, 74); offset += 2) {
    const descriptor = buf.readUInt16BE(offset)
    if (descriptor !== 0) versionDescriptors.push(descriptor)
  }
  return {
    peripheralQualifier: buf[0]! >> 5,
    peripheralDeviceType: buf[0]! & 0x1f,
    removable: (buf[1]! & 0x80) !== 0,
    version: buf[2]!,
    normaca: (buf[3]! & 0x20) !== 0,
    hisup: (buf[3]! & 0x10) !== 0,
    responseDataFormat: buf[3]! & 0x0f,
    thirdPartyCopy: (buf[5]! & 0x08) !== 0,
    tpgs: (buf[5]! >> 4) & 0x03,
    protect: (buf[5]! & 0x01) !== 0,
    cmdque: (buf[7]! & 0x02) !== 0,
    vendor: text(buf, 8, 16),
    product: text(buf, 16, 32),
    revision: text(buf, 32, 36),
    versionDescriptors,
  }
}

/** A VPD page: its code and body (bounded by the PAGE LENGTH and the buffer). */
export function decodeVpdPage(buf: Buffer): { peripheral: number; pageCode: number; body: Buffer } {
  need(buf, 4, 'VPD page')
  const length = buf.readUInt16BE(2)
  return { peripheral: buf[0]!, pageCode: buf[1]!, body: buf.subarray(4, Math.min(buf.length, 4 + length)) }
}

export interface IdentificationDescriptor {
  readonly protocolIdentifier: number | undefined
  readonly codeSet: number
  readonly association: number
  readonly designatorType: number
  readonly designator: Buffer
}

/** Device Identification VPD page (83h) descriptors. */
export function decodeDeviceIdentification(buf: Buffer): IdentificationDescriptor[] {
  const { body } = decodeVpdPage(buf)
  const out: IdentificationDescriptor[] = []
  let offset = 0
  while (offset + 4 <= body.length) {
    const length = body[offset + 3]!
    if (offset + 4 + length > body.length) throw new ScsiDecodeError(`identification descriptor at byte ${offset + 4} overruns the page`)
    const piv = (body[offset + 1]! & 0x80) !== 0
    out.push({
      protocolIdentifier: piv ? body[offset]! >> 4 : undefined,
      codeSet: body[offset]! & 0x0f,
      association: (body[offset + 1]! >> 4) & 0x03,
      designatorType: body[offset + 1]! & 0x0f,
      designator: Buffer.from(body.subarray(offset + 4, offset + 4 + length)),
    })
    offset += 4 + length
  }
  return out
}

export interface BlockLimitsData {
  readonly wsnz: boolean
  readonly maxCompareAndWriteLength: number
  readonly optimalTransferLengthGranularity: number
  readonly maxTransferLength: number
  readonly optimalTransferLength: number
  readonly maxPrefetchLength: number
  readonly maxUnmapLbaCount: number
  readonly maxUnmapDescriptorCount: number
  readonly optimalUnmapGranularity: number
  readonly unmapGranularityAlignment: number | undefined
  readonly maxWriteSameLength: number
  readonly maxAtomicTransferLength: number
  readonly atomicAlignment: number
  readonly atomicTransferLengthGranularity: number
}

/** Block Limits VPD page (B0h, SBC-3 6.5.3 with the SBC-4 atomic fields). */
export function decodeBlockLimits(buf: Buffer): BlockLimitsData {
  need(buf, 64, 'Block Limits VPD page')
  const alignment = buf.readUInt32BE(32)
  return {
    wsnz: (buf[4]! & 0x01) !== 0,
    maxCompareAndWriteLength: buf[5]!,
    optimalTransferLengthGranularity: buf.readUInt16BE(6),
    maxTransferLength: buf.readUInt32BE(8),
    optimalTransferLength: buf.readUInt32BE(12),
    maxPrefetchLength: buf.readUInt32BE(16),
    maxUnmapLbaCount: buf.readUInt32BE(20),
    maxUnmapDescriptorCount: buf.readUInt32BE(24),
    optimalUnmapGranularity: buf.readUInt32BE(28),
    unmapGranularityAlignment: (alignment & 0x80000000) !== 0 ? alignment & 0x7fffffff : undefined,
    maxWriteSameLength: Number(buf.readBigUInt64BE(36)),
    maxAtomicTransferLength: buf.readUInt32BE(44),
    atomicAlignment: buf.readUInt32BE(48),
    atomicTransferLengthGranularity: buf.readUInt32BE(52),
  }
}

export interface LogicalBlockProvisioningData {
  readonly lbpu: boolean
  readonly lbpws: boolean
  readonly lbpws10: boolean
  readonly lbprz: boolean
  readonly anchorSupported: boolean
  readonly provisioningType: number
}

/** Logical Block Provisioning VPD page (B2h, SBC-3 6.5.4). */
export function decodeLogicalBlockProvisioning(buf: Buffer): LogicalBlockProvisioningData {
  need(buf, 8, 'Logical Block Provisioning VPD page')
  return {
    lbpu: (buf[5]! & 0x80) !== 0,
    lbpws: (buf[5]! & 0x40) !== 0,
    lbpws10: (buf[5]! & 0x20) !== 0,
    lbprz: (buf[5]! & 0x04) !== 0,
    anchorSupported: (buf[5]! & 0x02) !== 0,
    provisioningType: buf[6]! & 0x07,
  }
}
