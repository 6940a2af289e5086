// Reject (RFC 7143 11.17). ITT is always 0xffffffff; the data segment is the rejected PDU's header.
import { get32, put32, put8 } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { RejectPdu } from '../types.js'

export const rejectCodec = defineCodec<RejectPdu>({
  opcode: Opcode.Reject,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, bytes 3, 8-15, 20-23 and 40-47 reserved, bytes 16-19 0xffffffff
  template: bhsTemplate({
    bits: [[0, 0xc0, 0], [1, 0xff, 0x80], [16, 0xff, 0xff], [17, 0xff, 0xff], [18, 0xff, 0xff], [19, 0xff, 0xff]],
    reserved: [[3, 4], [8, 16], [20, 24], [40, 48]],
  }),
  write(p, b, o) {
    b[o] = Opcode.Reject
    b[o + 1] = 0x80
    put8(b, o + 2, p.reason, 'reason')
    b.writeUInt32BE(0xffffffff, o + 16)
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put32(b, o + 36, p.dataSN, 'dataSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.Reject,
      reason: b[o + 2]!,
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      dataSN: get32(b, o + 36),
      data,
    }
  },
})
