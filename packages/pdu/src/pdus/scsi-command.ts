// SCSI Command (RFC 7143 11.2), with the Extended CDB AHS (11.2.2.3) and the Bidirectional Expected Read-Data
// Length AHS (11.2.2.4) folded into `cdb` and `expectedBidirectionalReadLength`.
import { bits, flag, get32, getLun, put32, putLun } from '../bytes.js'
import { InvalidFieldError, PduEncodeError } from '../errors.js'
import { AhsType, Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { Ahs, ScsiCommandPdu } from '../types.js'

/** Longest CDB: 16 bytes in the BHS plus an AHS of at most 1020 bytes, of which 1 reserved byte (RFC 7143 11.2.2.3). */
export const MAX_CDB_LENGTH = 16 + 1020 - 4 - 1

export const scsiCommandCodec = defineCodec<ScsiCommandPdu>({
  opcode: Opcode.ScsiCommand,
  // byte 0 `.|I|opcode`, byte 1 `F|R|W|.|.|ATTR`, bytes 2-3 reserved
  template: bhsTemplate({ bits: [[0, 0x80, 0], [1, 0x18, 0]], reserved: [[2, 4]] }),
  write(p, b, o) {
    b[o] = flag(p.immediate, 0x40) | Opcode.ScsiCommand
    b[o + 1] = flag(p.final, 0x80) | flag(p.read, 0x40) | flag(p.write, 0x20) | bits(p.attribute, 3, 'attribute')
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.expectedDataTransferLength, 'expectedDataTransferLength')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
    const cdb = p.cdb
    if (!(cdb instanceof Uint8Array)) throw new PduEncodeError('cdb must be a Buffer')
    if (cdb.length > MAX_CDB_LENGTH) throw new PduEncodeError(`cdb of ${cdb.length} bytes exceeds ${MAX_CDB_LENGTH}`)
    // CDBs shorter than 16 bytes are zero-padded in the BHS (RFC 7143 11.2.1.x); the caller zeroed the bytes.
    b.set(cdb.length > 16 ? cdb.subarray(0, 16) : cdb, o + 32)
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.ScsiCommand,
      immediate: (b[o]! & 0x40) !== 0,
      final: (f & 0x80) !== 0,
      read: (f & 0x40) !== 0,
      write: (f & 0x20) !== 0,
      attribute: f & 0x07,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      expectedDataTransferLength: get32(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      cdb: b.subarray(o + 32, o + 48),
      data,
    }
  },
  knownAhs(p) {
    let list: Ahs[] | undefined
    if (p.cdb.length > 16) {
      // AHSLength = CDB length - 15: the reserved AHS-specific byte plus the CDB bytes past 16 (RFC 7143 11.2.2.3).
      const ahsData = Buffer.alloc(p.cdb.length - 15)
      ahsData.set(p.cdb.subarray(16), 1)
      list = [{ type: AhsType.ExtendedCdb, data: ahsData }]
    }
    if (p.expectedBidirectionalReadLength !== undefined) {
      // AHSLength 5: reserved byte then the 32-bit length (RFC 7143 11.2.2.4).
      const ahsData = Buffer.alloc(5)
      put32(ahsData, 1, p.expectedBidirectionalReadLength, 'expectedBidirectionalReadLength')
      ;(list ??= []).push({ type: AhsType.BidirectionalReadLength, data: ahsData })
    }
    return list
  },
  absorbAhs(p, list, header) {
    const rest: Ahs[] = []
    let sawCdb = false
    let sawBidi = false
    for (const ahs of list) {
      if (ahs.type === AhsType.ExtendedCdb && !sawCdb) {
        if (ahs.data.length < 2) throw new InvalidFieldError(`Extended CDB AHS with AHSLength ${ahs.data.length}`, header())
        p.cdb = Buffer.concat([p.cdb, ahs.data.subarray(1)])
        sawCdb = true
      } else if (ahs.type === AhsType.BidirectionalReadLength && !sawBidi) {
        if (ahs.data.length !== 5) {
          throw new InvalidFieldError(`Bidirectional Read Length AHS with AHSLength ${ahs.data.length}`, header())
        }
        p.expectedBidirectionalReadLength = ahs.data.readUInt32BE(1)
        sawBidi = true
      } else {
        rest.push(ahs)
      }
    }
    return rest
  },
})
