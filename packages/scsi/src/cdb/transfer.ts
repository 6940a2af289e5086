// How many bytes a command moves, from its CDB (SBC-3 and SPC-4 per command). The transport runs R2Ts for the
// data-out length and reports residuals against both; the initiator sizes its buffers with them.
import type { ParsedCdb } from './cdb.js'

/**
 * Blocks a block command transfers or touches. SBC-3 5.x: READ(6) and WRITE(6) with TRANSFER LENGTH 0 mean 256
 * blocks; every other command's 0 means none (WRITE SAME's 0 is "to the end", decided by the device server).
 */
export function transferBlocks(cdb: ParsedCdb): number {
  if (!('blocks' in cdb)) return 0
  if ((cdb.name === 'READ_6' || cdb.name === 'WRITE_6') && cdb.blocks === 0) return 256
  return cdb.blocks
}

/** Bytes of data-out the CDB asks for (0 for commands without data-out). */
export function dataOutBytes(cdb: ParsedCdb, blockSize: number): number {
  switch (cdb.name) {
    case 'WRITE_6':
    case 'WRITE_10':
    case 'WRITE_12':
    case 'WRITE_16':
    case 'WRITE_AND_VERIFY_10':
    case 'WRITE_AND_VERIFY_12':
    case 'WRITE_AND_VERIFY_16':
    case 'ORWRITE_16':
    case 'WRITE_ATOMIC_16':
      return transferBlocks(cdb) * blockSize
    case 'VERIFY_10':
    case 'VERIFY_12':
    case 'VERIFY_16':
      // SBC-3 5.33: BYTCHK 01b compares every block, 11b one block against each; 00b verifies the medium only.
      return cdb.bytchk === 1 ? cdb.blocks * blockSize : cdb.bytchk === 3 ? blockSize : 0
    case 'COMPARE_AND_WRITE':
      // SBC-3 5.2: the verify instance then the write instance, each NUMBER OF LOGICAL BLOCKS long.
      return 2 * cdb.blocks * blockSize
    case 'WRITE_SAME_10':
      return blockSize
    case 'WRITE_SAME_16':
      // SBC-3 5.43: NDOB means no data-out buffer; the block is zeros.
      return cdb.ndob ? 0 : blockSize
    case 'MODE_SELECT_6':
    case 'MODE_SELECT_10':
    case 'UNMAP':
    case 'SANITIZE':
    case 'PERSISTENT_RESERVE_OUT':
    case 'EXTENDED_COPY':
    case 'RESERVE_6':
    case 'RESERVE_10':
    case 'RELEASE_10':
      return cdb.parameterListLength
    default:
      return 0
  }
}

/** Bytes of data-in the CDB allows: the whole transfer of a read, or the ALLOCATION LENGTH. */
export function dataInBytes(cdb: ParsedCdb, blockSize: number): number {
  switch (cdb.name) {
    case 'READ_6':
    case 'READ_10':
    case 'READ_12':
    case 'READ_16':
      return transferBlocks(cdb) * blockSize
    case 'READ_CAPACITY_10':
      return 8
    default:
      return 'allocationLength' in cdb ? cdb.allocationLength : 0
  }
}
