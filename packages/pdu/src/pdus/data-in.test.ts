import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('SCSI Data-In (RFC 7143 11.7)', [
  {
    title: 'final Data-In with status and underflow',
    bytes: hex`
      25 83 00 00                // 0: opcode 0x25; 1: F=1 A=0 O=0 U=1 S=1; 2: reserved; 3: Status GOOD
      00 00 00 07                // 4: no AHS; DataSegmentLength 7
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 09                // 16: ITT 9
      ff ff ff ff                // 20: TTT 0xffffffff
      00 00 00 05                // 24: StatSN 5
      00 00 00 06                // 28: ExpCmdSN 6
      00 00 00 26                // 32: MaxCmdSN 38
      00 00 00 00                // 36: DataSN 0
      00 00 00 00                // 40: Buffer Offset 0
      00 00 02 00                // 44: Residual Count 512
      11 22 33 44 55 66 77 00    // 7 data bytes, 1 byte padding
    `,
    pdu: {
      opcode: 0x25,
      final: true,
      acknowledge: false,
      overflow: false,
      underflow: true,
      statusPresent: true,
      status: 0,
      lun: 0n,
      itt: 9,
      ttt: 0xffffffff,
      statSN: 5,
      expCmdSN: 6,
      maxCmdSN: 38,
      dataSN: 0,
      bufferOffset: 0,
      residualCount: 512,
      data: hex`11 22 33 44 55 66 77`,
    },
  },
  {
    title: 'intermediate Data-In asking for a DataACK, overflow flag, CHECK CONDITION byte',
    bytes: hex`
      25 44 00 02                // 0: opcode 0x25; 1: F=0 A=1 O=1 U=0 S=0; 3: Status 0x02
      00 00 00 04                // 4: DataSegmentLength 4
      00 03 00 00 00 00 00 00    // 8: LUN 3
      00 00 00 0b 00 00 03 e8    // 16: ITT 11; 20: TTT 1000
      00 00 00 00 00 00 00 07    // 24: StatSN 0 (reserved); 28: ExpCmdSN 7
      00 00 00 27 00 00 00 01    // 32: MaxCmdSN 39; 36: DataSN 1
      00 00 10 00 00 00 00 10    // 40: Buffer Offset 4096; 44: Residual Count 16
      de ad be ef                // data, no padding
    `,
    pdu: {
      opcode: 0x25,
      final: false,
      acknowledge: true,
      overflow: true,
      underflow: false,
      statusPresent: false,
      status: 2,
      lun: 0x0003000000000000n,
      itt: 11,
      ttt: 1000,
      statSN: 0,
      expCmdSN: 7,
      maxCmdSN: 39,
      dataSN: 1,
      bufferOffset: 4096,
      residualCount: 16,
      data: hex`de ad be ef`,
    },
  },
])
