// Logout Request (RFC 7143 11.14).
import { bits, flag, get16, get32, put16, put32 } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { LogoutRequestPdu } from '../types.js'

export const logoutRequestCodec = defineCodec<LogoutRequestPdu>({
  opcode: Opcode.LogoutRequest,
  // byte 0 `.|I|opcode`, byte 1 `1|Reason Code`, bytes 2-3, 8-15, 22-23 and 32-47 reserved
  template: bhsTemplate({ bits: [[0, 0x80, 0], [1, 0x80, 0x80]], reserved: [[2, 4], [8, 16], [22, 24], [32, 48]] }),
  write(p, b, o) {
    b[o] = flag(p.immediate, 0x40) | Opcode.LogoutRequest
    b[o + 1] = 0x80 | bits(p.reasonCode, 7, 'reasonCode')
    put32(b, o + 16, p.itt, 'itt')
    put16(b, o + 20, p.cid, 'cid')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.LogoutRequest,
      immediate: (b[o]! & 0x40) !== 0,
      reasonCode: b[o + 1]! & 0x7f,
      itt: get32(b, o + 16),
      cid: get16(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      data,
    }
  },
})
