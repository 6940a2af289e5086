// INQUIRY parameter data (SPC-4 6.4): the standard data and the vital product data pages the device server
// returns (SPC-4 7.8, SBC-3 6.5). Pure builders: the logical unit supplies identity and limits.
import { createHash } from 'node:crypto'
import type { Nexus } from './nexus.js'

/** Version descriptors (SPC-4 table 147): "no version claimed" codes. */
export const VersionDescriptor = {
  SAM_5: 0x00a0,
  SPC_4: 0x0460,
  SBC_3: 0x04c0,
  ISCSI: 0x0960,
} as const

/** Peripheral byte of a LU that is not there: qualifier 011b, device type 1Fh (SPC-4 6.4.2). */
export const NO_LOGICAL_UNIT = 0x7f
/** Peripheral byte of a direct access block device (SBC-3). */
export const DIRECT_ACCESS_BLOCK_DEVICE = 0x00

export interface StandardInquiryOptions {
  readonly peripheral: number
  readonly removable: boolean
  readonly thirdPartyCopy: boolean
  readonly vendor: string
  readonly product: string
  readonly revision: string
  readonly versionDescriptors: readonly number[]
}

/** Space-padded ASCII of a fixed width (SPC-4 4.3.1: left-aligned, printable characters). */
export function asciiField(value: string, width: number): Buffer {
  const printable = value.replace(/[^\x20-\x7e]/g, '?').slice(0, width)
  return Buffer.from(printable.padEnd(width, ' '), 'latin1')
}

/** Standard INQUIRY data (SPC-4 6.4.2), 96 bytes. */
export function standardInquiry(options: StandardInquiryOptions): Buffer {
  const buf = Buffer.alloc(96)
  buf[0] = options.peripheral
  buf[1] = options.removable ? 0x80 : 0x00 // RMB
  buf[2] = 0x06 // VERSION: SPC-4
  buf[3] = 0x10 | 0x02 // HISUP (hierarchical LUN addressing), RESPONSE DATA FORMAT 2; NORMACA 0
  buf[4] = buf.length - 5 // ADDITIONAL LENGTH
  buf[5] = options.thirdPartyCopy ? 0x08 : 0x00 // 3PC; TPGS 00b (no ALUA), PROTECT 0
  buf[6] = 0x00 // ENCSERV 0, MULTIP 0
  buf[7] = 0x02 // CMDQUE: command queuing (task set) supported
  asciiField(options.vendor, 8).copy(buf, 8)
  asciiField(options.product, 16).copy(buf, 16)
  asciiField(options.revision, 4).copy(buf, 32)
  options.versionDescriptors.slice(0, 8).forEach((descriptor, index) => buf.writeUInt16BE(descriptor, 58 + index * 2))
  return buf
}

/** A VPD page: peripheral byte, page code, 2-byte page length, body. */
export function vpdPage(peripheral: number, code: number, body: Buffer): Buffer {
  const header = Buffer.from([peripheral, code, (body.length >> 8) & 0xff, body.length & 0xff])
  return Buffer.concat([header, body])
}

/** Designator types, associations and code sets of identification descriptors (SPC-4 7.8.6.1). */
export const Designator = { VENDOR_ID: 0x1, NAA: 0x3, RELATIVE_TARGET_PORT: 0x4, TARGET_PORT_GROUP: 0x5, SCSI_NAME_STRING: 0x8 } as const
export const Association = { LOGICAL_UNIT: 0x0, TARGET_PORT: 0x1, TARGET_DEVICE: 0x2 } as const
export const CodeSet = { BINARY: 0x1, ASCII: 0x2, UTF8: 0x3 } as const

/** One identification descriptor (SPC-4 7.8.6.1 table 591). `protocol` sets PIV=1 with that protocol identifier. */
export function identificationDescriptor(codeSet: number, association: number, type: number, value: Buffer, protocol?: number): Buffer {
  const header = Buffer.alloc(4)
  header[0] = ((protocol ?? 0) << 4) | codeSet
  header[1] = (protocol === undefined ? 0 : 0x80) | (association << 4) | type
  header[3] = value.length
  return Buffer.concat([header, value])
}

