// COMPARE AND WRITE (SBC-3 5.2): compare the verify instance with the medium and, when equal, write the write
// instance, as one atomic operation. Atomicity comes from the LU range lock, which every medium-modifying command
// takes: while this command holds its range no other writer can touch it, so the compare and the write see the same
// medium. Reads do not lock and may see the old or the new data, never a mix within one backstore call.
import { invalidField } from '../cdb/cdb.js'
import { type CommandContext, GOOD, type Outcome, checkpoint } from './context.js'
import { firstDifference, miscompare, requireDataOut } from './read-write.js'

export async function compareAndWrite(context: CommandContext<'COMPARE_AND_WRITE'>): Promise<Outcome> {
  const { unit, cdb } = context
  if (cdb.wrprotect !== 0) throw invalidField(cdb.name, 'wrprotect', 'WRPROTECT needs protection information, which this LU does not have')
  unit.checkWritable()
  unit.checkRange(cdb.lba, cdb.blocks)
  if (cdb.blocks > unit.limits.maxCompareAndWriteLength) {
    throw invalidField(cdb.name, 'blocks', `${cdb.blocks} blocks exceed the maximum compare and write length ${unit.limits.maxCompareAndWriteLength}`)
  }
  const length = cdb.blocks * unit.blockSize
  // SBC-3 5.2: the Data-Out Buffer holds the verify instance then the write instance, NUMBER OF LOGICAL BLOCKS each.
  // A buffer of any other size (including data sent with NUMBER OF LOGICAL BLOCKS 0, as when 256 blocks were meant
  // and the one-byte field wrapped) does not describe this command: INVALID FIELD IN CDB at the field, as LIO answers
  // a write whose expected transfer length disagrees with its CDB.
  if (context.expectedDataOutLength !== 2 * length) {
    throw invalidField(cdb.name, 'blocks', `${context.expectedDataOutLength} bytes of data-out for ${cdb.blocks} blocks to compare and write (${2 * length} bytes)`)
  }
  // SBC-3 5.2: NUMBER OF LOGICAL BLOCKS 0 compares and writes nothing, and is not an error.
  if (cdb.blocks === 0) return GOOD
  const data = requireDataOut(context, 2 * length, () => invalidField(cdb.name, 'blocks', 'the data-out buffer is shorter than the verify and write instances'))
  const expected = data.subarray(0, length)
  const replacement = data.subarray(length, 2 * length)
  const fua = unit.writeThrough(cdb.fua)
  await unit.lock.run(cdb.lba, cdb.blocks, async () => {
    checkpoint(context)
    const current = Buffer.allocUnsafe(length)
    await unit.io('read', () => unit.backstore.read(cdb.lba, cdb.blocks, current))
    const at = firstDifference(expected, current)
    // INFORMATION: offset from the start of the data-out buffer of the first byte that differs.
    if (at >= 0) throw miscompare(at)
    await unit.io('write', () => unit.backstore.write(cdb.lba, replacement, { fua }))
  })
  return GOOD
}
