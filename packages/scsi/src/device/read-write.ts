// Block data commands (SBC-3 5.x): READ, WRITE, WRITE AND VERIFY, VERIFY, ORWRITE, WRITE ATOMIC, PRE-FETCH and
// SYNCHRONIZE CACHE. Every write path takes the LU range lock for the blocks it modifies, checks the task's abort
// signal once it holds it and then issues one backstore write, so an aborted task leaves no half-written range.
import { invalidField } from '../cdb/cdb.js'
import { transferBlocks } from '../cdb/transfer.js'
import { CheckCondition } from '../errors.js'
import { ScsiStatus } from '../status.js'
import { type CommandContext, GOOD, type Outcome, checkpoint } from './context.js'
import { readBuffer } from './read-buffers.js'
import type { UnitState } from './unit-state.js'

type ReadName = 'READ_6' | 'READ_10' | 'READ_12' | 'READ_16'
type WriteName = 'WRITE_6' | 'WRITE_10' | 'WRITE_12' | 'WRITE_16'
type WriteVerifyName = 'WRITE_AND_VERIFY_10' | 'WRITE_AND_VERIFY_12' | 'WRITE_AND_VERIFY_16'
type VerifyName = 'VERIFY_10' | 'VERIFY_12' | 'VERIFY_16'

/** Blocks read per backstore call when a command walks a range without transferring it (VERIFY, PRE-FETCH). */
const WALK_BYTES = 1024 * 1024

/** Walk [lba, lba+blocks) in chunks, handing each chunk's data and its block offset to `visit`. */
async function walk(unit: UnitState, lba: number, blocks: number, context: CommandContext, visit: (data: Buffer, blockOffset: number) => void): Promise<void> {
  const chunkBlocks = Math.max(1, Math.floor(WALK_BYTES / unit.blockSize))
  const buffer = Buffer.allocUnsafe(Math.min(blocks, chunkBlocks) * unit.blockSize)
  for (let done = 0; done < blocks; ) {
    checkpoint(context)
    const take = Math.min(chunkBlocks, blocks - done)
    const data = buffer.subarray(0, take * unit.blockSize)
    await unit.io('read', () => unit.backstore.read(lba + done, take, data))
    visit(data, done)
    done += take
  }
}

/** MISCOMPARE DURING VERIFY OPERATION with INFORMATION = offset of the first differing byte (SBC-3 5.2, 5.33). */
export function miscompare(offset: number): CheckCondition {
  return new CheckCondition('MISCOMPARE', 'MISCOMPARE_DURING_VERIFY_OPERATION', { information: BigInt(offset), message: `miscompare at byte ${offset}` })
}

/** Offset of the first byte where a and b differ, or -1. */
export function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i
  return length
}

/**
 * The data-out a block write uses. SAM-5 and libiscsi's residual tests: when the initiator sent less than the CDB
 * asks, the whole blocks received are written and the transport reports the overflow; data ending inside a block
 * is refused with INVALID FIELD IN INFORMATION UNIT, since no whole-block write can honour it.
 */
function receivedBlocks(unit: UnitState, dataOut: Buffer, blocks: number): number {
  const wanted = blocks * unit.blockSize
  if (dataOut.length >= wanted) return blocks
  if (dataOut.length % unit.blockSize !== 0) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_INFORMATION_UNIT', { message: `${dataOut.length} bytes of data-out end inside a block` })
  }
  return dataOut.length / unit.blockSize
}

/** Data-out a command needs in full (compare data, a WRITE SAME block): shorter is INVALID FIELD IN CDB at the length field. */
export function requireDataOut(context: CommandContext, bytes: number, error: () => CheckCondition): Buffer {
  if (context.dataOut.length < bytes) throw error()
  return context.dataOut.subarray(0, bytes)
}

/** READ(6/10/12/16), SBC-3 5.8-5.11. Reads only what the initiator can take; dataLength keeps the residual. */
export async function read(context: CommandContext<ReadName>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.name !== 'READ_6' && cdb.rdprotect !== 0) throw invalidField(cdb.name, 'rdprotect', 'RDPROTECT needs protection information, which this LU does not have')
  const blocks = transferBlocks(cdb)
  unit.checkRange(cdb.lba, blocks)
  if (blocks > unit.limits.maxTransferLength) throw invalidField(cdb.name, 'blocks', `transfer of ${blocks} blocks exceeds the maximum transfer length`)
  const length = blocks * unit.blockSize
  const wanted = Math.min(blocks, Math.ceil(context.expectedDataInLength / unit.blockSize))
  if (wanted === 0) return { data: Buffer.alloc(0), dataLength: length }
  const { buffer: data, release } = readBuffer(wanted * unit.blockSize)
  await unit.io('read', () => unit.backstore.read(cdb.lba, wanted, data))
  // A pooled buffer goes back only once the transport has sent it (ScsiResult.release); a failed read leaves it to
  // the GC, since a backstore call that was given up on may still write into it.
  return release === undefined ? { data, dataLength: length } : { data, dataLength: length, release }
}

