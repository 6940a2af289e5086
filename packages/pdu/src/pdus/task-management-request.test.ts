import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Task Management Function Request (RFC 7143 11.5)', [
  {
    title: 'ABORT TASK, immediate',
    bytes: hex`
      42 81 00 00                // 0: I=1, opcode 0x02; 1: 1|Function 1 (ABORT TASK); 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 02 00 00 00 00 00 00    // 8: LUN 2
      00 00 00 10                // 16: ITT 16
      00 00 00 0c                // 20: Referenced Task Tag 12
      00 00 00 20                // 24: CmdSN 32
      00 00 00 11                // 28: ExpStatSN 17
      00 00 00 1f                // 32: RefCmdSN 31
      00 00 00 00                // 36: ExpDataSN 0
      00 00 00 00 00 00 00 00    // 40-47: reserved
    `,
    pdu: {
      opcode: 0x02,
      immediate: true,
      function: 1,
      lun: 0x0002000000000000n,
      itt: 16,
      referencedTaskTag: 12,
      cmdSN: 32,
      expStatSN: 17,
      refCmdSN: 31,
      expDataSN: 0,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'TASK REASSIGN with ExpDataSN, non-immediate',
    bytes: hex`
      02 88 00 00                // 0: I=0, opcode 0x02; 1: 1|Function 8 (TASK REASSIGN)
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 11 00 00 00 0d    // 16: ITT 17; 20: Referenced Task Tag 13
      00 00 00 21 00 00 00 12    // 24: CmdSN 33; 28: ExpStatSN 18
      00 00 00 00                // 32: RefCmdSN reserved
      00 00 00 04                // 36: ExpDataSN 4
      00 00 00 00 00 00 00 00    // 40-47: reserved
    `,
    pdu: {
      opcode: 0x02,
      immediate: false,
      function: 8,
      lun: 0n,
      itt: 17,
      referencedTaskTag: 13,
      cmdSN: 33,
      expStatSN: 18,
      refCmdSN: 0,
      expDataSN: 4,
      data: Buffer.alloc(0),
    },
  },
])
