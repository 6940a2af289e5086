// READ CAPACITY(10) and (16), SBC-3 5.15-5.16.
import { invalidField } from '../cdb/cdb.js'
import type { CommandContext, Outcome } from './context.js'

export function readCapacity10(context: CommandContext<'READ_CAPACITY_10'>): Outcome {
  const { unit, cdb } = context
  // SBC-3 5.15: PMI 0 with a nonzero LOGICAL BLOCK ADDRESS is an error.
  if (!cdb.pmi && cdb.lba !== 0) throw invalidField('READ_CAPACITY_10', 'lba', 'LOGICAL BLOCK ADDRESS must be 0 when PMI is 0')
  const data = Buffer.alloc(8)
  const last = Math.max(unit.blockCount - 1, 0)
  // A last LBA beyond FFFFFFFEh is reported as FFFFFFFFh: the initiator must use READ CAPACITY(16).
  data.writeUInt32BE(last > 0xfffffffe ? 0xffffffff : last, 0)
  data.writeUInt32BE(unit.blockSize, 4)
  return { data }
}

export function readCapacity16(context: CommandContext<'READ_CAPACITY_16'>): Outcome {
  const { unit, cdb } = context
  if (!cdb.pmi && cdb.lba !== 0) throw invalidField('READ_CAPACITY_16', 'lba', 'LOGICAL BLOCK ADDRESS must be 0 when PMI is 0')
  const data = Buffer.alloc(32)
  data.writeBigUInt64BE(BigInt(Math.max(unit.blockCount - 1, 0)), 0) // RETURNED LOGICAL BLOCK ADDRESS
  data.writeUInt32BE(unit.blockSize, 8) // LOGICAL BLOCK LENGTH IN BYTES
  // byte 12: P_TYPE 0, PROT_EN 0 (no protection information)
  data[13] = unit.physicalBlockExponent & 0x0f // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
  if (unit.thin) data[14] = 0x80 | 0x40 // LBPME, LBPRZ; LOWEST ALIGNED LOGICAL BLOCK ADDRESS 0
  return { data }
}
