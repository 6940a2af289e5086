import { hex, vectorSuite } from './vector-harness.js'

const rejectedHeader = hex`
  40 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // a NOP-Out BHS ...
  00 00 00 2a ff ff ff ff 00 00 00 07 00 00 00 03 // ... ITT 42, CmdSN 7
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // ... reserved
`

vectorSuite('Reject (RFC 7143 11.17)', [
  {
    title: 'invalid PDU field, carrying the rejected header',
    bytes: Buffer.concat([
      hex`
        3f 80 09 00              // 0: opcode 0x3f; 1: F=1; 2: Reason 0x09 (invalid PDU field); 3: reserved
        00 00 00 30              // 4: no AHS; DataSegmentLength 48
        00 00 00 00 00 00 00 00  // 8-15: reserved
        ff ff ff ff              // 16: 0xffffffff
        00 00 00 00              // 20: reserved
        00 00 00 03              // 24: StatSN 3
        00 00 00 04              // 28: ExpCmdSN 4
        00 00 00 23              // 32: MaxCmdSN 35
        00 00 00 00              // 36: DataSN/R2TSN 0
        00 00 00 00 00 00 00 00  // 40-47: reserved
      `,
      rejectedHeader,
    ]),
    pdu: { opcode: 0x3f, reason: 9, statSN: 3, expCmdSN: 4, maxCmdSN: 35, dataSN: 0, data: rejectedHeader },
  },
  {
    title: 'SNACK reject with DataSN',
    bytes: Buffer.concat([
      hex`
        3f 80 03 00              // 0: opcode 0x3f; F=1; Reason 0x03 (SNACK reject)
        00 00 00 30              // 4: DataSegmentLength 48
        00 00 00 00 00 00 00 00  // 8-15: reserved
        ff ff ff ff 00 00 00 00  // 16: 0xffffffff; 20: reserved
        00 00 00 05 00 00 00 06 00 00 00 25 // 24: StatSN 5; ExpCmdSN 6; MaxCmdSN 37
        00 00 00 0d              // 36: DataSN 13
        00 00 00 00 00 00 00 00  // 40-47: reserved
      `,
      rejectedHeader,
    ]),
    pdu: { opcode: 0x3f, reason: 3, statSN: 5, expCmdSN: 6, maxCmdSN: 37, dataSN: 13, data: rejectedHeader },
  },
])
