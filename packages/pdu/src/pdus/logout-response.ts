// Logout Response (RFC 7143 11.15).
import { get16, get32, put16, put32, put8 } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { LogoutResponsePdu } from '../types.js'

export const logoutResponseCodec = defineCodec<LogoutResponsePdu>({
  opcode: Opcode.LogoutResponse,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, bytes 3, 8-15, 20-23, 36-39 and 44-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xff, 0x80]], reserved: [[3, 4], [8, 16], [20, 24], [36, 40], [44, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.LogoutResponse
    b[o + 1] = 0x80
    put8(b, o + 2, p.response, 'response')
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put16(b, o + 40, p.time2Wait, 'time2Wait')
    put16(b, o + 42, p.time2Retain, 'time2Retain')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.LogoutResponse,
      response: b[o + 2]!,
      itt: get32(b, o + 16),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      time2Wait: get16(b, o + 40),
      time2Retain: get16(b, o + 42),
      data,
    }
  },
})