/** Common checks of a medium-modifying block command: write protection first (as LIO), then the range and size. */
function checkWrite(unit: UnitState, lba: number, blocks: number, maxBlocks: number, tooLong: () => CheckCondition): void {
  unit.checkWritable()
  unit.checkRange(lba, blocks)
  if (blocks > maxBlocks) throw tooLong()
}

/** WRITE(6/10/12/16), SBC-3 5.35-5.38. FUA (or WCE=0) makes the data stable before GOOD. */
export async function write(context: CommandContext<WriteName>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.name !== 'WRITE_6' && cdb.wrprotect !== 0) throw invalidField(cdb.name, 'wrprotect', 'WRPROTECT needs protection information, which this LU does not have')
  const blocks = transferBlocks(cdb)
  checkWrite(unit, cdb.lba, blocks, unit.limits.maxTransferLength, () => invalidField(cdb.name, 'blocks', `transfer of ${blocks} blocks exceeds the maximum transfer length`))
  const received = receivedBlocks(unit, context.dataOut, blocks)
  if (received === 0) return GOOD
  const fua = unit.writeThrough(cdb.name !== 'WRITE_6' && cdb.fua)
  const bytes = received * unit.blockSize
  const data = bytes === context.dataOut.length ? context.dataOut : context.dataOut.subarray(0, bytes)
  await unit.lock.run(cdb.lba, received, () => {
    checkpoint(context)
    return unit.io('write', () => unit.backstore.write(cdb.lba, data, { fua }))
  })
  return GOOD
}

/** WRITE AND VERIFY(10/12/16), SBC-3 5.39-5.41: write, read back, compare when BYTCHK=1. */
export async function writeAndVerify(context: CommandContext<WriteVerifyName>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.wrprotect !== 0) throw invalidField(cdb.name, 'wrprotect', 'WRPROTECT needs protection information, which this LU does not have')
  if (cdb.bytchk > 1) throw invalidField(cdb.name, 'bytchk', `BYTCHK ${cdb.bytchk} is reserved for WRITE AND VERIFY`)
  checkWrite(unit, cdb.lba, cdb.blocks, unit.limits.maxTransferLength, () => invalidField(cdb.name, 'blocks', `transfer of ${cdb.blocks} blocks exceeds the maximum transfer length`))
  const received = receivedBlocks(unit, context.dataOut, cdb.blocks)
  if (received === 0) return GOOD
  const data = context.dataOut.subarray(0, received * unit.blockSize)
  await unit.lock.run(cdb.lba, received, async () => {
    checkpoint(context)
    // The verify reads back from the medium, so the data must be there first: write it through.
    await unit.io('write', () => unit.backstore.write(cdb.lba, data, { fua: true }))
    const back = Buffer.allocUnsafe(data.length)
    await unit.io('read', () => unit.backstore.read(cdb.lba, received, back))
    if (cdb.bytchk === 1) {
      const at = firstDifference(data, back)
      if (at >= 0) throw miscompare(at)
    }
  })
  return GOOD
}

/** VERIFY(10/12/16), SBC-3 5.31-5.33: BYTCHK 00b reads the medium, 01b compares every block, 11b one block against each. */
export async function verify(context: CommandContext<VerifyName>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.vrprotect !== 0) throw invalidField(cdb.name, 'vrprotect', 'VRPROTECT needs protection information, which this LU does not have')
  if (cdb.bytchk === 2) throw invalidField(cdb.name, 'bytchk', 'BYTCHK 10b is reserved')
  unit.checkRange(cdb.lba, cdb.blocks)
  if (cdb.blocks === 0) return GOOD
  const blockSize = unit.blockSize
  if (cdb.bytchk === 0) {
    await walk(unit, cdb.lba, cdb.blocks, context, () => undefined)
    return GOOD
  }
  if (cdb.bytchk === 1 && cdb.blocks > unit.limits.maxTransferLength) throw invalidField(cdb.name, 'blocks', `transfer of ${cdb.blocks} blocks exceeds the maximum transfer length`)
  const expected = requireDataOut(context, cdb.bytchk === 1 ? cdb.blocks * blockSize : blockSize, () =>
    invalidField(cdb.name, 'blocks', 'the data-out buffer is shorter than the verification length'),
  )
  await walk(unit, cdb.lba, cdb.blocks, context, (data, blockOffset) => {
    for (let block = 0; block < data.length / blockSize; block++) {
      const medium = data.subarray(block * blockSize, (block + 1) * blockSize)
      const start = cdb.bytchk === 1 ? (blockOffset + block) * blockSize : 0
      const at = firstDifference(expected.subarray(start, start + blockSize), medium)
      if (at >= 0) throw miscompare((blockOffset + block) * blockSize + at)
    }
  })
  return GOOD
}

