// Task Management Function Response (RFC 7143 11.6).
import { get32, put32, put8 } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { TaskManagementResponsePdu } from '../types.js'

export const taskManagementResponseCodec = defineCodec<TaskManagementResponsePdu>({
  opcode: Opcode.TaskManagementResponse,
  // byte 0 `.|.|opcode`, byte 1 `1|reserved`, byte 3, bytes 8-15, 20-23 and 36-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xff, 0x80]], reserved: [[3, 4], [8, 16], [20, 24], [36, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.TaskManagementResponse
    b[o + 1] = 0x80
    put8(b, o + 2, p.response, 'response')
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.TaskManagementResponse,
      response: b[o + 2]!,
      itt: get32(b, o + 16),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      data,
    }
  },
})
