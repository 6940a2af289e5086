import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Text Request (RFC 7143 11.10)', [
  {
    title: 'SendTargets=All, final',
    bytes: hex`
      04 80 00 00                // 0: I=0, opcode 0x04; 1: F=1 C=0; 2-3: reserved
      00 00 00 10                // 4: no AHS; DataSegmentLength 16
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 05                // 16: ITT 5
      ff ff ff ff                // 20: TTT 0xffffffff (new request)
      00 00 00 03                // 24: CmdSN 3
      00 00 00 02                // 28: ExpStatSN 2
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
      53 65 6e 64 54 61 72 67 65 74 73 3d 41 6c 6c 00 // "SendTargets=All\0", no padding
    `,
    pdu: {
      opcode: 0x04,
      immediate: false,
      final: true,
      continue: false,
      lun: 0n,
      itt: 5,
      ttt: 0xffffffff,
      cmdSN: 3,
      expStatSN: 2,
      data: Buffer.from('SendTargets=All\0'),
    },
  },
  {
    title: 'immediate, continued, answering a TTT',
    bytes: hex`
      44 40 00 00                // 0: I=1, opcode 0x04; 1: F=0 C=1
      00 00 00 01                // 4: DataSegmentLength 1
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 06 00 00 00 77    // 16: ITT 6; 20: TTT 0x77
      00 00 00 04 00 00 00 03    // 24: CmdSN 4; 28: ExpStatSN 3
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
      00 00 00 00                // data: one NUL, 3 bytes padding
    `,
    pdu: {
      opcode: 0x04,
      immediate: true,
      final: false,
      continue: true,
      lun: 0n,
      itt: 6,
      ttt: 0x77,
      cmdSN: 4,
      expStatSN: 3,
      data: Buffer.from([0]),
    },
  },
])
