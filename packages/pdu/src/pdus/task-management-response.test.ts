import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Task Management Function Response (RFC 7143 11.6)', [
  {
    title: 'function not supported',
    bytes: hex`
      22 80 05 00                // 0: opcode 0x22; 1: F=1; 2: Response 5 (not supported); 3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 10                // 16: ITT 16
      00 00 00 00                // 20: reserved
      00 00 00 09                // 24: StatSN 9
      00 00 00 21                // 28: ExpCmdSN 33
      00 00 00 40                // 32: MaxCmdSN 64
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
    `,
    pdu: { opcode: 0x22, response: 5, itt: 16, statSN: 9, expCmdSN: 33, maxCmdSN: 64, data: Buffer.alloc(0) },
  },
  {
    title: 'function rejected (255)',
    bytes: hex`
      22 80 ff 00                // 0: opcode 0x22; F=1; Response 255
      00 00 00 00 00 00 00 00 00 00 00 00 // 4: no AHS/data; 8-15 reserved
      ff ff ff fe 00 00 00 00    // 16: ITT 0xfffffffe; 20: reserved
      ff ff ff ff 00 00 00 00 00 00 00 1f // 24: StatSN 0xffffffff; ExpCmdSN 0; MaxCmdSN 31
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
    `,
    pdu: { opcode: 0x22, response: 255, itt: 0xfffffffe, statSN: 0xffffffff, expCmdSN: 0, maxCmdSN: 31, data: Buffer.alloc(0) },
  },
])
