// Self-verifying block contents: every block written by the crash and load tests carries a header (magic, its own
// LBA, a generation number, the writer's id) and a CRC32C over the whole block, the rest filled from a generator
// seeded by those fields. A block read back is then either never written (all zeros), a valid record of one
// generation for exactly that LBA, or corrupt (torn, misplaced, stale bytes from another block).
import { crc32c } from '@iscsi-ts/pdu'

const MAGIC = 0x524c424b // "RLBK"
const HEADER = 32
const CRC_AT = 28

export type BlockState =
  | { readonly state: 'zero' }
  | { readonly state: 'valid'; readonly generation: number; readonly writer: number }
  | { readonly state: 'corrupt'; readonly reason: string }

function fill(block: Buffer, seed: number): void {
  let x = seed | 1
  for (let i = HEADER; i + 4 <= block.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    block.writeInt32LE(x, i)
  }
}

function checksum(block: Buffer): number {
  const saved = block.readUInt32BE(CRC_AT)
  block.writeUInt32BE(0, CRC_AT)
  const crc = crc32c(block)
  block.writeUInt32BE(saved, CRC_AT)
  return crc
}

/** Write the record of (lba, generation, writer) into `block` (one block, at least 64 bytes). */
export function encodeBlock(block: Buffer, lba: number, generation: number, writer: number): void {
  block.writeUInt32BE(MAGIC, 0)
  block.writeBigUInt64BE(BigInt(lba), 4)
  block.writeUInt32BE(generation >>> 0, 12)
  block.writeUInt32BE(writer >>> 0, 16)
  block.writeUInt32BE(0, 20)
  block.writeUInt32BE(0, 24)
  fill(block, (Math.imul(lba + 1, 0x9e3779b1) ^ Math.imul(generation + 1, 0x85ebca6b) ^ writer) >>> 0)
  block.writeUInt32BE(checksum(block), CRC_AT)
}

/** `blocks` consecutive records from `lba`, all of one generation. */
export function encodeBlocks(lba: number, blocks: number, blockSize: number, generation: number, writer: number): Buffer {
  const data = Buffer.alloc(blocks * blockSize)
  for (let i = 0; i < blocks; i++) encodeBlock(data.subarray(i * blockSize, (i + 1) * blockSize), lba + i, generation, writer)
  return data
}

export function decodeBlock(block: Buffer, lba: number): BlockState {
  if (block.every((b) => b === 0)) return { state: 'zero' }
  if (block.readUInt32BE(0) !== MAGIC) return { state: 'corrupt', reason: 'no record magic' }
  const at = Number(block.readBigUInt64BE(4))
  if (checksum(block) !== block.readUInt32BE(CRC_AT)) return { state: 'corrupt', reason: 'checksum mismatch (torn or damaged block)' }
  if (at !== lba) return { state: 'corrupt', reason: `the record of LBA ${at} found at LBA ${lba}` }
  return { state: 'valid', generation: block.readUInt32BE(12), writer: block.readUInt32BE(16) }
}
