// NOP-In (RFC 7143 11.19): the answer to a NOP-Out, or a target ping with a valid TTT.
import { get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { NopInPdu } from '../types.js'

export const nopInCodec = defineCodec<NopInPdu>({
  opcode: Opcode.NopIn,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, bytes 2-3 and 36-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xff, 0x80]], reserved: [[2, 4], [36, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.NopIn
    b[o + 1] = 0x80
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.ttt, 'ttt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.NopIn,
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
