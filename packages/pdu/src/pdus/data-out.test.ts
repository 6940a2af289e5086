import { digestOf } from '../crc32c.js'
import { hex, vectorSuite } from './vector-harness.js'

const bhs = hex`
  05 80 00 00                // 0: opcode 0x05 (no I bit); 1: F=1; 2-3: reserved
  00 00 00 06                // 4: no AHS; DataSegmentLength 6
  00 01 00 00 00 00 00 00    // 8: LUN 1
  00 00 00 09                // 16: ITT 9
  00 00 10 00                // 20: TTT 0x1000 (from the R2T)
  00 00 00 00                // 24: reserved
  00 00 00 04                // 28: ExpStatSN 4
  00 00 00 00                // 32: reserved
  00 00 00 02                // 36: DataSN 2
  00 00 20 00                // 40: Buffer Offset 8192
  00 00 00 00                // 44: reserved
`
const padded = hex`01 02 03 04 05 06 00 00 // 6 data bytes, 2 bytes padding`

vectorSuite('SCSI Data-Out (RFC 7143 11.7)', [
  {
    title: 'final Data-Out, both digests (data digest covers the padding)',
    bytes: Buffer.concat([bhs, digestOf(bhs), padded, digestOf(padded)]),
    digests: { headerDigest: true, dataDigest: true },
    pdu: {
      opcode: 0x05,
      final: true,
      lun: 0x0001000000000000n,
      itt: 9,
      ttt: 0x1000,
      expStatSN: 4,
      dataSN: 2,
      bufferOffset: 8192,
      data: hex`01 02 03 04 05 06`,
    },
  },
  {
    title: 'unsolicited, not final',
    bytes: hex`
      05 00 00 00                // 0: opcode 0x05; 1: F=0
      00 00 00 04                // 4: DataSegmentLength 4
      00 00 00 00 00 00 00 00    // 8: LUN 0
      00 00 00 0a ff ff ff ff    // 16: ITT 10; 20: TTT 0xffffffff (unsolicited)
      00 00 00 00 00 00 00 05    // 24: reserved; 28: ExpStatSN 5
      00 00 00 00 00 00 00 00    // 32: reserved; 36: DataSN 0
      00 00 00 00 00 00 00 00    // 40: Buffer Offset 0; 44: reserved
      aa bb cc dd                // data, no padding
    `,
    pdu: {
      opcode: 0x05,
      final: false,
      lun: 0n,
      itt: 10,
      ttt: 0xffffffff,
      expStatSN: 5,
      dataSN: 0,
      bufferOffset: 0,
      data: hex`aa bb cc dd`,
    },
  },
])
