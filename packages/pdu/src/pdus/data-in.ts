// SCSI Data-In (RFC 7143 11.7), the hottest PDU on reads.
import { flag, get32, getLun, put32, put8, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { DataInPdu } from '../types.js'

export const dataInCodec = defineCodec<DataInPdu>({
  opcode: Opcode.DataIn,
  // byte 0 `.|.|opcode`, byte 1 `F|A|.|.|.|O|U|S`, byte 2 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0x38, 0]], reserved: [[2, 3]] }),
  write(p, b, o) {
    b[o] = Opcode.DataIn
    b[o + 1] =
      flag(p.final, 0x80) | flag(p.acknowledge, 0x40) | flag(p.overflow, 0x04) | flag(p.underflow, 0x02) | flag(p.statusPresent, 0x01)
    put8(b, o + 3, p.status, 'status')
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put32(b, o + 36, p.dataSN, 'dataSN')
    put32(b, o + 40, p.bufferOffset, 'bufferOffset')
    put32(b, o + 44, p.residualCount, 'residualCount')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.DataIn,
      final: (f & 0x80) !== 0,
      acknowledge: (f & 0x40) !== 0,
      overflow: (f & 0x04) !== 0,
      underflow: (f & 0x02) !== 0,
      statusPresent: (f & 0x01) !== 0,
      status: b[o + 3]!,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      dataSN: get32(b, o + 36),
      bufferOffset: get32(b, o + 40),
      residualCount: get32(b, o + 44),
      data,
    }
  },
})
