// The two PDUs every I/O carries, written and read field by field instead of through the generic codec: the SCSI
// Command BHS (RFC 7143 11.3) on the way out and the Data-In BHS (RFC 7143 11.7) on the way in. The generic
// codec validates every field and turns the 64-bit LUN into a BigInt each time, which costs more than the rest of
// the PDU; here the LUN bytes are copied as they are. Anything unusual (an AHS, a CDB over 16 bytes) still goes
// through @iscsi-ts/pdu, and the tests check these against its encoder and decoder byte for byte.
import { Opcode, type DataInPdu, type ScsiCommandPdu } from '@iscsi-ts/pdu'

const EMPTY = Buffer.alloc(0)

/** True when `pdu` has no AHS: a CDB of at most 16 bytes, no bidirectional read length, no extra AHS. */
export function isPlainScsiCommand(pdu: ScsiCommandPdu): boolean {
  return pdu.cdb.length <= 16 && pdu.expectedBidirectionalReadLength === undefined && (pdu.ahs === undefined || pdu.ahs.length === 0)
}

function put32(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value >>> 24
  buf[offset + 1] = value >>> 16
  buf[offset + 2] = value >>> 8
  buf[offset + 3] = value
}

function get32(buf: Buffer, offset: number): number {
  return buf[offset]! * 0x1000000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!)
}

/**
 * Writes the 48-byte BHS of a plain SCSI Command (see isPlainScsiCommand) at `buf[offset]`, every byte of it;
 * `lun` is the 8-byte LUN field (`pdu.lun` encoded). The values are the session's own and already in range.
 */
export function writeScsiCommandBhs(buf: Buffer, offset: number, pdu: ScsiCommandPdu, lun: Buffer): void {
  const o = offset
  buf[o] = (pdu.immediate ? 0x40 : 0) | Opcode.ScsiCommand
  buf[o + 1] = (pdu.final ? 0x80 : 0) | (pdu.read ? 0x40 : 0) | (pdu.write ? 0x20 : 0) | (pdu.attribute & 0x07)
  buf[o + 2] = 0
  buf[o + 3] = 0
  // TotalAHSLength 0, DataSegmentLength (24 bits).
  const length = pdu.data.length
  buf[o + 4] = 0
  buf[o + 5] = length >>> 16
  buf[o + 6] = length >>> 8
  buf[o + 7] = length
  for (let i = 0; i < 8; i++) buf[o + 8 + i] = lun[i]!
  put32(buf, o + 16, pdu.itt)
  put32(buf, o + 20, pdu.expectedDataTransferLength)
  put32(buf, o + 24, pdu.cmdSN)
  put32(buf, o + 28, pdu.expStatSN)
  // The CDB, zero-padded to 16 bytes (RFC 7143 11.3.5).
  const cdb = pdu.cdb
  for (let i = 0; i < 16; i++) buf[o + 32 + i] = i < cdb.length ? cdb[i]! : 0
}

/** Peripheral LUN fields 0x00nn000000000000 (LUNs 0-255), the usual kind, as shared BigInts. */
const PERIPHERAL_LUNS: readonly bigint[] = Array.from({ length: 256 }, (_, n) => BigInt(n) << 48n)

/** A Data-In PDU object to refill with `readDataInBhs`. */
export function emptyDataIn(): DataInPdu {
  return {
    opcode: Opcode.DataIn,
    final: false,
    acknowledge: false,
    overflow: false,
    underflow: false,
    statusPresent: false,
    status: 0,
    lun: 0n,
    itt: 0,
    ttt: 0,
    statSN: 0,
    expCmdSN: 0,
    maxCmdSN: 0,
    dataSN: 0,
    bufferOffset: 0,
    residualCount: 0,
    data: EMPTY,
  }
}

/** Fills `pdu` from the Data-In BHS at `buf[offset]` (digest checked, no AHS); `data` is left empty. */
export function readDataInBhs(buf: Buffer, offset: number, pdu: DataInPdu): DataInPdu {
  const o = offset
  const flags = buf[o + 1]!
  pdu.final = (flags & 0x80) !== 0
  pdu.acknowledge = (flags & 0x40) !== 0
  pdu.overflow = (flags & 0x04) !== 0
  pdu.underflow = (flags & 0x02) !== 0
  pdu.statusPresent = (flags & 0x01) !== 0
  pdu.status = buf[o + 3]!
  const hi = get32(buf, o + 8)
  const lo = get32(buf, o + 12)
  pdu.lun = lo === 0 && (hi & 0xff00ffff) === 0 ? PERIPHERAL_LUNS[hi >>> 16]! : (BigInt(hi) << 32n) | BigInt(lo)
  pdu.itt = get32(buf, o + 16)
  pdu.ttt = get32(buf, o + 20)
  pdu.statSN = get32(buf, o + 24)
  pdu.expCmdSN = get32(buf, o + 28)
  pdu.maxCmdSN = get32(buf, o + 32)
  pdu.dataSN = get32(buf, o + 36)
  pdu.bufferOffset = get32(buf, o + 40)
  pdu.residualCount = get32(buf, o + 44)
  pdu.data = EMPTY
  return pdu
}

/** The ITT, DataSN and Buffer Offset of the Data-In BHS at `buf[offset]` (for placement, before decoding). */
export function dataInItt(buf: Buffer, offset: number): number {
  return get32(buf, offset + 16)
}

export function dataInDataSN(buf: Buffer, offset: number): number {
  return get32(buf, offset + 36)
}

export function dataInBufferOffset(buf: Buffer, offset: number): number {
  return get32(buf, offset + 40)
}
