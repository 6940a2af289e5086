import { describe, expect, it } from 'vitest'
import { decodeBlock, encodeBlock, encodeBlocks } from './block-record.js'

describe('block records', () => {
  it('round-trip LBA, generation and writer for 512- and 4096-byte blocks', () => {
    for (const size of [512, 4096]) {
      const block = Buffer.alloc(size)
      encodeBlock(block, 123_456, 77, 5)
      expect(decodeBlock(block, 123_456)).toEqual({ state: 'valid', generation: 77, writer: 5 })
    }
  })

  it('tell never-written blocks from written ones', () => {
    expect(decodeBlock(Buffer.alloc(512), 9)).toEqual({ state: 'zero' })
  })

  it('catch a block found at the wrong LBA, a flipped bit anywhere, a torn block', () => {
    const block = Buffer.alloc(512)
    encodeBlock(block, 10, 1, 0)
    const misplaced = decodeBlock(block, 11)
    expect(misplaced.state === 'corrupt' && misplaced.reason).toContain('LBA 10')
    for (const at of [5, 13, 40, 511]) {
      const damaged = Buffer.from(block)
      damaged[at]! ^= 0x01
      expect(decodeBlock(damaged, 10).state).toBe('corrupt')
    }
    const newer = Buffer.alloc(512)
    encodeBlock(newer, 10, 2, 0)
    const torn = Buffer.concat([newer.subarray(0, 256), block.subarray(256)])
    const state = decodeBlock(torn, 10)
    expect(state.state === 'corrupt' && state.reason).toContain('checksum')
  })

  it('give each generation different bytes (a stale block never passes for a new one)', () => {
    const a = encodeBlocks(0, 4, 512, 1, 0)
    const b = encodeBlocks(0, 4, 512, 2, 0)
    expect(a.equals(b)).toBe(false)
    for (let i = 0; i < 4; i++) {
      expect(decodeBlock(a.subarray(i * 512, (i + 1) * 512), i)).toEqual({ state: 'valid', generation: 1, writer: 0 })
      expect(decodeBlock(b.subarray(i * 512, (i + 1) * 512), i)).toEqual({ state: 'valid', generation: 2, writer: 0 })
    }
  })
})
