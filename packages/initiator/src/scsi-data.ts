// Decoders for the data-in of the SCSI commands the session helpers send, and encoders for their parameter lists
// (SPC-4, SBC-3). Every decoder is bounds-checked against the bytes actually received: a short answer yields the
// fields that are there, a malformed one a ProtocolError, never an exception from a Buffer read.
import { decodeLun } from '@iscsi-ts/pdu'
import { ProtocolError } from './errors.js'

// ---------------------------------------------------------------------------------------------------------------
// INQUIRY (SPC-4 6.6)

export interface InquiryData {
  kind: 'standard'
  /** Peripheral qualifier (bits 7-5 of byte 0): 0 connected, 1 not connected, 3 no LU. */
  peripheralQualifier: number
  /** Peripheral device type: 0x00 disk, 0x05 CD/DVD, 0x0c storage array controller, 0x1f unknown. */
  peripheralDeviceType: number
  removable: boolean
  /** VERSION: 5 SPC-3, 6 SPC-4, 7 SPC-5. */
  version: number
  normaca: boolean
  hisup: boolean
  responseDataFormat: number
  sccs: boolean
  acc: boolean
  /** Target port group support (ALUA), 2 bits. */
  tpgs: number
  thirdPartyCopy: boolean
  protect: boolean
  encserv: boolean
  multip: boolean
  cmdque: boolean
  /** T10 vendor identification, trimmed. */
  vendor: string
  product: string
  revision: string
  /** Version descriptors (bytes 58-73), zeros left out. */
  versionDescriptors: number[]
}

export interface VpdDesignator {
  /** Code set: 1 binary, 2 ASCII, 3 UTF-8. */
  codeSet: number
  /** Association: 0 LU, 1 target port, 2 target device. */
  association: number
  /** Designator type: 1 T10 vendor ID, 2 EUI-64, 3 NAA, 4 relative target port, 5 target port group, 8 SCSI name. */
  type: number
  protocolIdentifier: number | undefined
  /** The designator bytes. */
  value: Buffer
  /** Text form: the string for ASCII/UTF-8 designators, hex for binary ones. */
  text: string
}

interface VpdBase {
  kind: 'vpd'
  peripheralQualifier: number
  peripheralDeviceType: number
  pageCode: number
  /** The page body (after the 4-byte header). */
  data: Buffer
}

export type VpdPage =
  | (VpdBase & { pageCode: 0x00; name: 'supported-pages'; pages: number[] })
  | (VpdBase & { pageCode: 0x80; name: 'unit-serial-number'; serialNumber: string })
  | (VpdBase & { pageCode: 0x83; name: 'device-identification'; designators: VpdDesignator[] })
  | (VpdBase & {
      pageCode: 0xb0
      name: 'block-limits'
      writeSameNonZero: boolean
      maximumCompareAndWriteLength: number
      optimalTransferLengthGranularity: number
      maximumTransferLength: number
      optimalTransferLength: number
      maximumPrefetchLength: number
      maximumUnmapLbaCount: number
      maximumUnmapBlockDescriptorCount: number
      optimalUnmapGranularity: number
      unmapGranularityAlignment: number | undefined
      maximumWriteSameLength: bigint
    })
  | (VpdBase & { pageCode: 0xb1; name: 'block-device-characteristics'; mediumRotationRate: number; nominalFormFactor: number })
  | (VpdBase & {
      pageCode: 0xb2
      name: 'logical-block-provisioning'
      thresholdExponent: number
      lbpu: boolean
      lbpws: boolean
      lbpws10: boolean
      lbprz: boolean
      anc_sup: boolean
      dp: boolean
      provisioningType: number
    })
  | (VpdBase & { name: 'other' })

function ascii(buf: Buffer, start: number, end: number): string {
  if (start >= buf.length) return ''
  return buf
    .subarray(start, Math.min(end, buf.length))
    .toString('latin1')
    .replace(/\0+$/, '')
    .trim()
}

