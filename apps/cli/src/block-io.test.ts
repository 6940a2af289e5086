import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BlockWriter, chunkBlocks, isZero, readRange } from './block-io.js'
import { MemoryConnector, MemoryLun } from './testing/memory-target.js'
import type { CliSession } from './session.js'

async function session(blockSize = 512): Promise<{ s: CliSession; lun: MemoryLun }> {
  const connector = new MemoryConnector()
  const lun = new MemoryLun({ size: 64 * 1024, blockSize })
  connector.addTarget('iqn.x:y').luns.set(0, lun)
  return { s: await connector.connect({ host: '127.0.0.1', port: 3260, targetName: 'iqn.x:y' }), lun }
}

describe('isZero', () => {
  it('finds a single non-zero byte anywhere, in buffers larger than its zero page', () => {
    const big = Buffer.alloc(5 * 1024 * 1024)
    expect(isZero(big)).toBe(true)
    big[big.length - 1] = 1
    expect(isZero(big)).toBe(false)
    expect(isZero(Buffer.alloc(0))).toBe(true)
    expect(isZero(Buffer.from([0, 0, 7]))).toBe(false)
  })
})

describe('chunkBlocks', () => {
  it('rounds down to whole blocks, at least one, within the transfer limit', () => {
    expect(chunkBlocks(1024 * 1024, 512)).toBe(2048)
    expect(chunkBlocks(1000, 512)).toBe(1)
    expect(chunkBlocks(100, 4096)).toBe(1)
    expect(chunkBlocks(1024 * 1024, 512, 65536)).toBe(128)
  })
})

describe('readRange', () => {
  it('cuts the partial blocks at both ends', async () => {
    const { s, lun } = await session()
    const data = randomBytes(64 * 1024)
    lun.fill(0, data)
    const parts: Buffer[] = []
    for await (const part of readRange(s, 0, 512, 700, 5000, { chunkBytes: 1024, depth: 3 })) parts.push(Buffer.from(part))
    expect(Buffer.concat(parts).equals(data.subarray(700, 5700))).toBe(true)
  })
})

describe('BlockWriter', () => {
  it('merges an unaligned start and end with what is on the LUN', async () => {
    const { s, lun } = await session(4096)
    const before = randomBytes(64 * 1024)
    lun.fill(0, before)
    const writer = new BlockWriter(s, 0, 4096, 5000, { chunkBytes: 8192, depth: 2 })
    const payload = randomBytes(20_000)
    for (let at = 0; at < payload.length; at += 3001) await writer.write(payload.subarray(at, at + 3001))
    expect(await writer.end()).toBe(20_000)
    const expected = Buffer.from(before)
    payload.copy(expected, 5000)
    expect(lun.data.equals(expected)).toBe(true)
  })

  it('handles a write inside one block', async () => {
    const { s, lun } = await session(512)
    const before = randomBytes(64 * 1024)
    lun.fill(0, before)
    const writer = new BlockWriter(s, 0, 512, 1030, {})
    await writer.write(Buffer.from('abc'))
    expect(await writer.end()).toBe(3)
    const expected = Buffer.from(before)
    expected.write('abc', 1030)
    expect(lun.data.equals(expected)).toBe(true)
    expect(lun.counts.write).toBe(1)
  })

  it('writes nothing for no data', async () => {
    const { s, lun } = await session()
    const writer = new BlockWriter(s, 0, 512, 0)
    expect(await writer.end()).toBe(0)
    expect(lun.counts.write).toBe(0)
  })
})
