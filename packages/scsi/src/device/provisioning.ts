// Logical block provisioning (SBC-3 4.7): UNMAP, WRITE SAME(10/16) with and without UNMAP, GET LBA STATUS. A thin
// LU has LBPRZ=1: deallocated blocks read back as zeros, so unmapping a range and writing zeros to it are the same
// to the initiator.
import { invalidField } from '../cdb/cdb.js'
import { CheckCondition } from '../errors.js'
import { type CommandContext, GOOD, type Outcome, checkpoint } from './context.js'
import { requireDataOut } from './read-write.js'

/** Bytes per backstore write when WRITE SAME repeats its block. */
const PATTERN_BYTES = 1024 * 1024

const parameterListLengthError = (message: string) => new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message })
const invalidParameter = (byte: number, message: string) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte }, message })

/** One UNMAP block descriptor (SBC-3 5.28.2 table 85). */
export interface UnmapDescriptor {
  readonly lba: number
  readonly blocks: number
}

/** Encode an UNMAP parameter list (SBC-3 5.28.2): header and 16-byte block descriptors. For initiators and tests. */
export function encodeUnmapParameters(descriptors: readonly UnmapDescriptor[]): Buffer {
  const buf = Buffer.alloc(8 + descriptors.length * 16)
  buf.writeUInt16BE(buf.length - 2, 0) // UNMAP DATA LENGTH: bytes after this field
  buf.writeUInt16BE(descriptors.length * 16, 2) // UNMAP BLOCK DESCRIPTOR DATA LENGTH
  descriptors.forEach((descriptor, index) => {
    buf.writeBigUInt64BE(BigInt(descriptor.lba), 8 + index * 16)
    buf.writeUInt32BE(descriptor.blocks, 16 + index * 16)
  })
  return buf
}

/** UNMAP (SBC-3 5.28): every descriptor is checked before any range is deallocated. */
export async function unmap(context: CommandContext<'UNMAP'>): Promise<Outcome> {
  const { unit, cdb } = context
  // ANC_SUP=0 in VPD B2h: anchoring is not supported.
  if (cdb.anchor) throw invalidField(cdb.name, 'anchor', 'ANCHOR is not supported')
  unit.checkWritable()
  const length = cdb.parameterListLength
  // SBC-3 5.28.1: a PARAMETER LIST LENGTH of zero is not an error; nothing is unmapped.
  if (length === 0) return GOOD
  if (length < 8) throw parameterListLengthError(`UNMAP parameter list of ${length} bytes is shorter than its 8-byte header`)
  if (context.dataOut.length < length) throw parameterListLengthError(`${context.dataOut.length} bytes of data-out for a ${length}-byte parameter list`)
  const list = context.dataOut.subarray(0, length)
  // The block descriptors are those that fit both the declared descriptor length and the list; a truncated last
  // descriptor is ignored (SBC-3 5.28.2).
  const descriptorBytes = Math.min(list.readUInt16BE(2), length - 8)
  const count = Math.floor(descriptorBytes / 16)
  if (count > unit.limits.maxUnmapDescriptorCount) {
    throw invalidParameter(2, `${count} UNMAP block descriptors exceed the maximum of ${unit.limits.maxUnmapDescriptorCount}`)
  }
  const descriptors: UnmapDescriptor[] = []
  let total = 0
  for (let i = 0; i < count; i++) {
    const offset = 8 + i * 16
    const lba = Number(list.readBigUInt64BE(offset))
    const blocks = list.readUInt32BE(offset + 8)
    unit.checkRange(lba, blocks)
    total += blocks
    if (total > unit.limits.maxUnmapLbaCount) {
      throw invalidParameter(offset + 8, `UNMAP of ${total} blocks exceeds the maximum unmap LBA count ${unit.limits.maxUnmapLbaCount}`)
    }
    if (blocks > 0) descriptors.push({ lba, blocks })
  }
  const backstore = unit.backstore
  for (const { lba, blocks } of descriptors) {
    await unit.lock.run(lba, blocks, async () => {
      checkpoint(context)
      await unit.io('unmap', () => backstore.unmap!(lba, blocks))
    })
  }
  return GOOD
}

