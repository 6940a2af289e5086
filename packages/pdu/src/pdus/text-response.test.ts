import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Text Response (RFC 7143 11.11)', [
  {
    title: 'continued response with a TTT',
    bytes: hex`
      24 40 00 00                // 0: opcode 0x24; 1: F=0 C=1; 2-3: reserved
      00 00 00 0e                // 4: no AHS; DataSegmentLength 14
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 05                // 16: ITT 5
      00 00 00 77                // 20: TTT 0x77 (more to come)
      00 00 00 02                // 24: StatSN 2
      00 00 00 04                // 28: ExpCmdSN 4
      00 00 00 23                // 32: MaxCmdSN 35
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
      54 61 72 67 65 74 4e 61 6d 65 3d 69 71 00 // "TargetName=iq\0"
      00 00                      // padding
    `,
    pdu: {
      opcode: 0x24,
      final: false,
      continue: true,
      lun: 0n,
      itt: 5,
      ttt: 0x77,
      statSN: 2,
      expCmdSN: 4,
      maxCmdSN: 35,
      data: Buffer.from('TargetName=iq\0'),
    },
  },
  {
    title: 'final, empty',
    bytes: hex`
      24 80 00 00                // 0: opcode 0x24; 1: F=1 C=0
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 05 ff ff ff ff    // 16: ITT 5; 20: TTT 0xffffffff
      00 00 00 03 00 00 00 05 00 00 00 24 // 24: StatSN 3; ExpCmdSN 5; MaxCmdSN 36
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
    `,
    pdu: {
      opcode: 0x24,
      final: true,
      continue: false,
      lun: 0n,
      itt: 5,
      ttt: 0xffffffff,
      statSN: 3,
      expCmdSN: 5,
      maxCmdSN: 36,
      data: Buffer.alloc(0),
    },
  },
])
