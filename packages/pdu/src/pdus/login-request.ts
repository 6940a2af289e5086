// Login Request (RFC 7143 11.12). The I bit is always 1 (11.12: "Login requests are always immediate").
import { bits, flag, get16, get32, put16, put32, put8, putBytes } from '../bytes.js'
import { Opcode } from '../opcode.js'
import { bhsTemplate, defineCodec } from '../pdu-codec.js'
import type { LoginRequestPdu } from '../types.js'

export const loginRequestCodec = defineCodec<LoginRequestPdu>({
  opcode: Opcode.LoginRequest,
  // byte 0 `.|1|opcode`, byte 1 `T|C|.|.|CSG|NSG`, bytes 22-23 and 32-47 reserved
  template: bhsTemplate({ bits: [[0, 0xc0, 0x40], [1, 0x30, 0]], reserved: [[22, 24], [32, 48]] }),
  write(p, b, o) {
    b[o] = 0x40 | Opcode.LoginRequest
    b[o + 1] = flag(p.transit, 0x80) | flag(p.continue, 0x40) | (bits(p.csg, 2, 'csg') << 2) | bits(p.nsg, 2, 'nsg')
    put8(b, o + 2, p.versionMax, 'versionMax')
    put8(b, o + 3, p.versionMin, 'versionMin')
    putBytes(b, o + 8, p.isid, 6, 'isid')
    put16(b, o + 14, p.tsih, 'tsih')
    put32(b, o + 16, p.itt, 'itt')
    put16(b, o + 20, p.cid, 'cid')
    put32(b, o + 24, p.cmdSN, 'cmdSN')
    put32(b, o + 28, p.expStatSN, 'expStatSN')
  },
  read(b, o, data) {
    const f = b[o + 1]!
    return {
      opcode: Opcode.LoginRequest,
      transit: (f & 0x80) !== 0,
      continue: (f & 0x40) !== 0,
      csg: (f >>> 2) & 0x03,
      nsg: f & 0x03,
      versionMax: b[o + 2]!,
      versionMin: b[o + 3]!,
      isid: b.subarray(o + 8, o + 14),
      tsih: get16(b, o + 14),
      itt: get32(b, o + 16),
      cid: get16(b, o + 20),
      cmdSN: get32(b, o + 24),
      expStatSN: get32(b, o + 28),
      data,
    }
  },
})
