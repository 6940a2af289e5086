import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Opcode, RESERVED_TAG, encodePdu, type DataInPdu, type NopInPdu, type ScsiResponsePdu, type TargetPdu } from '@iscsi-ts/pdu'
import { PduReceiver } from './pdu-receiver.js'

function dataIn(itt: number, dataSN: number, bufferOffset: number, data: Buffer, last: boolean): DataInPdu {
  return {
    opcode: Opcode.DataIn,
    final: last,
    acknowledge: false,
    overflow: false,
    underflow: false,
    statusPresent: last,
    status: 0,
    lun: 1n << 48n,
    itt,
    ttt: RESERVED_TAG,
    statSN: last ? 7 : 0,
    expCmdSN: 10,
    maxCmdSN: 40,
    dataSN,
    bufferOffset,
    residualCount: 0,
    data,
  }
}

const response: ScsiResponsePdu = {
  opcode: Opcode.ScsiResponse,
  bidiOverflow: false,
  bidiUnderflow: false,
  overflow: false,
  underflow: true,
  response: 0,
  status: 2,
  itt: 9,
  snackTag: 0,
  statSN: 8,
  expCmdSN: 11,
  maxCmdSN: 41,
  expDataSN: 0,
  bidiReadResidualCount: 0,
  residualCount: 100,
  data: Buffer.from([0, 3, 0x70, 0, 5]),
}

const nop: NopInPdu = { opcode: Opcode.NopIn, lun: 0n, itt: RESERVED_TAG, ttt: 5, statSN: 9, expCmdSN: 11, maxCmdSN: 41, data: Buffer.alloc(0) }

function run(stream: Buffer, splits: number[], digests: { headerDigest?: boolean; dataDigest?: boolean }, into?: Buffer): { pdus: TargetPdu[]; errors: Error[] } {
  const pdus: TargetPdu[] = []
  const errors: Error[] = []
  const receiver = new PduReceiver({
    maxDataSegmentLength: 65536,
    ...digests,
    place: into ? (header, length) => into.subarray(header.readUInt32BE(40), header.readUInt32BE(40) + length) : undefined,
    onPdu: (pdu) => pdus.push(pdu),
    onError: (error) => errors.push(error),
  })
  let at = 0
  for (const cut of [...splits.filter((s) => s > 0 && s < stream.length)].sort((a, b) => a - b)) {
    receiver.push(stream.subarray(at, cut))
    at = cut
  }
  receiver.push(stream.subarray(at))
  return { pdus, errors }
}

describe('PduReceiver', () => {
  const payload = Buffer.alloc(1001)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
  const pieces = [dataIn(3, 0, 0, payload.subarray(0, 333), false), dataIn(3, 1, 333, payload.subarray(333), true)]

  for (const digests of [{}, { headerDigest: true }, { headerDigest: true, dataDigest: true }, { dataDigest: true }]) {
    const stream = Buffer.concat([...pieces, response, nop].map((pdu) => encodePdu(pdu, digests)))
    it(`frames every split of a stream (digests ${JSON.stringify(digests)}) and places Data-In into the caller's buffer`, () => {
      // One cut at every position, then two cuts at a sample of positions.
      const splitSets: number[][] = []
      for (let i = 1; i < stream.length; i++) splitSets.push([i])
      for (let i = 1; i < stream.length; i += 37) for (let j = i + 1; j < stream.length; j += 53) splitSets.push([i, j])
      for (const splits of splitSets) {
        const into = Buffer.alloc(payload.length)
        const { pdus, errors } = run(stream, splits, digests, into)
        expect(errors).toEqual([])
        expect(pdus.map((p) => p.opcode)).toEqual([Opcode.DataIn, Opcode.DataIn, Opcode.ScsiResponse, Opcode.NopIn])
        expect(Buffer.compare(into, payload)).toBe(0)
        const first = pdus[0] as DataInPdu
        // The data handed on is the very view of the caller's buffer (direct placement, no copy after it).
        expect(first.data.buffer).toBe(into.buffer)
        expect(pdus[2]).toMatchObject({ itt: 9, status: 2, residualCount: 100, underflow: true })
        expect((pdus[2] as ScsiResponsePdu).data).toEqual(response.data)
        expect(pdus[3]).toMatchObject({ ttt: 5, statSN: 9 })
      }
    })
  }

  it('collects data into its own buffer when there is no placement target', () => {
    const stream = Buffer.concat(pieces.map((pdu) => encodePdu(pdu)))
    const { pdus } = run(stream, [100, 700], {})
    expect(Buffer.concat(pdus.map((p) => p.data))).toEqual(payload)
  })

  it('refuses a header digest error and stops', () => {
    const stream = encodePdu(nop, { headerDigest: true })
    stream.writeUInt8(stream.readUInt8(stream.length - 1) ^ 0xff, stream.length - 1)
    const { pdus, errors } = run(Buffer.concat([stream, encodePdu(nop, { headerDigest: true })]), [], { headerDigest: true })
    expect(pdus).toEqual([])
    expect(errors).toHaveLength(1)
    expect((errors[0] as { code?: string }).code).toBe('ISCSI_ERR_PDU_HEADER_DIGEST')
  })

  it('refuses a data digest error', () => {
    const stream = encodePdu(pieces[1]!, { dataDigest: true })
    stream.writeUInt8(stream.readUInt8(60) ^ 0x01, 60)
    const { errors } = run(stream, [], { dataDigest: true })
    expect((errors[0] as { code?: string }).code).toBe('ISCSI_ERR_PDU_DATA_DIGEST')
  })

  it('checks DataSegmentLength against MaxRecvDataSegmentLength before buffering', () => {
    const big = encodePdu(dataIn(1, 0, 0, Buffer.alloc(70000), true))
    // Only the header is pushed: the error comes before any data is buffered.
    const { errors } = run(big.subarray(0, 48), [], {})
    expect((errors[0] as { code?: string }).code).toBe('ISCSI_ERR_PDU_SEGMENT_TOO_LONG')
  })

  it('only ever reports typed errors for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), (bytes, digest) => {
        const errors: Error[] = []
        const receiver = new PduReceiver({ maxDataSegmentLength: 1024, headerDigest: digest, onPdu: () => undefined, onError: (e) => errors.push(e) })
        expect(() => receiver.push(Buffer.from(bytes))).not.toThrow()
        for (const error of errors) expect((error as { code?: string }).code).toMatch(/^ISCSI_ERR_/)
      }),
      { numRuns: 500 },
    )
  })
})
