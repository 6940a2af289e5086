// Asynchronous Message (RFC 7143 11.9). ITT is always 0xffffffff.
import { get16, get32, getLun, put16, put32, put8, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { AsyncMessagePdu } from '../types.js'

export const asyncMessageCodec = defineCodec<AsyncMessagePdu>({
  opcode: Opcode.AsyncMessage,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, bytes 2-3, 20-23 and 44-47 reserved, bytes 16-19 0xffffffff
  template: bhsTemplate({
    bits: [[0, 0xc0, 0], [1, 0xff, 0x80], [16, 0xff, 0xff], [17, 0xff, 0xff], [18, 0xff, 0xff], [19, 0xff, 0xff]],
    reserved: [[2, 4], [20, 24], [44, 48]],
  }),
  write(p, b, o) {
    b[o] = Opcode.AsyncMessage
    b[o + 1] = 0x80
    putLun(b, o + 8, p.lun)
    b.writeUInt32BE(0xffffffff, o + 16)
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put8(b, o + 36, p.asyncEvent, 'asyncEvent')
    put8(b, o + 37, p.asyncVCode, 'asyncVCode')
    put16(b, o + 38, p.parameter1, 'parameter1')
    put16(b, o + 40, p.parameter2, 'parameter2')
    put16(b, o + 42, p.parameter3, 'parameter3')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.AsyncMessage,
      lun: getLun(b, o + 8),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      asyncEvent: b[o + 36]!,
      asyncVCode: b[o + 37]!,
      parameter1: get16(b, o + 38),
      parameter2: get16(b, o + 40),
      parameter3: get16(b, o + 42),
      data,
    }
  },
})