/**
 * The NAA designator of a LU. A given value is taken as the whole designator: up to 64 bits for NAA 2h/3h/5h,
 * 128 bits for NAA 6h (IEEE registered extended). Without one, a NAA 3h (locally assigned, SPC-4 7.8.6.6.4)
 * designator is derived from the serial number, so it is stable across restarts.
 */
export function naaDesignator(serial: string, naa?: bigint): Buffer {
  if (naa !== undefined) {
    if (naa < 0n || naa >= 1n << 128n) throw new RangeError('NAA designator must fit in 128 bits')
    if (naa >= 1n << 64n) {
      if (naa >> 124n !== 6n) throw new RangeError('a 128-bit NAA designator must be NAA 6h (IEEE registered extended)')
      const buf = Buffer.alloc(16)
      buf.writeBigUInt64BE(naa >> 64n, 0)
      buf.writeBigUInt64BE(naa & 0xffffffffffffffffn, 8)
      return buf
    }
    const kind = naa >> 60n
    if (kind !== 2n && kind !== 3n && kind !== 5n) throw new RangeError('a 64-bit NAA designator must be NAA 2h, 3h or 5h')
    const buf = Buffer.alloc(8)
    buf.writeBigUInt64BE(naa, 0)
    return buf
  }
  const digest = createHash('sha256').update(`iscsi-ts naa:${serial}`).digest()
  digest[0] = 0x30 | (digest[0]! & 0x0f)
  return digest.subarray(0, 8)
}

/** The protocol identifier of a nexus's initiator port, from its TransportID (SPC-4 7.6.4.1 byte 0 bits 3-0). */
export function protocolIdentifier(nexus: Nexus): number | undefined {
  return nexus.transportId.length > 0 ? nexus.transportId[0]! & 0x0f : undefined
}

/** SCSI name string value: UTF-8, NUL terminated, padded with NULs to a multiple of 4 (SPC-4 7.8.6.11). */
export function scsiNameString(name: string): Buffer {
  const text = Buffer.from(name, 'utf8').subarray(0, 251)
  return Buffer.concat([text, Buffer.alloc(4 - (text.length % 4))])
}

export interface DeviceIdentification {
  readonly naa: Buffer
  readonly vendor: string
  readonly serial: string
  readonly nexus: Nexus
}

/** Device Identification VPD page body (83h, SPC-4 7.8.6). */
export function deviceIdentification(id: DeviceIdentification): Buffer {
  const protocol = protocolIdentifier(id.nexus)
  const port = Buffer.alloc(4)
  port.writeUInt16BE(id.nexus.relativeTargetPortId & 0xffff, 2)
  const group = Buffer.alloc(4)
  group.writeUInt16BE((id.nexus.targetPortGroup ?? 0) & 0xffff, 2)
  return Buffer.concat([
    identificationDescriptor(CodeSet.BINARY, Association.LOGICAL_UNIT, Designator.NAA, id.naa),
    identificationDescriptor(CodeSet.ASCII, Association.LOGICAL_UNIT, Designator.VENDOR_ID, Buffer.concat([asciiField(id.vendor, 8), Buffer.from(id.serial, 'latin1')])),
    identificationDescriptor(CodeSet.BINARY, Association.TARGET_PORT, Designator.RELATIVE_TARGET_PORT, port, protocol),
    identificationDescriptor(CodeSet.BINARY, Association.TARGET_PORT, Designator.TARGET_PORT_GROUP, group, protocol),
    identificationDescriptor(CodeSet.UTF8, Association.TARGET_PORT, Designator.SCSI_NAME_STRING, scsiNameString(id.nexus.targetPort), protocol),
  ])
}

/** Extended INQUIRY Data VPD page body (86h, SPC-4 7.8.7). */
export function extendedInquiry(): Buffer {
  const body = Buffer.alloc(0x3c)
  body[1] = 0x04 | 0x02 | 0x01 // HEADSUP, ORDSUP, SIMPSUP: task attributes honoured
  body[2] = 0x01 // V_SUP: a volatile cache (the backstore's) exists; SYNCHRONIZE CACHE and FUA reach stable storage
  body[3] = 0x01 // LUICLR: unit attentions are per I_T nexus and cleared by reporting them
  return body
}

