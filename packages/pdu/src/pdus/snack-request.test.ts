import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('SNACK Request (RFC 7143 11.16)', [
  {
    title: 'Status SNACK',
    bytes: hex`
      10 81 00 00                // 0: opcode 0x10; 1: 1|.|.|.|Type 1 (Status); 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 00 00 00 00 00 00 00    // 8: LUN 0
      ff ff ff ff                // 16: ITT 0xffffffff
      ff ff ff ff                // 20: TTT/SNACK Tag 0xffffffff
      00 00 00 00                // 24: reserved
      00 00 00 07                // 28: ExpStatSN 7
      00 00 00 00 00 00 00 00    // 32-39: reserved
      00 00 00 03                // 40: BegRun 3
      00 00 00 02                // 44: RunLength 2
    `,
    pdu: {
      opcode: 0x10,
      type: 1,
      lun: 0n,
      itt: 0xffffffff,
      ttt: 0xffffffff,
      expStatSN: 7,
      begRun: 3,
      runLength: 2,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'DataACK SNACK carrying the TTT',
    bytes: hex`
      10 82 00 00                // 0: opcode 0x10; 1: 1|Type 2 (DataACK)
      00 00 00 00                // 4: no AHS, no data
      00 04 00 00 00 00 00 00    // 8: LUN 4
      00 00 00 0b 00 00 03 e8    // 16: ITT 11; 20: TTT 1000
      00 00 00 00 00 00 00 08    // 24: reserved; 28: ExpStatSN 8
      00 00 00 00 00 00 00 00    // 32-39: reserved
      00 00 00 02 00 00 00 00    // 40: BegRun 2; 44: RunLength 0
    `,
    pdu: {
      opcode: 0x10,
      type: 2,
      lun: 0x0004000000000000n,
      itt: 11,
      ttt: 1000,
      expStatSN: 8,
      begRun: 2,
      runLength: 0,
      data: Buffer.alloc(0),
    },
  },
])
