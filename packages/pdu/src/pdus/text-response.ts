// Text Response (RFC 7143 11.11).
import { flag, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { TextResponsePdu } from '../types.js'

export const textResponseCodec = defineCodec<TextResponsePdu>({
  opcode: Opcode.TextResponse,
  // byte 0 `.|.|opcode`, byte 1 `F|C|reserved`, bytes 2-3 and 36-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0x3f, 0]], reserved: [[2, 4], [36, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.TextResponse
    b[o + 1] = flag(p.final, 0x80) | flag(p.continue, 0x40)
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.TextResponse,
      final: (f & 0x80) !== 0,
      continue: (f & 0x40) !== 0,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      data,
    }
  },
})
