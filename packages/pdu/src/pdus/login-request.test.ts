import { digestOf } from '../crc32c.js'
import { hex, vectorSuite } from './vector-harness.js'

const isid = hex`80 12 34 56 00 01`

const leadingBhs = hex`
  43 87 00 00                // 0: .|I=1|opcode 0x03; 1: T=1 C=0 CSG=1 NSG=3; 2: Version-max 0; 3: Version-min 0
  00 00 00 12                // 4: no AHS; DataSegmentLength 18
  80 12 34 56 00 01          // 8: ISID (random type)
  00 00                      // 14: TSIH 0 (new session)
  00 00 00 00                // 16: ITT 0
  00 01 00 00                // 20: CID 1; 22-23: reserved
  00 00 00 01                // 24: CmdSN 1
  00 00 00 00                // 28: ExpStatSN 0
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
`
const text = Buffer.from('HeaderDigest=None\0')

vectorSuite('Login Request (RFC 7143 11.12)', [
  {
    title: 'operational stage, transit to full feature, text with 2 bytes padding',
    bytes: Buffer.concat([leadingBhs, text, hex`00 00 // padding`]),
    pdu: {
      opcode: 0x03,
      transit: true,
      continue: false,
      csg: 1,
      nsg: 3,
      versionMax: 0,
      versionMin: 0,
      isid,
      tsih: 0,
      itt: 0,
      cid: 1,
      cmdSN: 1,
      expStatSN: 0,
      data: text,
    },
  },
  {
    title: 'security stage, continued text, digests computed over header and padded data',
    bytes: (() => {
      const bhs = hex`
        43 40 00 00              // 0: I=1, opcode 0x03; 1: T=0 C=1 CSG=0 NSG=0
        00 00 00 03              // 4: DataSegmentLength 3
        80 12 34 56 00 01 01 02  // 8: ISID; 14: TSIH 0x0102 (joining a session)
        00 00 00 09              // 16: ITT 9
        00 02 00 00              // 20: CID 2
        00 00 00 05 00 00 00 07  // 24: CmdSN 5; 28: ExpStatSN 7
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
      `
      const padded = hex`41 3d 42 00 // "A=B" + 1 byte padding`
      return Buffer.concat([bhs, digestOf(bhs), padded, digestOf(padded)])
    })(),
    digests: { headerDigest: true, dataDigest: true },
    pdu: {
      opcode: 0x03,
      transit: false,
      continue: true,
      csg: 0,
      nsg: 0,
      versionMax: 0,
      versionMin: 0,
      isid,
      tsih: 0x0102,
      itt: 9,
      cid: 2,
      cmdSN: 5,
      expStatSN: 7,
      data: Buffer.from('A=B'),
    },
  },
])
