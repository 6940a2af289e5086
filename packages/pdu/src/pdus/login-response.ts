// Login Response (RFC 7143 11.13).
import { bits, flag, get16, get32, put16, put32, put8, putBytes } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { LoginResponsePdu } from '../types.js'

export const loginResponseCodec = defineCodec<LoginResponsePdu>({
  opcode: Opcode.LoginResponse,
  // byte 0 `.|.|opcode`, byte 1 `T|C|.|.|CSG|NSG`, bytes 20-23 and 38-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0], [1, 0x30, 0]], reserved: [[20, 24], [38, 48]] }),
  write(p, b, o) {
    b[o] = Opcode.LoginResponse
    b[o + 1] = flag(p.transit, 0x80) | flag(p.continue, 0x40) | (bits(p.csg, 2, 'csg') << 2) | bits(p.nsg, 2, 'nsg')
    put8(b, o + 2, p.versionMax, 'versionMax')
    put8(b, o + 3, p.versionActive, 'versionActive')
    putBytes(b, o + 8, p.isid, 6, 'isid')
    put16(b, o + 14, p.tsih, 'tsih')
    put32(b, o + 16, p.itt, 'itt')
    put32(b, o + 24, p.statSN, 'statSN')
    put32(b, o + 28, p.expCmdSN, 'expCmdSN')
    put32(b, o + 32, p.maxCmdSN, 'maxCmdSN')
    put8(b, o + 36, p.statusClass, 'statusClass')
    put8(b, o + 37, p.statusDetail, 'statusDetail')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.LoginResponse,
      transit: (f & 0x80) !== 0,
      continue: (f & 0x40) !== 0,
      csg: (f >>> 2) & 0x03,
      nsg: f & 0x03,
      versionMax: b[o + 2]!,
      versionActive: b[o + 3]!,
      isid: b.subarray(o + 8, o + 14),
      tsih: get16(b, o + 14),
      itt: get32(b, o + 16),
      statSN: get32(b, o + 24),
      expCmdSN: get32(b, o + 28),
      maxCmdSN: get32(b, o + 32),
      statusClass: b[o + 36]!,
      statusDetail: b[o + 37]!,
      data,
    }
  },
})