/** Standard INQUIRY data. At least 5 bytes are needed; fields beyond what arrived read as empty/zero. */
export function decodeInquiry(buf: Buffer): InquiryData {
  if (buf.length < 5) throw new ProtocolError(`INQUIRY data of ${buf.length} bytes is too short`)
  const byte = (i: number): number => (i < buf.length ? buf[i]! : 0)
  const versionDescriptors: number[] = []
  for (let i = 58; i + 2 <= Math.min(buf.length, 74); i += 2) {
    const descriptor = buf.readUInt16BE(i)
    if (descriptor !== 0) versionDescriptors.push(descriptor)
  }
  return {
    kind: 'standard',
    peripheralQualifier: byte(0) >>> 5,
    peripheralDeviceType: byte(0) & 0x1f,
    removable: (byte(1) & 0x80) !== 0,
    version: byte(2),
    normaca: (byte(3) & 0x20) !== 0,
    hisup: (byte(3) & 0x10) !== 0,
    responseDataFormat: byte(3) & 0x0f,
    sccs: (byte(5) & 0x80) !== 0,
    acc: (byte(5) & 0x40) !== 0,
    tpgs: (byte(5) >>> 4) & 0x03,
    thirdPartyCopy: (byte(5) & 0x08) !== 0,
    protect: (byte(5) & 0x01) !== 0,
    encserv: (byte(6) & 0x40) !== 0,
    multip: (byte(6) & 0x10) !== 0,
    cmdque: (byte(7) & 0x02) !== 0,
    vendor: ascii(buf, 8, 16),
    product: ascii(buf, 16, 32),
    revision: ascii(buf, 32, 36),
    versionDescriptors,
  }
}

function decodeDesignators(body: Buffer): VpdDesignator[] {
  const out: VpdDesignator[] = []
  let at = 0
  while (at + 4 <= body.length) {
    const length = body[at + 3]!
    if (at + 4 + length > body.length) throw new ProtocolError(`device identification designator at byte ${at + 4} overruns the page`)
    const codeSet = body[at]! & 0x0f
    const piv = (body[at + 1]! & 0x80) !== 0
    const association = (body[at + 1]! >>> 4) & 0x03
    const value = Buffer.from(body.subarray(at + 4, at + 4 + length))
    out.push({
      codeSet,
      association,
      type: body[at + 1]! & 0x0f,
      protocolIdentifier: piv ? body[at]! >>> 4 : undefined,
      value,
      text: codeSet === 2 || codeSet === 3 ? value.toString(codeSet === 3 ? 'utf8' : 'latin1').replace(/\0+$/, '') : value.toString('hex'),
    })
    at += 4 + length
  }
  return out
}

