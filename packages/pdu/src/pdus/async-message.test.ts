import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Asynchronous Message (RFC 7143 11.9)', [
  {
    title: 'target requests logout within 5 seconds',
    bytes: hex`
      32 80 00 00                // 0: opcode 0x32; 1: F=1; 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      ff ff ff ff                // 16: 0xffffffff
      00 00 00 00                // 20: reserved
      00 00 00 09                // 24: StatSN 9
      00 00 00 0a                // 28: ExpCmdSN 10
      00 00 00 29                // 32: MaxCmdSN 41
      01 00                      // 36: AsyncEvent 1 (logout request); 37: AsyncVCode 0
      00 00 00 00                // 38: Parameter1 0; 40: Parameter2 0
      00 05                      // 42: Parameter3 5 (seconds to log out)
      00 00 00 00                // 44: reserved
    `,
    pdu: {
      opcode: 0x32,
      lun: 0n,
      statSN: 9,
      expCmdSN: 10,
      maxCmdSN: 41,
      asyncEvent: 1,
      asyncVCode: 0,
      parameter1: 0,
      parameter2: 0,
      parameter3: 5,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'SCSI async event with sense data, vendor code and every parameter set',
    bytes: hex`
      32 80 00 00                // 0: opcode 0x32; F=1
      00 00 00 0a                // 4: DataSegmentLength 10
      00 02 00 00 00 00 00 00    // 8: LUN 2
      ff ff ff ff 00 00 00 00    // 16: 0xffffffff; 20: reserved
      00 00 00 0b 00 00 00 0c 00 00 00 2b // 24: StatSN 11; ExpCmdSN 12; MaxCmdSN 43
      00 7e                      // 36: AsyncEvent 0 (SCSI event); 37: AsyncVCode 0x7e
      00 01 00 02 00 03          // 38: Parameter1 1; 40: Parameter2 2; 42: Parameter3 3
      00 00 00 00                // 44: reserved
      00 08 72 06 2a 09 00 00 00 00 // SenseLength 8, descriptor sense: UNIT ATTENTION, 2a/09 capacity changed
      00 00                      // padding
    `,
    pdu: {
      opcode: 0x32,
      lun: 0x0002000000000000n,
      statSN: 11,
      expCmdSN: 12,
      maxCmdSN: 43,
      asyncEvent: 0,
      asyncVCode: 0x7e,
      parameter1: 1,
      parameter2: 2,
      parameter3: 3,
      data: hex`00 08 72 06 2a 09 00 00 00 00`,
    },
  },
])