export interface BlockLimits {
  readonly maxCompareAndWriteLength: number
  readonly optimalTransferLengthGranularity: number
  readonly maxTransferLength: number
  readonly optimalTransferLength: number
  readonly maxPrefetchLength: number
  readonly maxUnmapLbaCount: number
  readonly maxUnmapDescriptorCount: number
  readonly optimalUnmapGranularity: number
  readonly unmapGranularityAlignment?: number
  readonly maxWriteSameLength: number
  readonly maxAtomicTransferLength: number
  readonly atomicAlignment: number
  readonly atomicTransferLengthGranularity: number
}

/** Block Limits VPD page body (B0h, SBC-3 6.5.3, with the SBC-4 atomic fields). */
export function blockLimits(limits: BlockLimits): Buffer {
  const body = Buffer.alloc(0x3c)
  body[0] = 0x00 // WSNZ 0: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes to the last LBA
  body[1] = limits.maxCompareAndWriteLength
  body.writeUInt16BE(limits.optimalTransferLengthGranularity, 2)
  body.writeUInt32BE(limits.maxTransferLength, 4)
  body.writeUInt32BE(limits.optimalTransferLength, 8)
  body.writeUInt32BE(limits.maxPrefetchLength, 12)
  body.writeUInt32BE(limits.maxUnmapLbaCount, 16)
  body.writeUInt32BE(limits.maxUnmapDescriptorCount, 20)
  body.writeUInt32BE(limits.optimalUnmapGranularity, 24)
  if (limits.unmapGranularityAlignment !== undefined) body.writeUInt32BE((0x80000000 | limits.unmapGranularityAlignment) >>> 0, 28) // UGAVALID
  body.writeBigUInt64BE(BigInt(limits.maxWriteSameLength), 32)
  body.writeUInt32BE(limits.maxAtomicTransferLength, 40)
  body.writeUInt32BE(limits.atomicAlignment, 44)
  body.writeUInt32BE(limits.atomicTransferLengthGranularity, 48)
  // MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY and MAXIMUM ATOMIC BOUNDARY SIZE stay 0: no boundaries.
  return body
}

/** WABEREQ and WACEREQ values (SBC-3 6.5.2 tables 186-187): what a read of a sanitized block returns. */
export const SanitizeReadBehavior = { UNSPECIFIED: 0b00, GOOD: 0b01, MEDIUM_ERROR: 0b10, WRITE_AFTER_SANITIZE_REQUIRED: 0b11 } as const

/**
 * Block Device Characteristics VPD page body (B1h, SBC-3 6.5.2): a non-rotating medium. SANITIZE BLOCK ERASE and
 * CRYPTOGRAPHIC ERASE deallocate every block (or write zeros), so a later read completes with GOOD: WABEREQ and
 * WACEREQ 01b. A device server that supports those sanitize actions reports a value other than 00b.
 */
export function blockDeviceCharacteristics(): Buffer {
  const body = Buffer.alloc(0x3c)
  body.writeUInt16BE(0x0001, 0) // MEDIUM ROTATION RATE 0001h: non-rotating (solid state)
  body[3] = (SanitizeReadBehavior.GOOD << 6) | (SanitizeReadBehavior.GOOD << 4) // byte 7: WABEREQ, WACEREQ; NOMINAL FORM FACTOR 0
  return body
}

/** Logical Block Provisioning VPD page body (B2h, SBC-3 6.5.4). */
export function logicalBlockProvisioning(thin: boolean): Buffer {
  const body = Buffer.alloc(4)
  if (thin) {
    body[1] = 0x80 | 0x40 | 0x20 | 0x04 // LBPU (UNMAP), LBPWS (WRITE SAME(16) unmap), LBPWS10, LBPRZ (unmapped reads zeros)
    body[2] = 0x02 // PROVISIONING TYPE 010b: thin provisioned
  }
  return body
}
