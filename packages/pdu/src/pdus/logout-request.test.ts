import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Logout Request (RFC 7143 11.14)', [
  {
    title: 'close the connection, immediate',
    bytes: hex`
      46 81 00 00                // 0: I=1, opcode 0x06; 1: 1|Reason Code 1 (close connection); 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 30                // 16: ITT 48
      00 02 00 00                // 20: CID 2; 22-23: reserved
      00 00 00 40                // 24: CmdSN 64
      00 00 00 41                // 28: ExpStatSN 65
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
    `,
    pdu: { opcode: 0x06, immediate: true, reasonCode: 1, itt: 48, cid: 2, cmdSN: 64, expStatSN: 65, data: Buffer.alloc(0) },
  },
  {
    title: 'remove the connection for recovery',
    bytes: hex`
      06 82 00 00                // 0: I=0, opcode 0x06; 1: 1|Reason Code 2
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 31 ff ff 00 00    // 16: ITT 49; 20: CID 65535
      00 00 00 42 00 00 00 43    // 24: CmdSN 66; 28: ExpStatSN 67
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
    `,
    pdu: { opcode: 0x06, immediate: false, reasonCode: 2, itt: 49, cid: 0xffff, cmdSN: 66, expStatSN: 67, data: Buffer.alloc(0) },
  },
])
