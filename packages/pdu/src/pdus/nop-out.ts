// NOP-Out (RFC 7143 11.18): initiator ping, or the answer to a NOP-In carrying a valid TTT.
import { flag, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { NopOutPdu } from '../types.js'

export const nopOutCodec = defineCodec<NopOutPdu>({
  opcode: Opcode.NopOut,
  // byte 0 `.|I|opcode`, byte 1 `1|reserved`, bytes 2-3 and 32-47 reserved
  template: bhsTemplate({ bits: [[0, 0x80, 0], [1, 0xff, 0x80]], reserved: [[2, 4], [32, 48]] }),
  write(p, b, o) {
    b[o] = flag(p.immediate, 0x40) | Opcode.NopOut
    b[o + 1] = 0x80
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.NopOut,
      immediate: (b[o]! & 0x40) !== 0,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      ttt: get32(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      data,
    }
  },
})