/** WRITE SAME(10/16), SBC-3 5.42-5.43. */
export async function writeSame(context: CommandContext<'WRITE_SAME_10' | 'WRITE_SAME_16'>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.wrprotect !== 0) throw invalidField(cdb.name, 'wrprotect', 'WRPROTECT needs protection information, which this LU does not have')
  if (cdb.anchor) throw invalidField(cdb.name, 'anchor', 'ANCHOR is not supported')
  if (cdb.name === 'WRITE_SAME_10' && cdb.pbdata) throw invalidField(cdb.name, 'pbdata', 'PBDATA is not supported')
  if (cdb.name === 'WRITE_SAME_10' && cdb.lbdata) throw invalidField(cdb.name, 'lbdata', 'LBDATA is not supported')
  if (cdb.unmap && !unit.thin) throw invalidField(cdb.name, 'unmap', 'UNMAP needs a thin provisioned LU')
  const ndob = cdb.name === 'WRITE_SAME_16' && cdb.ndob
  unit.checkWritable()
  // SBC-3 5.42: NUMBER OF LOGICAL BLOCKS 0 (WSNZ=0 in VPD B0h) means every block from the LBA to the last one; the
  // LBA must still be on the medium, and the blocks it implies within MAXIMUM WRITE SAME LENGTH.
  if (cdb.blocks === 0 && cdb.lba >= unit.blockCount) unit.checkRange(cdb.lba, 1)
  const blocks = cdb.blocks === 0 ? unit.blockCount - cdb.lba : cdb.blocks
  unit.checkRange(cdb.lba, blocks)
  if (blocks > unit.limits.maxWriteSameLength) throw invalidField(cdb.name, 'blocks', `${blocks} blocks exceed the maximum write same length ${unit.limits.maxWriteSameLength}`)
  const blockSize = unit.blockSize
  // SBC-3 5.42/5.43: the Data-Out Buffer is exactly one logical block (none with NDOB); a transfer of any other size
  // does not describe this command, more as much as less (libiscsi WriteSame*.InvalidDataOutSize; LIO refuses a write
  // whose expected transfer length disagrees with its CDB).
  const announced = Math.max(context.expectedDataOutLength, context.dataOut.length)
  if (announced !== (ndob ? 0 : blockSize)) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { message: `WRITE SAME with ${announced} bytes of data-out for a ${ndob ? 0 : blockSize}-byte block` })
  }
  const block = ndob ? Buffer.alloc(blockSize) : requireDataOut(context, blockSize, () => invalidField(cdb.name, 'blocks', 'the data-out buffer holds less than one block'))
  const { lba } = cdb
  await unit.lock.run(lba, blocks, async () => {
    checkpoint(context)
    if (cdb.unmap) {
      // SBC-3 5.42 (UNMAP 1, ANCHOR 0): a thin provisioned LU deallocates each LBA, whatever the block holds; reads
      // of them then return zeros (LBPRZ=1). LIO does the same.
      await unit.io('unmap', () => unit.backstore.unmap!(lba, blocks))
      return
    }
    const chunkBlocks = Math.max(1, Math.min(blocks, Math.floor(PATTERN_BYTES / blockSize)))
    const pattern = Buffer.allocUnsafe(chunkBlocks * blockSize)
    for (let i = 0; i < chunkBlocks; i++) block.copy(pattern, i * blockSize)
    const fua = unit.writeThrough(false)
    for (let done = 0; done < blocks; ) {
      const take = Math.min(chunkBlocks, blocks - done)
      await unit.io('write', () => unit.backstore.write(lba + done, pattern.subarray(0, take * blockSize), { fua }))
      done += take
    }
  })
  return GOOD
}

/** Provisioning status codes of GET LBA STATUS descriptors (SBC-3 5.16.2 table 67). */
export const ProvisioningStatus = { MAPPED: 0x0, DEALLOCATED: 0x1, ANCHORED: 0x2 } as const

/** Blocks asked of the backstore per allocationStatus call. */
const STATUS_WINDOW = 1 << 24

/** GET LBA STATUS (SBC-3 5.16): extents from the starting LBA, as many as the allocation length holds. */
export async function getLbaStatus(context: CommandContext<'GET_LBA_STATUS'>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.lba >= unit.blockCount) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE', { message: `starting LBA ${cdb.lba} is beyond the last LBA` })
  }
  const wanted = Math.max(1, Math.floor((Math.min(cdb.allocationLength, 0x7fffffff) - 8) / 16))
  const runs: Array<{ lba: number; blocks: number; mapped: boolean }> = []
  const backstore = unit.backstore
  let cursor = cdb.lba
  // Gather one run more than fits, so the last one reported is known to be complete.
  while (cursor < unit.blockCount && runs.length <= wanted) {
    const window = Math.min(STATUS_WINDOW, unit.blockCount - cursor)
    const extents = backstore.allocationStatus === undefined ? [{ lba: cursor, blocks: window, mapped: true }] : await unit.io('status', () => backstore.allocationStatus!(cursor, window))
    for (const extent of extents) {
      if (extent.blocks <= 0) continue
      const last = runs.at(-1)
      if (last !== undefined && last.mapped === extent.mapped && last.lba + last.blocks === extent.lba && last.blocks + extent.blocks <= 0xffffffff) last.blocks += extent.blocks
      else runs.push({ lba: extent.lba, blocks: Math.min(extent.blocks, 0xffffffff), mapped: extent.mapped })
    }
    cursor += window
  }
  const reported = runs.slice(0, wanted)
  const data = Buffer.alloc(8 + reported.length * 16)
  data.writeUInt32BE(data.length - 4, 0) // PARAMETER DATA LENGTH: bytes after this field
  reported.forEach((run, index) => {
    const offset = 8 + index * 16
    data.writeBigUInt64BE(BigInt(run.lba), offset)
    data.writeUInt32BE(run.blocks, offset + 8)
    data[offset + 12] = run.mapped ? ProvisioningStatus.MAPPED : ProvisioningStatus.DEALLOCATED
  })
  return { data }
}
