import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('NOP-In (RFC 7143 11.19)', [
  {
    title: 'target ping asking for an answer (valid TTT)',
    bytes: hex`
      20 80 00 00                // 0: opcode 0x20 NOP-In; 1: F=1; 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      ff ff ff ff                // 16: ITT 0xffffffff (target-initiated)
      00 00 0a bc                // 20: TTT 0xabc
      00 00 00 10                // 24: StatSN 16
      00 00 00 11                // 28: ExpCmdSN 17
      00 00 00 30                // 32: MaxCmdSN 48
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
    `,
    pdu: {
      opcode: 0x20,
      lun: 0n,
      itt: 0xffffffff,
      ttt: 0xabc,
      statSN: 16,
      expCmdSN: 17,
      maxCmdSN: 48,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'answer to a NOP-Out echoing its 2 data bytes',
    bytes: hex`
      20 80 00 00                // 0: NOP-In, F=1
      00 00 00 02                // 4: DataSegmentLength 2
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 2a                // 16: ITT 42
      ff ff ff ff                // 20: TTT reserved
      00 00 00 10 00 00 00 11 00 00 00 30 // 24: StatSN 16, ExpCmdSN 17, MaxCmdSN 48
      00 00 00 00 00 00 00 00 00 00 00 00 // 36-47: reserved
      ab cd 00 00                // data ab cd, 2 bytes padding
    `,
    pdu: {
      opcode: 0x20,
      lun: 0n,
      itt: 42,
      ttt: 0xffffffff,
      statSN: 16,
      expCmdSN: 17,
      maxCmdSN: 48,
      data: Buffer.from([0xab, 0xcd]),
    },
  },
])
