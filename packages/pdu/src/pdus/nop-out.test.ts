import { digestOf } from '../crc32c.js'
import { hex, vectorSuite } from './vector-harness.js'

const pingBhs = hex`
  40 80 00 00                // 0: .|I=1|opcode 0x00 NOP-Out; 1: F=1; 2-3: reserved
  00 00 00 05                // 4: TotalAHSLength 0; 5-7: DataSegmentLength 5
  00 00 00 00 00 00 00 00    // 8-15: LUN 0
  00 00 00 2a                // 16: ITT 42
  ff ff ff ff                // 20: TTT 0xffffffff (not answering a NOP-In)
  00 00 00 07                // 24: CmdSN 7
  00 00 00 03                // 28: ExpStatSN 3
  00 00 00 00 00 00 00 00    // 32-39: reserved
  00 00 00 00 00 00 00 00    // 40-47: reserved
`
const answerBhs = hex`
  40 80 00 00                // 0: I=1, NOP-Out; F=1
  00 00 00 00                // 4: no AHS, no data
  00 01 00 00 00 00 00 00    // 8: LUN 1 (peripheral addressing)
  ff ff ff ff                // 16: ITT 0xffffffff: an answer, no response wanted
  00 00 12 34                // 20: TTT 0x1234 copied from the NOP-In
  00 00 00 08                // 24: CmdSN 8
  00 00 00 04                // 28: ExpStatSN 4
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 // 32-47: reserved
`

vectorSuite('NOP-Out (RFC 7143 11.18)', [
  {
    title: 'ping with a 5-byte data segment and 3 bytes of padding',
    bytes: Buffer.concat([pingBhs, hex`68 65 6c 6c 6f  // "hello"
      00 00 00 // padding`]),
    pdu: {
      opcode: 0x00,
      immediate: true,
      lun: 0n,
      itt: 42,
      ttt: 0xffffffff,
      cmdSN: 7,
      expStatSN: 3,
      data: Buffer.from('hello'),
    },
  },
  {
    title: 'answer to a NOP-In, with a header digest',
    bytes: Buffer.concat([answerBhs, digestOf(answerBhs)]),
    digests: { headerDigest: true, dataDigest: true },
    pdu: {
      opcode: 0x00,
      immediate: true,
      lun: 0x0001000000000000n,
      itt: 0xffffffff,
      ttt: 0x1234,
      cmdSN: 8,
      expStatSN: 4,
      data: Buffer.alloc(0),
    },
  },
])