/** A VPD page (SPC-4 7.8, SBC-3 6.6). The page length in the header is honoured as far as bytes arrived. */
export function decodeVpdPage(buf: Buffer): VpdPage {
  if (buf.length < 4) throw new ProtocolError(`VPD page of ${buf.length} bytes is too short`)
  const pageCode = buf[1]!
  const pageLength = buf.readUInt16BE(2)
  const data = Buffer.from(buf.subarray(4, Math.min(buf.length, 4 + pageLength)))
  const base = { kind: 'vpd' as const, peripheralQualifier: buf[0]! >>> 5, peripheralDeviceType: buf[0]! & 0x1f, data }
  const u16 = (i: number): number => (i + 2 <= data.length ? data.readUInt16BE(i) : 0)
  const u32 = (i: number): number => (i + 4 <= data.length ? data.readUInt32BE(i) : 0)
  switch (pageCode) {
    case 0x00:
      return { ...base, pageCode, name: 'supported-pages', pages: [...data] }
    case 0x80:
      return { ...base, pageCode, name: 'unit-serial-number', serialNumber: data.toString('latin1').replace(/\0+$/, '').trim() }
    case 0x83:
      return { ...base, pageCode, name: 'device-identification', designators: decodeDesignators(data) }
    case 0xb0: {
      // Body offsets are page offsets - 4 (SBC-3 6.6.4).
      const ugavalid = data.length >= 28 && (data[28]! & 0x80) !== 0
      return {
        ...base,
        pageCode,
        name: 'block-limits',
        writeSameNonZero: data.length > 0 && (data[0]! & 0x01) !== 0,
        maximumCompareAndWriteLength: data.length > 1 ? data[1]! : 0,
        optimalTransferLengthGranularity: u16(2),
        maximumTransferLength: u32(4),
        optimalTransferLength: u32(8),
        maximumPrefetchLength: u32(12),
        maximumUnmapLbaCount: u32(16),
        maximumUnmapBlockDescriptorCount: u32(20),
        optimalUnmapGranularity: u32(24),
        unmapGranularityAlignment: ugavalid ? u32(28) & 0x7fffffff : undefined,
        maximumWriteSameLength: data.length >= 40 ? data.readBigUInt64BE(32) : 0n,
      }
    }
    case 0xb1:
      return { ...base, pageCode, name: 'block-device-characteristics', mediumRotationRate: u16(0), nominalFormFactor: data.length > 3 ? data[3]! & 0x0f : 0 }
    case 0xb2: {
      const flags = data.length > 1 ? data[1]! : 0
      return {
        ...base,
        pageCode,
        name: 'logical-block-provisioning',
        thresholdExponent: data.length > 0 ? data[0]! : 0,
        lbpu: (flags & 0x80) !== 0,
        lbpws: (flags & 0x40) !== 0,
        lbpws10: (flags & 0x20) !== 0,
        lbprz: (flags & 0x04) !== 0,
        anc_sup: (flags & 0x02) !== 0,
        dp: (flags & 0x01) !== 0,
        provisioningType: data.length > 2 ? data[2]! & 0x07 : 0,
      }
    }
    default:
      return { ...base, pageCode, name: 'other' }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// READ CAPACITY (SBC-3 5.15, 5.16)

export interface Capacity {
  blockSize: number
  /** Number of logical blocks (last LBA + 1). */
  blockCount: bigint
  /** Logical block provisioning management enabled (thin provisioning), READ CAPACITY(16) only. */
  lbpme: boolean
  /** Unmapped blocks read as zeros. */
  lbprz: boolean
  /** Logical blocks per physical block exponent. */
  logicalBlocksPerPhysicalBlockExponent: number
  lowestAlignedLba: number
  protectionEnabled: boolean
}

export function decodeReadCapacity10(buf: Buffer): Capacity {
  if (buf.length < 8) throw new ProtocolError(`READ CAPACITY(10) data of ${buf.length} bytes is too short`)
  return {
    blockSize: buf.readUInt32BE(4),
    blockCount: BigInt(buf.readUInt32BE(0)) + 1n,
    lbpme: false,
    lbprz: false,
    logicalBlocksPerPhysicalBlockExponent: 0,
    lowestAlignedLba: 0,
    protectionEnabled: false,
  }
}

export function decodeReadCapacity16(buf: Buffer): Capacity {
  if (buf.length < 12) throw new ProtocolError(`READ CAPACITY(16) data of ${buf.length} bytes is too short`)
  const byte = (i: number): number => (i < buf.length ? buf[i]! : 0)
  return {
    blockSize: buf.readUInt32BE(8),
    blockCount: buf.readBigUInt64BE(0) + 1n,
    lbpme: (byte(14) & 0x80) !== 0,
    lbprz: (byte(14) & 0x40) !== 0,
    logicalBlocksPerPhysicalBlockExponent: byte(13) & 0x0f,
    lowestAlignedLba: ((byte(14) & 0x3f) << 8) | byte(15),
    protectionEnabled: (byte(12) & 0x01) !== 0,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// REPORT LUNS (SPC-4 6.33)

/** LUN numbers of a REPORT LUNS answer; entries in an address method we don't decode are skipped. */
export function decodeReportLuns(buf: Buffer): { luns: number[]; listLength: number } {
  if (buf.length < 8) throw new ProtocolError(`REPORT LUNS data of ${buf.length} bytes is too short`)
  const listLength = buf.readUInt32BE(0)
  const end = Math.min(buf.length, 8 + listLength)
  const luns: number[] = []
  for (let at = 8; at + 8 <= end; at += 8) {
    try {
      luns.push(decodeLun(buf.readBigUInt64BE(at)))
    } catch {
      // A multi-level or extended LUN: not addressable through this API.
    }
  }
  return { luns, listLength }
}

// ---------------------------------------------------------------------------------------------------------------
// GET LBA STATUS (SBC-3 5.7)

export type ProvisioningStatus = 'mapped' | 'deallocated' | 'anchored'

export interface LbaStatusDescriptor {
  lba: bigint
  blocks: number
  status: ProvisioningStatus
}

const provisioningStatus: readonly ProvisioningStatus[] = ['mapped', 'deallocated', 'anchored']

export function decodeLbaStatus(buf: Buffer): { descriptors: LbaStatusDescriptor[]; parameterDataLength: number } {
  if (buf.length < 8) throw new ProtocolError(`GET LBA STATUS data of ${buf.length} bytes is too short`)
  const parameterDataLength = buf.readUInt32BE(0)
  const end = Math.min(buf.length, 4 + parameterDataLength)
  const descriptors: LbaStatusDescriptor[] = []
  for (let at = 8; at + 16 <= end; at += 16) {
    const code = buf[at + 12]! & 0x0f
    const status = provisioningStatus[code]
    if (status === undefined) throw new ProtocolError(`GET LBA STATUS descriptor with provisioning status ${code}`)
    descriptors.push({ lba: buf.readBigUInt64BE(at), blocks: buf.readUInt32BE(at + 8), status })
  }
  return { descriptors, parameterDataLength }
}

// ---------------------------------------------------------------------------------------------------------------
// UNMAP (SBC-3 5.28)

export interface UnmapExtent {
  lba: bigint | number
  blocks: number
}

/** The UNMAP parameter list: an 8-byte header, then one 16-byte block descriptor per extent. */
export function encodeUnmapParameters(extents: readonly UnmapExtent[]): Buffer {
  const buf = Buffer.alloc(8 + 16 * extents.length)
  buf.writeUInt16BE(6 + 16 * extents.length, 0)
  buf.writeUInt16BE(16 * extents.length, 2)
  extents.forEach((extent, i) => {
    buf.writeBigUInt64BE(BigInt(extent.lba), 8 + 16 * i)
    buf.writeUInt32BE(extent.blocks, 16 + 16 * i)
  })
  return buf
}

// ---------------------------------------------------------------------------------------------------------------
// PERSISTENT RESERVE IN / OUT (SPC-4 6.15, 6.16)

export const PrInAction = { 'read-keys': 0x00, 'read-reservation': 0x01, 'report-capabilities': 0x02, 'read-full-status': 0x03 } as const
export type PrInActionName = keyof typeof PrInAction

export const PrOutAction = {
  register: 0x00,
  reserve: 0x01,
  release: 0x02,
  clear: 0x03,
  preempt: 0x04,
  'preempt-abort': 0x05,
  'register-ignore': 0x06,
  'register-move': 0x07,
} as const
export type PrOutActionName = keyof typeof PrOutAction

/** Reservation types (SPC-4 6.15.3.4, table 183). */
export const PrType = {
  WriteExclusive: 0x1,
  ExclusiveAccess: 0x3,
  WriteExclusiveRegistrantsOnly: 0x5,
  ExclusiveAccessRegistrantsOnly: 0x6,
  WriteExclusiveAllRegistrants: 0x7,
  ExclusiveAccessAllRegistrants: 0x8,
} as const
export type PrType = (typeof PrType)[keyof typeof PrType]

export interface PrReadKeys {
  action: 'read-keys'
  generation: number
  keys: bigint[]
}

export interface PrReadReservation {
  action: 'read-reservation'
  generation: number
  /** Absent when no reservation is held. */
  reservation?: { key: bigint; scope: number; type: number }
}

export interface PrCapabilities {
  action: 'report-capabilities'
  /** Compatible reservation handling, specify initiator ports, all target ports, persist through power loss capable. */
  crh: boolean
  sipC: boolean
  atpC: boolean
  ptplC: boolean
  /** Type mask valid, allow commands, persist through power loss activated. */
  tmv: boolean
  allowCommands: number
  ptplA: boolean
  /** Reservation types supported (only meaningful with tmv). */
  types: number[]
}

export interface PrFullStatusEntry {
  key: bigint
  allTargetPorts: boolean
  reservationHolder: boolean
  scope: number
  type: number
  relativeTargetPortId: number
  transportId: Buffer
}

export interface PrFullStatus {
  action: 'read-full-status'
  generation: number
  registrations: PrFullStatusEntry[]
}

export type PrInResult = PrReadKeys | PrReadReservation | PrCapabilities | PrFullStatus

export function decodePersistentReserveIn(action: PrInActionName, buf: Buffer): PrInResult {
  if (action === 'report-capabilities') {
    if (buf.length < 8) throw new ProtocolError(`REPORT CAPABILITIES data of ${buf.length} bytes is too short`)
    const mask = buf.readUInt16BE(4)
    const types: number[] = []
    // Bit positions of the PERSISTENT RESERVATION TYPE MASK (SPC-4 table 192).
    const bits: Array<[number, number]> = [[0x8000, 0x7], [0x4000, 0x6], [0x2000, 0x5], [0x0800, 0x3], [0x0200, 0x1], [0x0001, 0x8]]
    for (const [bit, type] of bits) if ((mask & bit) !== 0) types.push(type)
    return {
      action,
      crh: (buf[2]! & 0x10) !== 0,
      sipC: (buf[2]! & 0x08) !== 0,
      atpC: (buf[2]! & 0x04) !== 0,
      ptplC: (buf[2]! & 0x01) !== 0,
      tmv: (buf[3]! & 0x80) !== 0,
      allowCommands: (buf[3]! >>> 4) & 0x07,
      ptplA: (buf[3]! & 0x01) !== 0,
      types: types.sort((a, b) => a - b),
    }
  }
  if (buf.length < 8) throw new ProtocolError(`PERSISTENT RESERVE IN data of ${buf.length} bytes is too short`)
  const generation = buf.readUInt32BE(0)
  const additionalLength = buf.readUInt32BE(4)
  const end = Math.min(buf.length, 8 + additionalLength)
  if (action === 'read-keys') {
    const keys: bigint[] = []
    for (let at = 8; at + 8 <= end; at += 8) keys.push(buf.readBigUInt64BE(at))
    return { action, generation, keys }
  }
  if (action === 'read-reservation') {
    if (additionalLength === 0 || end < 8 + 16) return { action, generation }
    return { action, generation, reservation: { key: buf.readBigUInt64BE(8), scope: buf[21]! >>> 4, type: buf[21]! & 0x0f } }
  }
  const registrations: PrFullStatusEntry[] = []
  let at = 8
  while (at + 24 <= end) {
    const transportIdLength = buf.readUInt32BE(at + 20)
    if (at + 24 + transportIdLength > end) throw new ProtocolError('READ FULL STATUS descriptor overruns the data')
    registrations.push({
      key: buf.readBigUInt64BE(at),
      allTargetPorts: (buf[at + 12]! & 0x02) !== 0,
      reservationHolder: (buf[at + 12]! & 0x01) !== 0,
      scope: buf[at + 13]! >>> 4,
      type: buf[at + 13]! & 0x0f,
      relativeTargetPortId: buf.readUInt16BE(at + 18),
      transportId: Buffer.from(buf.subarray(at + 24, at + 24 + transportIdLength)),
    })
    at += 24 + transportIdLength
  }
  return { action, generation, registrations }
}

/** The 24-byte basic PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3). */
export function encodePersistentReserveOutParameters(options: {
  key?: bigint
  serviceActionKey?: bigint
  aptpl?: boolean
  allTargetPorts?: boolean
}): Buffer {
  const buf = Buffer.alloc(24)
  buf.writeBigUInt64BE(options.key ?? 0n, 0)
  buf.writeBigUInt64BE(options.serviceActionKey ?? 0n, 8)
  buf[20] = (options.allTargetPorts ? 0x04 : 0) | (options.aptpl ? 0x01 : 0)
  return buf
}
