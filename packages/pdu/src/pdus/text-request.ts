// Text Request (RFC 7143 11.10).
import { flag, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { TextRequestPdu } from '../types.js'

export const textRequestCodec = defineCodec<TextRequestPdu>({
  opcode: Opcode.TextRequest,
  // byte 0 `.|I|opcode`, byte 1 `F|C|reserved`, bytes 2-3 and 32-47 reserved
  template: bhsTemplate({ bits: [[0, 0x80, 0], [1, 0x3f, 0]], reserved: [[2, 4], [32, 48]] }),
  write(p, b, o) {
    b[o] = flag(p.immediate, 0x40) | Opcode.TextRequest
    b[o + 1] = flag(p.final, 0x80) | flag(p.continue, 0x40)
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.TextRequest,
      immediate: (b[o]! & 0x40) !== 0,
      final: (f & 0x80) !== 0,
      continue: (f & 0x40) !== 0,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      data,
    }
  },
})
