// Task Management Function Request (RFC 7143 11.5).
import { bits, flag, get32, getLun, put32, putLun } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { TaskManagementRequestPdu } from '../types.js'

export const taskManagementRequestCodec = defineCodec<TaskManagementRequestPdu>({
  opcode: Opcode.TaskManagementRequest,
  // byte 0 `.|I|opcode`, byte 1 `1|Function`, bytes 2-3 and 40-47 reserved
  template: bhsTemplate({ bits: [[0, 0x80, 0], [1, 0x80, 0x80]], reserved: [[2, 4], [40, 48]] }),
  write(p, b, o) {
    b[o] = flag(p.immediate, 0x40) | Opcode.TaskManagementRequest
    b[o + 1] = 0x80 | bits(p.function, 7, 'function')
    putLun(b, o + 8, p.lun)
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.referencedTaskTag, 'referencedTaskTag')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
    put32(b, o + 32, p.refCmdSN, 'refCmdSN')
    put32(b, o + 36, p.expDataSN, 'expDataSN')
  },
  read(b, o, data) {
    return {
      opcode: Opcode.TaskManagementRequest,
      immediate: (b[o]! & 0x40) !== 0,
      function: b[o + 1]! & 0x7f,
      lun: getLun(b, o + 8),
      itt: get32(b, o + 16),
      referencedTaskTag: get32(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      refCmdSN: get32(b, o + 32),
      expDataSN: get32(b, o + 36),
      data,
    }
  },
})
