import { describe, expect, it } from 'vitest'
import { buildDataIn, buildNopIn, buildR2T, buildReject, buildScsiResponse, pduBytes } from '@iscsi-ts/pdu/testing'
import { OutputChecker } from './output-checker.js'

describe('OutputChecker', () => {
  it('accepts a coherent stream: StatSN +1 per status, Data-In in order, R2T numbering, pings without StatSN', () => {
    const checker = new OutputChecker({ expectedStatSN: 10, maxSegment: 8192 })
    checker.push(
      pduBytes([
        buildR2T({ itt: 7, r2tSN: 0, statSN: 10 }),
        buildR2T({ itt: 7, r2tSN: 1, statSN: 10 }),
        buildScsiResponse({ itt: 7, statSN: 10, expCmdSN: 5, maxCmdSN: 36 }),
        buildDataIn({ itt: 8, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(4096), final: false }),
        buildDataIn({ itt: 8, dataSN: 1, bufferOffset: 4096, data: Buffer.alloc(4096), statusPresent: true, statSN: 11 }),
        buildNopIn({ itt: 0xffffffff, ttt: 5, statSN: 12 }),
        buildNopIn({ itt: 3, statSN: 12 }),
        buildReject({ statSN: 13 }),
      ]),
    )
    expect(checker.problems).toEqual([])
    expect(checker.received).toBe(8)
    expect(checker.expStatSN).toBe(14)
  })

  it('reports a StatSN gap, a shrunk window, an oversized segment and Data-In out of order', () => {
    const checker = new OutputChecker({ expectedStatSN: 1, maxSegment: 512 })
    checker.push(
      pduBytes([
        buildScsiResponse({ itt: 1, statSN: 3 }),
        buildScsiResponse({ itt: 2, statSN: 4, expCmdSN: 100, maxCmdSN: 50 }),
        buildDataIn({ itt: 9, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(1024), final: false }),
        buildDataIn({ itt: 9, dataSN: 2, bufferOffset: 2048, data: Buffer.alloc(256), final: false }),
      ]),
    )
    expect(checker.problems.map((p) => p.kind).sort()).toEqual(['segment', 'sequence', 'sequence', 'statsn', 'window'])
  })

  it('reports bytes that do not frame as PDUs', () => {
    const checker = new OutputChecker()
    const bytes = Buffer.alloc(48)
    bytes[0] = 0x1f // not an opcode a target sends
    checker.push(bytes)
    expect(checker.problems.map((p) => p.kind)).toEqual(['bad-output'])
  })
})
