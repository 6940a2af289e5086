import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { buildRead10, buildRead16, buildWrite10, buildWrite16 } from '@iscsi-ts/scsi'
import { fitsCdb10, readWriteCdb } from './rw-cdb.js'

describe('readWriteCdb', () => {
  it('writes READ(10) and WRITE(16) byte for byte (SBC-3 5.11, 5.35)', () => {
    expect(readWriteCdb(false, 0x01020304, 8, true).toString('hex')).toBe(
      '28' + // READ(10)
        '08' + // FUA
        '01020304' + // LBA
        '00' + // group
        '0008' + // 8 blocks
        '00', // control
    )
    expect(readWriteCdb(true, 2 ** 40 + 5, 0x10000, false).toString('hex')).toBe(
      '8a' + // WRITE(16)
        '00' + // no FUA
        '0000010000000005' + // LBA 2^40 + 5
        '00010000' + // 65536 blocks
        '00' + // group
        '00', // control
    )
  })

  it('chooses the 10-byte form exactly when LBA + blocks fits 32 bits and blocks 16 bits', () => {
    expect(fitsCdb10(0xffffffff - 8, 8)).toBe(true)
    expect(fitsCdb10(0xffffffff - 7, 8)).toBe(true)
    expect(fitsCdb10(0xffffffff - 6, 8)).toBe(false)
    expect(fitsCdb10(0, 0xffff)).toBe(true)
    expect(fitsCdb10(0, 0x10000)).toBe(false)
  })

  it('makes the same bytes as the scsi package builders for any LBA, length and FUA', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (write, lba, blocks, fua) => {
        const big = BigInt(lba)
        const expected = fitsCdb10(lba, blocks)
          ? (write ? buildWrite10 : buildRead10)({ lba: big, blocks, fua })
          : (write ? buildWrite16 : buildRead16)({ lba: big, blocks, fua })
        expect(readWriteCdb(write, lba, blocks, fua)).toEqual(expected)
      }),
      { numRuns: 500 },
    )
  })
})
