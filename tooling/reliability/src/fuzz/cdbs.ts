// CDBs the fuzzer starts from (SBC-3 / SPC-4 layouts), written out byte by byte so that a seed is exactly what the
// standard says and nothing else.

export function cdb6(opcode: number, fill: (cdb: Buffer) => void = () => undefined): Buffer {
  const cdb = Buffer.alloc(6)
  cdb[0] = opcode
  fill(cdb)
  return cdb
}

export function testUnitReady(): Buffer {
  return cdb6(0x00)
}

export function requestSense(allocation = 252): Buffer {
  return cdb6(0x03, (c) => (c[4] = allocation & 0xff))
}

/** INQUIRY (SPC-4 6.6): standard data, or a VPD page with EVPD=1. */
export function inquiry(allocation: number, page?: number): Buffer {
  return cdb6(0x12, (c) => {
    if (page !== undefined) {
      c[1] = 0x01
      c[2] = page
    }
    c.writeUInt16BE(allocation & 0xffff, 3)
  })
}

export function modeSense6(page: number, allocation = 255): Buffer {
  return cdb6(0x1a, (c) => {
    c[2] = page & 0x3f
    c[4] = allocation & 0xff
  })
}

export function readCapacity10(): Buffer {
  return Buffer.from([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
}

/** SERVICE ACTION IN(16) / READ CAPACITY(16) (SBC-3 5.16). */
export function readCapacity16(allocation = 32): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = 0x9e
  cdb[1] = 0x10
  cdb.writeUInt32BE(allocation, 10)
  return cdb
}

export function reportLuns(allocation = 4096): Buffer {
  const cdb = Buffer.alloc(12)
  cdb[0] = 0xa0
  cdb.writeUInt32BE(allocation, 6)
  return cdb
}

function rw10(opcode: number, lba: number, blocks: number, flags = 0): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = opcode
  cdb[1] = flags
  cdb.writeUInt32BE(lba >>> 0, 2)
  cdb.writeUInt16BE(blocks & 0xffff, 7)
  return cdb
}

function rw16(opcode: number, lba: number, blocks: number, flags = 0): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = opcode
  cdb[1] = flags
  cdb.writeBigUInt64BE(BigInt(lba), 2)
  cdb.writeUInt32BE(blocks >>> 0, 10)
  return cdb
}

export function read10(lba: number, blocks: number): Buffer {
  return rw10(0x28, lba, blocks)
}

/** WRITE(10); `fua` sets the FUA bit (SBC-3 5.40). */
export function write10(lba: number, blocks: number, fua = false): Buffer {
  return rw10(0x2a, lba, blocks, fua ? 0x08 : 0)
}

export function read16(lba: number, blocks: number): Buffer {
  return rw16(0x88, lba, blocks)
}

export function write16(lba: number, blocks: number, fua = false): Buffer {
  return rw16(0x8a, lba, blocks, fua ? 0x08 : 0)
}

export function verify10(lba: number, blocks: number): Buffer {
  return rw10(0x2f, lba, blocks)
}

/** WRITE SAME(10) with one block of data-out (SBC-3 5.41). */
export function writeSame10(lba: number, blocks: number): Buffer {
  return rw10(0x41, lba, blocks)
}

export function synchronizeCache10(lba = 0, blocks = 0): Buffer {
  return rw10(0x35, lba, blocks)
}

/** COMPARE AND WRITE (SBC-3 5.2): 2*blocks blocks of data-out (verify data, then write data). */
export function compareAndWrite(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = 0x89
  cdb.writeBigUInt64BE(BigInt(lba), 2)
  cdb[13] = blocks & 0xff
  return cdb
}

/** UNMAP (SBC-3 5.28) with a parameter list of `length` bytes. */
export function unmap(length: number): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x42
  cdb.writeUInt16BE(length, 7)
  return cdb
}

/** UNMAP parameter list for one extent. */
export function unmapParameters(lba: number, blocks: number): Buffer {
  const list = Buffer.alloc(24)
  list.writeUInt16BE(22, 0)
  list.writeUInt16BE(16, 2)
  list.writeBigUInt64BE(BigInt(lba), 8)
  list.writeUInt32BE(blocks, 16)
  return list
}

/** PERSISTENT RESERVE OUT (SPC-4 6.16) with its 24-byte parameter list. */
export function persistentReserveOut(serviceAction: number, type: number): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x5f
  cdb[1] = serviceAction & 0x1f
  cdb[2] = type & 0x0f
  cdb.writeUInt32BE(24, 5)
  return cdb
}

export function persistentReserveOutParameters(key: bigint, serviceActionKey: bigint): Buffer {
  const list = Buffer.alloc(24)
  list.writeBigUInt64BE(key, 0)
  list.writeBigUInt64BE(serviceActionKey, 8)
  return list
}

export function persistentReserveIn(serviceAction: number, allocation = 1024): Buffer {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x5e
  cdb[1] = serviceAction & 0x1f
  cdb.writeUInt16BE(allocation, 7)
  return cdb
}

/** GET LBA STATUS (SBC-3 5.7). */
export function getLbaStatus(lba: number, allocation = 64): Buffer {
  const cdb = Buffer.alloc(16)
  cdb[0] = 0x9e
  cdb[1] = 0x12
  cdb.writeBigUInt64BE(BigInt(lba), 2)
  cdb.writeUInt32BE(allocation, 10)
  return cdb
}
