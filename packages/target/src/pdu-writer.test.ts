import type { Socket } from 'node:net'
import { PduFramer, dataDigestOf } from '@iscsi-ts/pdu'
import type { NopInPdu, Pdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { PduWriter } from './pdu-writer.js'

/** Records what the writer does to its socket. */
class FakeSocket {
  corks = 0
  uncorks = 0
  corked = false
  writes: Buffer[] = []
  batches: Buffer[][] = []
  writableLength = 0
  destroyed = false
  writable = true
  #batch: Buffer[] = []
  cork(): void {
    this.corks++
    this.corked = true
  }
  uncork(): void {
    this.uncorks++
    this.corked = false
    this.batches.push(this.#batch)
    this.#batch = []
  }
  write(chunk: Buffer): boolean {
    this.writes.push(chunk)
    this.#batch.push(chunk)
    this.writableLength += chunk.length
    return true
  }
}

function nopIn(data: Buffer, itt = 1): NopInPdu {
  return { opcode: 0x20, lun: 0n, itt, ttt: 0xffffffff, statSN: 7, expCmdSN: 8, maxCmdSN: 9, data }
}

function decodeAll(bytes: Buffer, digests: { headerDigest?: boolean; dataDigest?: boolean } = {}): Pdu[] {
  const out: Pdu[] = []
  const framer = new PduFramer({ role: 'initiator', ...digests, onPdu: (p) => out.push(p), onError: (e) => { throw e } })
  framer.push(bytes)
  return out
}

describe('PduWriter', () => {
  it('corks the PDUs of one tick into one batch and passes data segments by reference', async () => {
    const socket = new FakeSocket()
    const writer = new PduWriter(socket as unknown as Socket, { remote: 'test', highWaterMark: 1 << 20 })
    const payload = Buffer.from('abcde')
    writer.send(nopIn(payload, 1))
    writer.send(nopIn(Buffer.alloc(0), 2))
    expect(socket.corks).toBe(1)
    expect(socket.corked).toBe(true)
    await new Promise((resolve) => process.nextTick(resolve))
    expect(socket.uncorks).toBe(1)
    expect(socket.batches).toHaveLength(1)
    // header, data (the caller's buffer itself), padding (3 bytes), header.
    expect(socket.writes.map((w) => w.length)).toEqual([48, 5, 3, 48])
    expect(socket.writes[1]).toBe(payload)
    // Both headers are slices of the same preallocated slab.
    expect(socket.writes[0]!.buffer).toBe(socket.writes[3]!.buffer)
    const pdus = decodeAll(Buffer.concat(socket.writes))
    expect(pdus.map((p) => ('itt' in p ? p.itt : -1))).toEqual([1, 2])
    expect(pdus[0]!.data.toString()).toBe('abcde')
    expect(writer.pdusWritten).toBe(2)
    expect(writer.bytesWritten).toBe(48 + 8 + 48)
  })

  it('adds header and data digests once set', () => {
    const socket = new FakeSocket()
    const writer = new PduWriter(socket as unknown as Socket, { remote: 'test', highWaterMark: 1 << 20 })
    writer.setDigests({ headerDigest: true, dataDigest: true })
    const payload = Buffer.from('0123456789')
    writer.send(nopIn(payload))
    expect(socket.writes.map((w) => w.length)).toEqual([52, 10, 2, 4])
    expect(socket.writes[3]!.readUInt32LE(0)).toBe(dataDigestOf(payload))
    const [pdu] = decodeAll(Buffer.concat(socket.writes), { headerDigest: true, dataDigest: true })
    expect(pdu?.data.equals(payload)).toBe(true)
  })

  it('reports congestion above its high-water mark and sends nothing once the socket is gone', () => {
    const socket = new FakeSocket()
    const writer = new PduWriter(socket as unknown as Socket, { remote: 'test', highWaterMark: 100 })
    writer.send(nopIn(Buffer.alloc(40)))
    expect(writer.congested).toBe(false)
    writer.send(nopIn(Buffer.alloc(40)))
    expect(writer.congested).toBe(true)
    socket.destroyed = true
    const before = socket.writes.length
    writer.send(nopIn(Buffer.alloc(4)))
    expect(socket.writes.length).toBe(before)
  })

  it('keeps headers valid across slab boundaries', () => {
    const socket = new FakeSocket()
    const writer = new PduWriter(socket as unknown as Socket, { remote: 'test', highWaterMark: 1 << 30 })
    for (let i = 0; i < 3000; i++) writer.send(nopIn(Buffer.alloc(0), i))
    const pdus = decodeAll(Buffer.concat(socket.writes))
    expect(pdus).toHaveLength(3000)
    pdus.forEach((p, i) => expect('itt' in p && p.itt).toBe(i))
  })
})
