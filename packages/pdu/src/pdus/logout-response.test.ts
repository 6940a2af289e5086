import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Logout Response (RFC 7143 11.15)', [
  {
    title: 'CID not found, with Time2Wait and Time2Retain',
    bytes: hex`
      26 80 01 00                // 0: opcode 0x26; 1: F=1; 2: Response 1 (CID not found); 3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 30                // 16: ITT 48
      00 00 00 00                // 20: reserved
      00 00 00 0a                // 24: StatSN 10
      00 00 00 41                // 28: ExpCmdSN 65
      00 00 00 60                // 32: MaxCmdSN 96
      00 00 00 00                // 36: reserved
      00 02                      // 40: Time2Wait 2
      00 14                      // 42: Time2Retain 20
      00 00 00 00                // 44: reserved
    `,
    pdu: {
      opcode: 0x26,
      response: 1,
      itt: 48,
      statSN: 10,
      expCmdSN: 65,
      maxCmdSN: 96,
      time2Wait: 2,
      time2Retain: 20,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'closed successfully',
    bytes: hex`
      26 80 00 00                // 0: opcode 0x26; F=1; Response 0
      00 00 00 00 00 00 00 00 00 00 00 00 // 4: no AHS/data; 8-15: reserved
      00 00 00 31 00 00 00 00    // 16: ITT 49; 20: reserved
      00 00 00 0b 00 00 00 42 00 00 00 61 // 24: StatSN 11; ExpCmdSN 66; MaxCmdSN 97
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved, Time2Wait 0, Time2Retain 0
    `,
    pdu: {
      opcode: 0x26,
      response: 0,
      itt: 49,
      statSN: 11,
      expCmdSN: 66,
      maxCmdSN: 97,
      time2Wait: 0,
      time2Retain: 0,
      data: Buffer.alloc(0),
    },
  },
])
