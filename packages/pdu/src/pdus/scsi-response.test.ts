import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('SCSI Response (RFC 7143 11.4)', [
  {
    title: 'CHECK CONDITION with sense data and an underflow',
    bytes: hex`
      21 82 00 02                // 0: opcode 0x21; 1: F=1 U=1; 2: Response 0 (completed); 3: Status 0x02 CHECK CONDITION
      00 00 00 14                // 4: no AHS; DataSegmentLength 20
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 07                // 16: ITT 7
      00 00 00 00                // 20: SNACK Tag 0
      00 00 00 05                // 24: StatSN 5
      00 00 00 06                // 28: ExpCmdSN 6
      00 00 00 25                // 32: MaxCmdSN 37
      00 00 00 00                // 36: ExpDataSN 0
      00 00 00 00                // 40: Bidirectional Read Residual Count 0
      00 00 02 00                // 44: Residual Count 512
      00 12                      // data: SenseLength 18
      70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00 // fixed sense: ILLEGAL REQUEST, ASC 0x24
    `,
    pdu: {
      opcode: 0x21,
      bidiOverflow: false,
      bidiUnderflow: false,
      overflow: false,
      underflow: true,
      response: 0,
      status: 2,
      itt: 7,
      snackTag: 0,
      statSN: 5,
      expCmdSN: 6,
      maxCmdSN: 37,
      expDataSN: 0,
      bidiReadResidualCount: 0,
      residualCount: 512,
      data: hex`00 12 70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00`,
    },
  },
  {
    title: 'target failure with bidi overflow/underflow and overflow flags',
    bytes: hex`
      21 9c 01 00                // 0: opcode 0x21; 1: F=1 o=1 u=1 O=1; 2: Response 1 (target failure); 3: Status 0
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8-15: reserved
      00 00 00 08 00 00 00 09    // 16: ITT 8; 20: SNACK Tag 9
      00 00 00 05 00 00 00 06 00 00 00 25 // 24: StatSN 5, ExpCmdSN 6, MaxCmdSN 37
      00 00 00 03                // 36: ExpDataSN 3
      00 00 01 00                // 40: Bidirectional Read Residual Count 256
      00 00 00 80                // 44: Residual Count 128
    `,
    pdu: {
      opcode: 0x21,
      bidiOverflow: true,
      bidiUnderflow: true,
      overflow: true,
      underflow: false,
      response: 1,
      status: 0,
      itt: 8,
      snackTag: 9,
      statSN: 5,
      expCmdSN: 6,
      maxCmdSN: 37,
      expDataSN: 3,
      bidiReadResidualCount: 256,
      residualCount: 128,
      data: Buffer.alloc(0),
    },
  },
])
