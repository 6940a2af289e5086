import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('R2T (RFC 7143 11.8)', [
  {
    title: 'second R2T of a write',
    bytes: hex`
      31 80 00 00                // 0: opcode 0x31; 1: F=1; 2-3: reserved
      00 00 00 00                // 4: no AHS, no data
      00 01 00 00 00 00 00 00    // 8: LUN 1
      00 00 00 09                // 16: ITT 9
      00 00 00 55                // 20: TTT 0x55
      00 00 00 04                // 24: StatSN 4
      00 00 00 05                // 28: ExpCmdSN 5
      00 00 00 24                // 32: MaxCmdSN 36
      00 00 00 01                // 36: R2TSN 1
      00 01 00 00                // 40: Buffer Offset 65536
      00 01 00 00                // 44: Desired Data Transfer Length 65536
    `,
    pdu: {
      opcode: 0x31,
      lun: 0x0001000000000000n,
      itt: 9,
      ttt: 0x55,
      statSN: 4,
      expCmdSN: 5,
      maxCmdSN: 36,
      r2tSN: 1,
      bufferOffset: 65536,
      desiredDataTransferLength: 65536,
      data: Buffer.alloc(0),
    },
  },
  {
    title: 'flat-space LUN 300, extreme sequence numbers',
    bytes: hex`
      31 80 00 00                // 0: opcode 0x31; F=1
      00 00 00 00                // 4: no AHS, no data
      41 2c 00 00 00 00 00 00    // 8: LUN 300 in flat space addressing (01b | 0x12c)
      ff ff ff fe 80 00 00 00    // 16: ITT 0xfffffffe; 20: TTT 0x80000000
      ff ff ff ff 00 00 00 00    // 24: StatSN 0xffffffff; 28: ExpCmdSN 0
      7f ff ff ff 00 00 00 00    // 32: MaxCmdSN 0x7fffffff; 36: R2TSN 0
      00 00 00 00 00 04 00 00    // 40: Buffer Offset 0; 44: Desired Data Transfer Length 262144
    `,
    pdu: {
      opcode: 0x31,
      lun: 0x412c000000000000n,
      itt: 0xfffffffe,
      ttt: 0x80000000,
      statSN: 0xffffffff,
      expCmdSN: 0,
      maxCmdSN: 0x7fffffff,
      r2tSN: 0,
      bufferOffset: 0,
      desiredDataTransferLength: 262144,
      data: Buffer.alloc(0),
    },
  },
])
