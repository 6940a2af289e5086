// SCSI Data-Out (RFC 7143 11.7).
import { flag, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { DataOutPdu } from '../types.js'

export const dataOutCodec = defineCodec<DataOutPdu>({
  opcode: Opcode.DataOut,
  // byte 0 `.|.|opcode`, byte 1 `F|reserved`, bytes 2-3, 24-27, 32-35 and 44-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0x7f, 0]], reserved: [[2, 4], [24, 28], [32, 36], [44, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.DataOut
    b[o + 1] = flag(p.final, 0x80)
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
    put32(b, o + 36, p.dataSN, 'dataSN')
    put32(b, o + 40, p.bufferOffset, 'bufferOffset')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.DataOut,
      final: (b[o + 1]! & 0x80) !== 0,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      expStatSN: get32(b, o + 28),
      dataSN: get32(b, o + 36),
      bufferOffset: get32(b, o + 40),
      data,
    }
  },
})
