import { Opcode, RESERVED_TAG, serializePdu } from '@iscsi-ts/pdu'
import type { DataInPdu, R2TPdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import type { CommandEvent } from './channels.js'
import { record, session, target } from './test-harness.js'
import { read10, write10 } from './testing.js'
import type { RawConnection } from './testing.js'

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff
  return b
}

function senseOf(sense: Buffer | undefined): [number, number, number] {
  expect(sense).toBeDefined()
  const s = sense!
  if ((s[0]! & 0x7f) >= 0x72) return [s[1]! & 0x0f, s[2]!, s[3]!]
  return [s[2]! & 0x0f, s[12]!, s[13]!]
}

async function writeBlocks(c: RawConnection, lba: number, data: Buffer): Promise<void> {
  const result = await c.command({ cdb: write10(lba, data.length / 512), dataOut: data })
  expect(result.status).toBe(0)
}

describe('Data-In (RFC 7143 11.7)', () => {
  it('splits by MaxRecvDataSegmentLength and MaxBurstLength, sets F per burst and collapses status into the last PDU', async () => {
    const t = await target()
    const commands = record<CommandEvent>('iscsi:target:command')
    const c = await session(t, { operational: { maxRecvDataSegmentLength: 4096, maxBurstLength: 8192, firstBurstLength: 8192 } })
    const data = pattern(65536)
    await writeBlocks(c, 0, data)
    const result = await c.command({ cdb: read10(0, 128), read: true, expectedDataTransferLength: 65536 })
    expect(result.status).toBe(0)
    expect(result.response).toBeUndefined()
    expect(result.data.equals(data)).toBe(true)
    expect(result.dataIn).toHaveLength(16)
    result.dataIn.forEach((pdu: DataInPdu, i) => {
      expect(pdu.dataSN).toBe(i)
      expect(pdu.bufferOffset).toBe(i * 4096)
      expect(pdu.data.length).toBe(4096)
      expect(pdu.final).toBe(i % 2 === 1)
      expect(pdu.statusPresent).toBe(i === 15)
      expect(pdu.ttt).toBe(RESERVED_TAG)
    })
    expect(result.underflow || result.overflow).toBe(false)
    const read = commands.find((e) => e.opcode === 0x28)
    expect(read).toMatchObject({ targetName: t.targetName, lun: 0, bytesIn: 65536, status: 0 })
  })

  it('keeps every large read its own data while the initiator is slow to take it (pooled buffers go back once sent)', async () => {
    const t = await target()
    const c = await session(t)
    const size = 128 * 1024
    const patterns = Array.from({ length: 8 }, (_, i) => pattern(size, i + 2))
    for (const [i, data] of patterns.entries()) await writeBlocks(c, i * 256, data)
    // Two waves of 48 reads of 128 KiB (6 MiB each) while the initiator reads nothing: the target's socket backs up, so its read
    // buffers stay referenced by queued writes while later reads run; a buffer reused before it was written would
    // send another read's data.
    c.socket.pause()
    const sendReads = (count: number, from: number) =>
      Array.from({ length: count }, (_, n) => {
        const i = ((from + n) * 5) % patterns.length
        return { i, pdu: c.sendCommand({ cdb: read10(i * 256, 256), read: true, expectedDataTransferLength: size }) }
      })
    const sent = sendReads(48, 0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // A second wave the target reads only as the first drains, while part of the first is still queued.
    sent.push(...sendReads(48, 48))
    await new Promise((resolve) => setTimeout(resolve, 100))
    c.socket.resume()
    const results = await Promise.all(sent.map(({ i, pdu }) => c.collect(pdu.itt, { timeoutMs: 20_000 }).then((result) => ({ i, result }))))
    for (const { i, result } of results) {
      expect(result.status).toBe(0)
      expect(result.data.equals(patterns[i]!)).toBe(true)
    }
  })

  it('reports residual underflow and overflow (RFC 7143 11.4.5)', async () => {
    const t = await target()
    const c = await session(t)
    await writeBlocks(c, 10, pattern(1024))
    const under = await c.command({ cdb: read10(10, 1), read: true, expectedDataTransferLength: 10000 })
    expect(under.status).toBe(0)
    expect(under.data.length).toBe(512)
    expect([under.underflow, under.overflow, under.residualCount]).toEqual([true, false, 10000 - 512])
    const over = await c.command({ cdb: read10(10, 1), read: true, expectedDataTransferLength: 200 })
    expect(over.data.length).toBe(200)
    expect([over.underflow, over.overflow, over.residualCount]).toEqual([false, true, 312])
    const none = await c.command({ cdb: read10(10, 1), read: true, expectedDataTransferLength: 0 })
    expect(none.status).toBe(0)
    expect(none.dataIn).toHaveLength(0)
    expect([none.overflow, none.residualCount]).toEqual([true, 512])
  })

  it('sends CHECK CONDITION with sense in a SCSI Response, never in Data-In', async () => {
    const t = await target({ luns: [1024 * 1024] })
    const c = await session(t)
    const result = await c.command({ cdb: read10(1_000_000, 1), read: true, expectedDataTransferLength: 512 })
    expect(result.status).toBe(2)
    expect(result.dataIn).toHaveLength(0)
    expect(result.response).toBeDefined()
    expect(senseOf(result.sense)).toEqual([0x05, 0x21, 0x00])
  })
})

describe('Data-Out (RFC 7143 4.2.4, 11.7, 11.8)', () => {
  it('takes a write as immediate data', async () => {
    const t = await target()
    const c = await session(t)
    const data = pattern(4096, 3)
    const pdu = c.sendCommand({ write: true, cdb: write10(100, 8), data, expectedDataTransferLength: 4096 })
    const result = await c.collect(pdu.itt)
    expect(result.status).toBe(0)
    expect(result.pdus.some((p) => p.opcode === Opcode.R2T)).toBe(false)
    const back = await c.command({ cdb: read10(100, 8), read: true, expectedDataTransferLength: 4096 })
    expect(back.data.equals(data)).toBe(true)
  })

  it('takes unsolicited Data-Out up to FirstBurstLength, then solicits the rest with up to MaxOutstandingR2T R2Ts', async () => {
    const t = await target()
    const c = await session(t, {
      operational: { immediateData: true, initialR2T: false, firstBurstLength: 8192, maxBurstLength: 16384, maxOutstandingR2T: 2, maxRecvDataSegmentLength: 8192 },
    })
    expect(c.parameters?.session).toMatchObject({ initialR2T: false, firstBurstLength: 8192, maxOutstandingR2T: 2, maxBurstLength: 16384 })
    const data = pattern(65536, 5)
    const pdu = c.sendCommand({ write: true, cdb: write10(200, 128), data: data.subarray(0, 2048), final: false, expectedDataTransferLength: 65536 })
    // Two R2Ts arrive before any of them is answered: MaxOutstandingR2T=2.
    const first = await c.receiveOf(Opcode.R2T)
    const second = await c.receiveOf(Opcode.R2T)
    expect([first.r2tSN, first.bufferOffset, first.desiredDataTransferLength]).toEqual([0, 8192, 16384])
    expect([second.r2tSN, second.bufferOffset, second.desiredDataTransferLength]).toEqual([1, 24576, 16384])
    await c.expectSilence(100)
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 2048, data: data.subarray(2048, 8192), final: true })
    const answer = (r2t: R2TPdu): void => {
      let dataSN = 0
      for (let offset = r2t.bufferOffset; offset < r2t.bufferOffset + r2t.desiredDataTransferLength; offset += 8192) {
        const end = Math.min(offset + 8192, r2t.bufferOffset + r2t.desiredDataTransferLength)
        c.sendDataOut({ itt: pdu.itt, ttt: r2t.ttt, dataSN: dataSN++, bufferOffset: offset, data: data.subarray(offset, end), final: end === r2t.bufferOffset + r2t.desiredDataTransferLength })
      }
    }
    answer(first)
    const third = await c.receiveOf(Opcode.R2T)
    expect([third.r2tSN, third.bufferOffset, third.desiredDataTransferLength]).toEqual([2, 40960, 16384])
    answer(second)
    const fourth = await c.receiveOf(Opcode.R2T)
    expect([fourth.r2tSN, fourth.bufferOffset, fourth.desiredDataTransferLength]).toEqual([3, 57344, 8192])
    answer(third)
    answer(fourth)
    const result = await c.collect(pdu.itt)
    expect(result.status).toBe(0)
    expect(result.response?.expDataSN).toBe(4)
    const back = await c.command({ cdb: read10(200, 128), read: true, expectedDataTransferLength: 65536 })
    expect(back.data.equals(data)).toBe(true)
  })

  it('solicits everything with InitialR2T=Yes and ImmediateData=No', async () => {
    const t = await target()
    const c = await session(t, { operational: { immediateData: false, initialR2T: true } })
    expect(c.parameters?.session).toMatchObject({ initialR2T: true, immediateData: false })
    const data = pattern(12288, 9)
    const result = await c.command({ cdb: write10(300, 24), dataOut: data })
    expect(result.status).toBe(0)
    const r2ts = result.pdus.filter((p): p is R2TPdu => p.opcode === Opcode.R2T)
    expect(r2ts[0]?.bufferOffset).toBe(0)
    const back = await c.command({ cdb: read10(300, 24), read: true, expectedDataTransferLength: 12288 })
    expect(back.data.equals(data)).toBe(true)
  })

  it('ends the task with CHECK CONDITION on a wrong DataSN, offset, amount or unexpected unsolicited data', async () => {
    const t = await target()
    const c = await session(t, { operational: { immediateData: true, initialR2T: false, firstBurstLength: 8192 } })
    const data = pattern(8192)
    // Wrong DataSN (0, then 0 again).
    let pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: false, expectedDataTransferLength: 8192 })
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 0, data: data.subarray(0, 4096), final: false })
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 4096, data: data.subarray(4096), final: true })
    let result = await c.collect(pdu.itt)
    expect(result.status).toBe(2)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x4b, 0x00])
    // Wrong Buffer Offset.
    pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: false, expectedDataTransferLength: 8192 })
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 512, data: data.subarray(0, 4096), final: false })
    result = await c.collect(pdu.itt)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x4b, 0x05])
    // F=1 before FirstBurstLength: not enough unsolicited data.
    pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: false, expectedDataTransferLength: 8192 })
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 0, data: data.subarray(0, 4096), final: true })
    result = await c.collect(pdu.itt)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x0c, 0x0d])
    // Unsolicited Data-Out after F=1 on the command.
    pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: true, data: data.subarray(0, 512), expectedDataTransferLength: 8192 })
    const r2t = await c.receiveOf(Opcode.R2T)
    expect(r2t.bufferOffset).toBe(512)
    c.sendDataOut({ itt: pdu.itt, dataSN: 0, bufferOffset: 512, data: data.subarray(512, 1024), final: false })
    result = await c.collect(pdu.itt)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x0c, 0x0c])
    // More data than the R2T asked for.
    pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: true, expectedDataTransferLength: 8192 })
    const solicit = await c.receiveOf(Opcode.R2T)
    c.sendDataOut({ itt: pdu.itt, ttt: solicit.ttt, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(solicit.desiredDataTransferLength + 512), final: true })
    result = await c.collect(pdu.itt)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x0c, 0x0d])
    // The session still works.
    const ok = await c.command({ cdb: write10(0, 16), dataOut: data })
    expect(ok.status).toBe(0)
  })

  it('refuses unsolicited data when InitialR2T=Yes', async () => {
    const t = await target()
    const c = await session(t, { operational: { initialR2T: true, immediateData: true } })
    const pdu = c.sendCommand({ write: true, cdb: write10(0, 2), final: false, data: Buffer.alloc(512), expectedDataTransferLength: 1024 })
    const result = await c.collect(pdu.itt)
    expect(result.status).toBe(2)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x0c, 0x0c])
  })

  it('rejects Data-Out for a task that never existed with reason 0x09', async () => {
    const t = await target()
    const c = await session(t)
    c.sendDataOut({ itt: 0x7777, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(512), final: true })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(0x09)
    expect(reject.data.readUInt32BE(16)).toBe(0x7777)
  })

  it('writes only what EDTL allows and reports write residuals (libiscsi iSCSIResiduals)', async () => {
    const t = await target()
    const c = await session(t)
    await writeBlocks(c, 50, Buffer.alloc(1024, 0x61))
    // EDTL two blocks, CDB one block: underflow of one block; the second block is not touched.
    const under = await c.command({ cdb: write10(50, 1), dataOut: Buffer.alloc(1024, 0x62), expectedDataTransferLength: 1024 })
    expect(under.status).toBe(0)
    expect([under.underflow, under.residualCount]).toEqual([true, 512])
    // EDTL one block, CDB two blocks: overflow of one block; only the first block is written.
    await writeBlocks(c, 60, Buffer.alloc(1024, 0x61))
    const over = await c.command({ cdb: write10(60, 2), dataOut: Buffer.alloc(512, 0x62), expectedDataTransferLength: 512 })
    expect(over.status).toBe(0)
    expect([over.overflow, over.residualCount]).toEqual([true, 512])
    const a = await c.command({ cdb: read10(50, 2), read: true, expectedDataTransferLength: 1024 })
    expect([a.data[0], a.data[600]]).toEqual([0x62, 0x61])
    const b = await c.command({ cdb: read10(60, 2), read: true, expectedDataTransferLength: 1024 })
    expect([b.data[0], b.data[600]]).toEqual([0x62, 0x61])
  })
})

