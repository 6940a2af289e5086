// SCSI Response (RFC 7143 11.4). The data segment holds SenseLength, sense data and response data (11.4.7); it is
// kept raw here, the scsi package interprets it.
import { flag, get32, put32, put8 } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { ScsiResponsePdu } from '../types.js'

export const scsiResponseCodec = defineCodec<ScsiResponsePdu>({
  opcode: Opcode.ScsiResponse,
  // byte 0 `.|.|opcode`, byte 1 `1|.|.|o|u|O|U|.`, bytes 8-15 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0xe1, 0x80]], reserved: [[8, 16]] }),
  write(p, b, o) {
    b[o] = Opcode.ScsiResponse
    b[o + 1] = 0x80 | flag(p.bidiOverflow, 0x10) | flag(p.bidiUnderflow, 0x08) | flag(p.overflow, 0x04) | flag(p.underflow, 0x02)
    put8(b, o + 2, p.response, 'response')
    put8(b, o + 3, p.status, 'status')
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 20, p.snackTag, 'snackTag')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put32(b, o + 36, p.expDataSN, 'expDataSN')
    put32(b, o + 40, p.bidiReadResidualCount, 'bidiReadResidualCount')
    put32(b, o + 44, p.residualCount, 'residualCount')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.ScsiResponse,
      bidiOverflow: (f & 0x10) !== 0,
      bidiUnderflow: (f & 0x08) !== 0,
      overflow: (f & 0x04) !== 0,
      underflow: (f & 0x02) !== 0,
      response: b[o + 2]!,
      status: b[o + 3]!,
      itt: get32(b, o + 16),
      snackTag: get32(b, o + 20),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      expDataSN: get32(b, o + 36),
      bidiReadResidualCount: get32(b, o + 40),
      residualCount: get32(b, o + 44),
      data,
    }
  },
})
