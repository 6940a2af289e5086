import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Opcode, RESERVED_TAG, encodePdu, type DataInPdu, type NopInPdu, type ScsiResponsePdu, type TargetPdu } from '@iscsi-ts/pdu'
import { DIRECT_READ_MIN, PduReceiver } from './pdu-receiver.js'

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

/**
 * Feeds `stream` cut at `splits` the way the connection does: every piece is copied into one reused read buffer,
 * which is scribbled over after each push, so a PDU that kept a view of a chunk would show garbage.
 */
function run(stream: Buffer, splits: number[], digests: { headerDigest?: boolean; dataDigest?: boolean }, into?: Buffer): { pdus: TargetPdu[]; placed: number[]; errors: Error[] } {
  const pdus: TargetPdu[] = []
  const placed: number[] = []
  const errors: Error[] = []
  const receiver = new PduReceiver({
    maxDataSegmentLength: 65536,
    ...digests,
    place: into ? () => into : undefined,
    onPdu: (pdu, n) => {
      pdus.push(pdu)
      placed.push(n)
    },
    onError: (error) => errors.push(error),
  })
  const readBuffer = Buffer.alloc(stream.length + 16)
  const feed = (piece: Buffer): void => {
    piece.copy(readBuffer)
    receiver.push(readBuffer, piece.length)
    readBuffer.fill(0xa5)
  }
  let at = 0
  for (const cut of [...splits.filter((s) => s > 0 && s < stream.length)].sort((a, b) => a - b)) {
    feed(stream.subarray(at, cut))
    at = cut
  }
  feed(stream.subarray(at))
  return { pdus, placed, errors }
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
        const { pdus, placed, errors } = run(stream, splits, digests, into)
        expect(errors).toEqual([])
        expect(pdus.map((p) => p.opcode)).toEqual([Opcode.DataIn, Opcode.DataIn, Opcode.ScsiResponse, Opcode.NopIn])
        expect(Buffer.compare(into, payload)).toBe(0)
        // Direct placement: the payload went into the caller's buffer and is reported by length, not as a view.
        expect(placed).toEqual([333, 668, 0, 0])
        expect((pdus[0] as DataInPdu).data).toHaveLength(0)
        // Placed Data-In come in one object the receiver refills: the handler must not keep it.
        expect(pdus[0]).toBe(pdus[1])
        expect(pdus[1]).toMatchObject({ itt: 3, dataSN: 1, bufferOffset: 333, statusPresent: true, statSN: 7, expCmdSN: 10, maxCmdSN: 40 })
        expect(pdus[2]).toMatchObject({ itt: 9, status: 2, residualCount: 100, underflow: true })
        expect((pdus[2] as ScsiResponsePdu).data).toEqual(response.data)
        expect(pdus[3]).toMatchObject({ ttt: 5, statSN: 9 })
      }
    })
  }

  it('lets the socket read a large Data-In payload straight into its place, whatever the read sizes', () => {
    const big = Buffer.alloc(3 * DIRECT_READ_MIN + 5)
    for (let i = 0; i < big.length; i++) big[i] = (i * 13 + 7) & 0xff
    const first = dataIn(4, 0, 0, big.subarray(0, DIRECT_READ_MIN + 1), false)
    const second = dataIn(4, 1, DIRECT_READ_MIN + 1, big.subarray(DIRECT_READ_MIN + 1), true)
    /** The connection's loop: ask where the next read goes, "read" up to that much there, push what was read. */
    const feed = (stream: Buffer, sizes: number[], digests: { headerDigest?: boolean; dataDigest?: boolean }) => {
      const into = Buffer.alloc(big.length)
      const placed: number[] = []
      const opcodes: number[] = []
      const errors: Error[] = []
      const receiver = new PduReceiver({
        maxDataSegmentLength: 1 << 20,
        ...digests,
        place: () => into,
        onPdu: (pdu, n) => {
          opcodes.push(pdu.opcode)
          placed.push(n)
        },
        onError: (error) => errors.push(error),
      })
      const scratch = Buffer.alloc(64 * 1024)
      let at = 0
      let directBytes = 0
      for (let i = 0; at < stream.length; i++) {
        const target = receiver.directReadTarget() ?? scratch
        const n = Math.min(sizes[i % sizes.length]!, target.length, stream.length - at)
        stream.copy(target, 0, at, at + n)
        receiver.push(target, n)
        if (target === scratch) scratch.fill(0xa5)
        else directBytes += n
        at += n
      }
      return { into, placed, opcodes, errors, directBytes }
    }
    for (const digests of [{}, { headerDigest: true, dataDigest: true }]) {
      const stream = Buffer.concat([first, second, response].map((pdu) => encodePdu(pdu, digests)))
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 30 }), (sizes) => {
          const { into, placed, opcodes, errors } = feed(stream, sizes, digests)
          expect(errors).toEqual([])
          expect(opcodes).toEqual([Opcode.DataIn, Opcode.DataIn, Opcode.ScsiResponse])
          expect(placed).toEqual([DIRECT_READ_MIN + 1, big.length - DIRECT_READ_MIN - 1, 0])
          expect(into.equals(big)).toBe(true)
        }),
        { numRuns: 150 },
      )
      // With small reads, everything but the last DIRECT_READ_MIN bytes of each payload goes straight to its place.
      const { into, directBytes } = feed(stream, [1000], digests)
      expect(into.equals(big)).toBe(true)
      expect(directBytes).toBeGreaterThan(big.length - 3 * DIRECT_READ_MIN)
    }
  })

  it('asks for header-only reads while large payloads flow, so each payload goes wholly into place', () => {
    const size = 2 * DIRECT_READ_MIN
    for (const digests of [{}, { headerDigest: true, dataDigest: true }]) {
      const headerLength = digests.headerDigest === true ? 52 : 48
      // Three large reads (one Data-In each, status collapsed), then a small one, then a SCSI Response.
      const payloads = [0, 1, 2].map((n) => Buffer.alloc(size, 0x10 + n))
      const small = Buffer.alloc(4096, 0x77)
      const pdus = [...payloads.map((data, n) => dataIn(n + 1, 0, 0, data, true)), dataIn(4, 0, 0, small, true), response]
      const encoded = pdus.map((pdu) => encodePdu(pdu, digests))
      const stream = Buffer.concat(encoded)
      // Where each PDU ends: the target sends them one at a time and we read faster, so no read crosses one.
      const ends = encoded.map((_, n) => encoded.slice(0, n + 1).reduce((sum, pdu) => sum + pdu.length, 0))
      const buffers = new Map<number, Buffer>([1, 2, 3, 4].map((itt) => [itt, Buffer.alloc(itt === 4 ? small.length : size)]))
      const opcodes: number[] = []
      const errors: Error[] = []
      const receiver = new PduReceiver({
        maxDataSegmentLength: 1 << 20,
        ...digests,
        place: (itt) => buffers.get(itt),
        onPdu: (pdu) => opcodes.push(pdu.opcode),
        onError: (error) => errors.push(error),
      })
      // The connection's loop: a direct target, else a header-sized read, else the whole read buffer.
      const scratch = Buffer.alloc(64 * 1024)
      const reads: Array<'direct' | 'header' | 'buffer'> = []
      const headerReads: number[] = []
      let at = 0
      expect(receiver.headerReadLength).toBe(0)
      while (at < stream.length) {
        const direct = receiver.directReadTarget()
        const length = receiver.headerReadLength
        const target = direct ?? (length > 0 ? scratch.subarray(0, length) : scratch)
        reads.push(direct !== undefined ? 'direct' : length > 0 ? 'header' : 'buffer')
        if (direct === undefined && length > 0) headerReads.push(length)
        const n = Math.min(target.length, ends.find((end) => end > at)! - at)
        stream.copy(target, 0, at, at + n)
        receiver.push(target, n)
        at += n
      }
      expect(errors).toEqual([])
      expect(opcodes).toEqual([Opcode.DataIn, Opcode.DataIn, Opcode.DataIn, Opcode.DataIn, Opcode.ScsiResponse])
      for (const [itt, data] of [...payloads.entries()].map(([n, data]) => [n + 1, data] as const)) expect(buffers.get(itt)!.equals(data)).toBe(true)
      expect(buffers.get(4)!.equals(small)).toBe(true)
      // The first payload starts in the read buffer; after it, the header alone, then the whole payload in place
      // (with a data digest, the digest through the read buffer). The small payload after a header-only read comes
      // through the read buffer, and so does everything after it: small payloads stop the header-only reads.
      expect(reads.slice(0, 2)).toEqual(['buffer', 'buffer'])
      const perLarge = digests.dataDigest === true ? ['header', 'direct', 'buffer'] : ['header', 'direct']
      expect(reads.slice(2)).toEqual([...perLarge, ...perLarge, 'header', 'buffer', 'buffer'])
      expect(headerReads).toEqual([headerLength, headerLength, headerLength])
    }
  })

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
