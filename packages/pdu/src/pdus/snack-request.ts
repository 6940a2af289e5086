// SNACK Request (RFC 7143 11.16).
import { bits, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { SnackRequestPdu } from '../types.js'

export const snackRequestCodec = defineCodec<SnackRequestPdu>({
  opcode: Opcode.SnackRequest,
  // byte 0 `.|.|opcode`, byte 1 `1|.|.|.|Type`, bytes 2-3, 24-27 and 32-39 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xf0, 0x80]], reserved: [[2, 4], [24, 28], [32, 40]] }),
  write(p, b, o) {
    b[o] = Opcode.SnackRequest
    b[o + 1] = 0x80 | bits(p.type, 4, 'type')
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
    put32(b, o + 40, p.begRun, 'begRun')
    put32(b, o + 44, p.runLength, 'runLength')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.SnackRequest,
      type: b[o + 1]! & 0x0f,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      expStatSN: get32(b, o + 28),
      begRun: get32(b, o + 40),
      runLength: get32(b, o + 44),
      data,
    }
  },
})
