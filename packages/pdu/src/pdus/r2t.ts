// Ready To Transfer (RFC 7143 11.8).
import { get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { R2TPdu } from '../types.js'

export const r2tCodec = defineCodec<R2TPdu>({
  opcode: Opcode.R2T,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, bytes 2-3 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xff, 0x80]], reserved: [[2, 4]] }),
  write(p, b, o) {
    b[o] = Opcode.R2T
    b[o + 1] = 0x80
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put32(b, o + 36, p.r2tSN, 'r2tSN')
    put32(b, o + 40, p.bufferOffset, 'bufferOffset')
    put32(b, o + 44, p.desiredDataTransferLength, 'desiredDataTransferLength')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.R2T,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      r2tSN: get32(b, o + 36),
      bufferOffset: get32(b, o + 40),
      desiredDataTransferLength: get32(b, o + 44),
      data,
    }
  },
})