/** ORWRITE(16), SBC-3 5.7: read, OR the data-out into it, write back, atomically under the range lock. */
export async function orwrite(context: CommandContext<'ORWRITE_16'>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.orprotect !== 0) throw invalidField(cdb.name, 'orprotect', 'ORPROTECT needs protection information, which this LU does not have')
  checkWrite(unit, cdb.lba, cdb.blocks, unit.limits.maxTransferLength, () => invalidField(cdb.name, 'blocks', `transfer of ${cdb.blocks} blocks exceeds the maximum transfer length`))
  if (cdb.blocks === 0) return GOOD
  const mask = requireDataOut(context, cdb.blocks * unit.blockSize, () => invalidField(cdb.name, 'blocks', 'the data-out buffer is shorter than the transfer length'))
  const fua = unit.writeThrough(cdb.fua)
  await unit.lock.run(cdb.lba, cdb.blocks, async () => {
    checkpoint(context)
    const data = Buffer.allocUnsafe(mask.length)
    await unit.io('read', () => unit.backstore.read(cdb.lba, cdb.blocks, data))
    for (let i = 0; i < data.length; i++) data[i] = data[i]! | mask[i]!
    await unit.io('write', () => unit.backstore.write(cdb.lba, data, { fua }))
  })
  return GOOD
}

/** WRITE ATOMIC(16), SBC-4 5.48: one backstore write the backstore guarantees atomic, within the VPD B0h atomic limits. */
export async function writeAtomic(context: CommandContext<'WRITE_ATOMIC_16'>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.wrprotect !== 0) throw invalidField(cdb.name, 'wrprotect', 'WRPROTECT needs protection information, which this LU does not have')
  // MAXIMUM ATOMIC BOUNDARY SIZE is 0: boundaries are not supported.
  if (cdb.atomicBoundary !== 0) throw invalidField(cdb.name, 'atomicBoundary', 'atomic boundaries are not supported')
  const { maxAtomicTransferLength, atomicAlignment, atomicTransferLengthGranularity } = unit.limits
  checkWrite(unit, cdb.lba, cdb.blocks, maxAtomicTransferLength, () => invalidField(cdb.name, 'blocks', `atomic write of ${cdb.blocks} blocks exceeds the maximum atomic transfer length`))
  if (cdb.lba % atomicAlignment !== 0) throw invalidField(cdb.name, 'lba', `LBA ${cdb.lba} is not aligned to ${atomicAlignment} blocks`)
  if (cdb.blocks % atomicTransferLengthGranularity !== 0) throw invalidField(cdb.name, 'blocks', `atomic write length is not a multiple of ${atomicTransferLengthGranularity}`)
  if (cdb.blocks === 0) return GOOD
  // All or nothing: a short data-out cannot be written atomically.
  const data = requireDataOut(context, cdb.blocks * unit.blockSize, () => invalidField(cdb.name, 'blocks', 'the data-out buffer is shorter than the atomic write'))
  const fua = unit.writeThrough(cdb.fua)
  await unit.lock.run(cdb.lba, cdb.blocks, async () => {
    checkpoint(context)
    await unit.io('write', () => unit.backstore.write(cdb.lba, data, { fua }))
  })
  return GOOD
}

/**
 * PRE-FETCH(10/16), SBC-3 5.5-5.6: read the range ahead of use (the backstore's cache keeps it). PREFETCH LENGTH 0
 * means to the last LBA. CONDITION MET when the whole range fits the prefetch capacity (MAXIMUM PREFETCH LENGTH),
 * GOOD when only its start was fetched.
 */
export async function preFetch(context: CommandContext<'PRE_FETCH_10' | 'PRE_FETCH_16'>): Promise<Outcome> {
  const { unit, cdb } = context
  unit.checkRange(cdb.lba, cdb.blocks)
  const blocks = cdb.blocks === 0 ? unit.blockCount - cdb.lba : cdb.blocks
  const fits = blocks <= unit.limits.maxPrefetchLength
  const fetch = Math.min(blocks, unit.limits.maxPrefetchLength)
  if (fetch > 0) await walk(unit, cdb.lba, fetch, context, () => undefined)
  return fits ? { status: ScsiStatus.CONDITION_MET } : GOOD
}

/** SYNCHRONIZE CACHE(10/16), SBC-3 5.22-5.23: range checked (0 blocks = to the end), then the backstore flushes. */
export async function synchronizeCache(context: CommandContext<'SYNCHRONIZE_CACHE_10' | 'SYNCHRONIZE_CACHE_16'>): Promise<Outcome> {
  const { unit, cdb } = context
  unit.checkRange(cdb.lba, cdb.blocks)
  await unit.io('flush', () => unit.backstore.flush())
  return GOOD
}