describe('digests (RFC 7143 13.1)', () => {
  it('runs header and data digests in both directions once negotiated', async () => {
    const t = await target()
    const c = await session(t, { operational: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] } })
    expect(c.parameters?.connection).toMatchObject({ headerDigest: 'CRC32C', dataDigest: 'CRC32C' })
    const data = pattern(12345 - (12345 % 512), 11)
    const w = await c.command({ cdb: write10(7, data.length / 512), dataOut: data })
    expect(w.status).toBe(0)
    const r = await c.command({ cdb: read10(7, data.length / 512), read: true, expectedDataTransferLength: data.length })
    expect(r.data.equals(data)).toBe(true)
    expect(c.errors).toEqual([])
  })

  it('rejects a Data-Out with a bad data digest (reason 0x02) and ends its task with a CRC error', async () => {
    const t = await target()
    const c = await session(t, { operational: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C'], immediateData: false } })
    const pdu = c.sendCommand({ write: true, cdb: write10(0, 2), final: true, expectedDataTransferLength: 1024 })
    const r2t = await c.receiveOf(Opcode.R2T)
    const parts = serializePdu(
      { opcode: 0x05, final: true, lun: 0n, itt: pdu.itt, ttt: r2t.ttt, expStatSN: c.expStatSN, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(1024, 1) },
      { headerDigest: true, dataDigest: true },
    )
    const wire = Buffer.concat(parts)
    wire.writeUInt8(wire.readUInt8(wire.length - 1) ^ 0xff, wire.length - 1)
    c.sendRaw(wire)
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(0x02)
    const result = await c.collect(pdu.itt)
    expect(result.status).toBe(2)
    expect(senseOf(result.sense)).toEqual([0x0b, 0x47, 0x05])
  })
})
