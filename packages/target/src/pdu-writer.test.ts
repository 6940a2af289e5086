import type { Socket } from 'node:net'
import { PduFramer, dataDigestOf } from '@iscsi-ts/pdu'
import type { DataInPdu, NopInPdu, Pdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { PduWriter } from './pdu-writer.js'

/** Records what the writer does to its socket; `complete()` plays the kernel taking the buffered bytes. */
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
  #callbacks: Array<(() => void) | undefined> = []
  cork(): void {
    this.corks++
    this.corked = true
  }
  uncork(): void {
    this.uncorks++
    this.corked = false
    this.#endBatch()
  }
  write(chunk: Buffer, callback?: () => void): boolean {
    this.writes.push(chunk)
    this.#batch.push(chunk)
    this.#callbacks.push(callback)
    this.writableLength += chunk.length
    if (!this.corked) this.#endBatch()
    return true
  }
  complete(): void {
    this.writableLength = 0
    for (const callback of this.#callbacks.splice(0)) callback?.()
  }
  #endBatch(): void {
    if (this.#batch.length > 0) this.batches.push(this.#batch)
    this.#batch = []
  }
}

function nopIn(data: Buffer, itt = 1): NopInPdu {
  return { opcode: 0x20, lun: 0n, itt, ttt: 0xffffffff, statSN: 7, expCmdSN: 8, maxCmdSN: 9, data }
}

function dataIn(data: Buffer, itt: number): DataInPdu {
  return {
    opcode: 0x25,
    final: true,
    acknowledge: false,
    overflow: false,
    underflow: false,
    statusPresent: true,
    status: 0,
    lun: 0n,
    itt,
    ttt: 0xffffffff,
    statSN: itt,
    expCmdSN: 1,
    maxCmdSN: 32,
    dataSN: 0,
    bufferOffset: 0,
    residualCount: 0,
    data,
  }
}

function decodeAll(bytes: Buffer, digests: { headerDigest?: boolean; dataDigest?: boolean } = {}): Pdu[] {
  const out: Pdu[] = []
  const framer = new PduFramer({ role: 'initiator', maxRecvDataSegmentLength: 1 << 20, ...digests, onPdu: (p) => out.push(p), onError: (e) => { throw e } })
  framer.push(bytes)
  return out
}

const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function writerOn(socket: FakeSocket, highWaterMark = 1 << 20): PduWriter {
  return new PduWriter(socket as unknown as Socket, { remote: 'test', highWaterMark })
}

describe('PduWriter', () => {
  it('queues the PDUs of one batch and hands them to the socket together after the batch', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    writer.send(nopIn(Buffer.from('abcde'), 1))
    writer.send(nopIn(Buffer.alloc(0), 2))
    // Nothing reaches the socket until the batch ends, but the bytes count as pending.
    expect(socket.writes).toHaveLength(0)
    expect(writer.pending).toBe(48 + 8 + 48)
    await nextImmediate()
    // Small data segments are copied behind their header: one contiguous slab region for the whole batch.
    expect(socket.writes.map((w) => w.length)).toEqual([48 + 8 + 48])
    const pdus = decodeAll(Buffer.concat(socket.writes))
    expect(pdus.map((p) => ('itt' in p ? p.itt : -1))).toEqual([1, 2])
    expect(pdus[0]!.data.toString()).toBe('abcde')
    expect(writer.pdusWritten).toBe(2)
    expect(writer.bytesWritten).toBe(48 + 8 + 48)
  })

  it('sends a burst of PDUs from one callback when that callback is done, a lone PDU after the I/O phase', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    writer.send(dataIn(Buffer.alloc(4096), 1))
    await new Promise((resolve) => process.nextTick(resolve))
    // One PDU: it waits for the end of the loop's I/O phase, where other completions may join it.
    expect(socket.writes).toHaveLength(0)
    await nextImmediate()
    expect(socket.writes).toHaveLength(1)
    for (let i = 0; i < 4; i++) writer.send(dataIn(Buffer.alloc(4096), 10 + i))
    await new Promise((resolve) => process.nextTick(resolve))
    // Four from one callback: they leave before the loop goes back to I/O.
    expect(decodeAll(Buffer.concat(socket.writes.slice(1))).map((p) => ('itt' in p ? p.itt : -1))).toEqual([10, 11, 12, 13])
  })

  it('passes large data segments by reference between slab regions, in one cork/uncork', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    const big = Buffer.alloc(64 * 1024 + 2, 0xab)
    writer.send(dataIn(Buffer.alloc(4096, 1), 1))
    writer.send(dataIn(big, 2))
    writer.send(dataIn(Buffer.alloc(512, 3), 3))
    await nextImmediate()
    expect(socket.corks).toBe(1)
    expect(socket.uncorks).toBe(1)
    expect(socket.batches).toHaveLength(1)
    // [header 1 + data 1 + header 2], the caller's buffer, [padding 2 + header 3 + data 3].
    expect(socket.writes.map((w) => w.length)).toEqual([48 + 4096 + 48, big.length, 2 + 48 + 512])
    expect(socket.writes[1]).toBe(big)
    const pdus = decodeAll(Buffer.concat(socket.writes)) as DataInPdu[]
    expect(pdus.map((p) => p.itt)).toEqual([1, 2, 3])
    expect(pdus[1]!.data.equals(big)).toBe(true)
    expect(pdus[2]!.data.equals(Buffer.alloc(512, 3))).toBe(true)
  })

  it('adds header and data digests once set, for copied and referenced data', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    writer.setDigests({ headerDigest: true, dataDigest: true })
    const small = Buffer.from('0123456789')
    const big = Buffer.alloc(40000, 7)
    writer.send(nopIn(small, 1))
    writer.send(nopIn(big, 2))
    await nextImmediate()
    const bytes = Buffer.concat(socket.writes)
    // Data digest of the small segment follows its 2 padding bytes.
    expect(bytes.readUInt32LE(52 + 12)).toBe(dataDigestOf(small))
    const pdus = decodeAll(bytes, { headerDigest: true, dataDigest: true })
    expect(pdus.map((p) => p.data.length)).toEqual([10, 40000])
    expect(pdus[1]!.data.equals(big)).toBe(true)
  })

  it('flushes at once when a batch grows past its bound', () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket, 1 << 30)
    for (let i = 0; i < 70; i++) writer.send(dataIn(Buffer.alloc(4096, i), i))
    // 70 x 4144 bytes is past 256 KiB: the first part left without waiting for the end of the batch.
    expect(socket.writes.length).toBeGreaterThan(0)
    expect(writer.pending).toBe(70 * (48 + 4096))
  })

  it('reports congestion above its high-water mark, counting queued bytes, and sends nothing once the socket is gone', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket, 100)
    writer.send(nopIn(Buffer.alloc(40)))
    expect(writer.congested).toBe(false)
    writer.send(nopIn(Buffer.alloc(40)))
    expect(writer.congested).toBe(true)
    await nextImmediate()
    expect(writer.congested).toBe(true)
    socket.destroyed = true
    const before = socket.writes.length
    writer.send(nopIn(Buffer.alloc(4)))
    writer.flush()
    expect(socket.writes.length).toBe(before)
  })

  it('calls drain waiters once the socket has handed the bytes to the kernel', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket, 100)
    writer.send(nopIn(Buffer.alloc(200)))
    let drained = 0
    writer.onDrain(() => drained++)
    await nextImmediate()
    expect(drained).toBe(0)
    socket.complete()
    expect(drained).toBe(1)
    // Nothing pending: the waiter runs on the next tick.
    writer.onDrain(() => drained++)
    await new Promise((resolve) => process.nextTick(resolve))
    expect(drained).toBe(2)
  })

  it('puts a lone small response in a 16 KiB slab and a large batch in 128 KiB slabs', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    writer.send(dataIn(Buffer.alloc(4096, 1), 1))
    await nextImmediate()
    expect(socket.writes.map((chunk) => chunk.buffer.byteLength)).toEqual([16 * 1024])
    socket.complete()
    // 32 responses of 4 KiB (one queue depth's worth): the first few share the small slab, the rest go large.
    for (let i = 0; i < 32; i++) writer.send(dataIn(Buffer.alloc(4096, i), 100 + i))
    await nextImmediate()
    const sizes = socket.writes.slice(1).map((chunk) => chunk.buffer.byteLength)
    expect(sizes).toContain(128 * 1024)
    expect(sizes.filter((size) => size === 16 * 1024).length).toBeLessThanOrEqual(1)
    expect(decodeAll(Buffer.concat(socket.writes.slice(1))).map((p) => ('itt' in p ? p.itt : -1))).toEqual(Array.from({ length: 32 }, (_, i) => 100 + i))
  })

  it('runs onWritten for a data segment passed by reference only once the socket has written it', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    const events: string[] = []
    writer.send(dataIn(Buffer.alloc(64 * 1024, 7), 1), () => events.push('large written'))
    writer.send(dataIn(Buffer.alloc(4096, 8), 2), () => events.push('small copied'))
    // The 4 KiB segment was copied into the slab at once; the 64 KiB one is still the caller's buffer.
    expect(events).toEqual(['small copied'])
    await nextImmediate()
    expect(socket.writes.length).toBeGreaterThan(0)
    expect(events).toEqual(['small copied'])
    socket.complete()
    expect(events).toEqual(['small copied', 'large written'])
  })

  it('does not run onWritten for a PDU dropped because the socket is closed', () => {
    const socket = new FakeSocket()
    socket.destroyed = true
    const writer = writerOn(socket)
    let called = false
    writer.send(dataIn(Buffer.alloc(64 * 1024), 1), () => (called = true))
    writer.flush()
    expect(called).toBe(false)
  })

  it('flush() hands the batch over at once (before a half-close)', () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket)
    writer.send(nopIn(Buffer.alloc(0), 9))
    writer.flush()
    expect(decodeAll(Buffer.concat(socket.writes)).map((p) => ('itt' in p ? p.itt : -1))).toEqual([9])
  })

  it('keeps headers valid across slab boundaries and never reuses a slab the socket still holds', async () => {
    const socket = new FakeSocket()
    const writer = writerOn(socket, 1 << 30)
    for (let i = 0; i < 3000; i++) writer.send(nopIn(Buffer.alloc(i % 200, i & 0xff), i))
    await nextImmediate()
    const first = [...socket.writes]
    const check = (): void => {
      const pdus = decodeAll(Buffer.concat(first))
      expect(pdus).toHaveLength(3000)
      pdus.forEach((p, i) => {
        expect('itt' in p && p.itt).toBe(i)
        expect(p.data.equals(Buffer.alloc(i % 200, i & 0xff))).toBe(true)
      })
    }
    check()
    // The socket has not written those regions yet: the next PDUs must go to other slabs.
    for (let i = 0; i < 3000; i++) writer.send(nopIn(Buffer.alloc(100, 0xee), i))
    await nextImmediate()
    check()
    // Once written, their slabs return to the pool and later PDUs reuse them.
    socket.complete()
    const reused = new Set(first.map((chunk) => chunk.buffer))
    for (let i = 0; i < 3000; i++) writer.send(nopIn(Buffer.alloc(100, 0xdd), i))
    await nextImmediate()
    expect(socket.writes.slice(first.length).some((chunk) => reused.has(chunk.buffer as ArrayBuffer))).toBe(true)
  })
})
