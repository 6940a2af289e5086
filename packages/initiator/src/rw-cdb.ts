// READ and WRITE CDBs for the I/O path, written byte by byte: READ(10) 0x28 and WRITE(10) 0x2a (SBC-3 5.11, 5.32)
// when the LBA range fits 32 bits and the length 16 bits, READ(16) 0x88 and WRITE(16) 0x8a (SBC-3 5.13, 5.35)
// otherwise. @iscsi-ts/scsi's table-driven builders make the same bytes (the tests compare them) for any command;
// these two are the ones every I/O needs, so they skip the table walk.

const U32 = 0x1_0000_0000

/** The 10-byte form fits: LBA and LBA + blocks - 1 within 32 bits, blocks within 16 bits (SBC-3 5.11, 5.32). */
export function fitsCdb10(lba: number, blocks: number): boolean {
  return lba + blocks <= U32 && blocks <= 0xffff
}

/**
 * READ(10)/(16) or WRITE(10)/(16) of `blocks` blocks at `lba` (a safe integer), FUA in byte 1 bit 3; protection,
 * DPO, group number and control are zero. The caller checked that `lba` and `blocks` are in range.
 */
export function readWriteCdb(write: boolean, lba: number, blocks: number, fua: boolean): Buffer {
  // allocUnsafe takes small buffers from Node's shared pool (Buffer.alloc would make an ArrayBuffer per command);
  // every byte is written below.
  if (fitsCdb10(lba, blocks)) {
    const cdb = Buffer.allocUnsafe(10)
    cdb[0] = write ? 0x2a : 0x28
    cdb[1] = fua ? 0x08 : 0
    put32(cdb, 2, lba)
    cdb[6] = 0
    cdb[7] = blocks >>> 8
    cdb[8] = blocks
    cdb[9] = 0
    return cdb
  }
  const cdb = Buffer.allocUnsafe(16)
  cdb[0] = write ? 0x8a : 0x88
  cdb[1] = fua ? 0x08 : 0
  put32(cdb, 2, Math.floor(lba / U32))
  put32(cdb, 6, lba >>> 0)
  put32(cdb, 10, blocks)
  cdb[14] = 0
  cdb[15] = 0
  return cdb
}

function put32(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value >>> 24
  buf[offset + 1] = value >>> 16
  buf[offset + 2] = value >>> 8
  buf[offset + 3] = value
}
