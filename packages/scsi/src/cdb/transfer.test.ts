import { describe, expect, it } from 'vitest'
import { parseCdb } from './cdb.js'
import { buildCompareAndWrite, buildModeSelect10, buildRead10, buildRead6, buildVerify16, buildWrite6, buildWriteSame16, buildInquiry } from './builders.js'
import { dataInBytes, dataOutBytes, transferBlocks } from './transfer.js'

describe('transfer lengths', () => {
  it('READ(6)/WRITE(6) 0 blocks means 256 (SBC-3 5.8), other commands 0 means none', () => {
    expect(transferBlocks(parseCdb(buildRead6({ blocks: 0 })))).toBe(256)
    expect(dataOutBytes(parseCdb(buildWrite6({ blocks: 0 })), 512)).toBe(256 * 512)
    expect(dataInBytes(parseCdb(buildRead10({ blocks: 0 })), 512)).toBe(0)
  })
  it('knows each command kind', () => {
    expect(dataOutBytes(parseCdb(buildCompareAndWrite({ blocks: 2 })), 4096)).toBe(2 * 2 * 4096)
    expect(dataOutBytes(parseCdb(buildVerify16({ blocks: 4, bytchk: 1 })), 512)).toBe(2048)
    expect(dataOutBytes(parseCdb(buildVerify16({ blocks: 4, bytchk: 3 })), 512)).toBe(512)
    expect(dataOutBytes(parseCdb(buildVerify16({ blocks: 4, bytchk: 0 })), 512)).toBe(0)
    expect(dataOutBytes(parseCdb(buildWriteSame16({ blocks: 100 })), 512)).toBe(512)
    expect(dataOutBytes(parseCdb(buildWriteSame16({ blocks: 100, ndob: true })), 512)).toBe(0)
    expect(dataOutBytes(parseCdb(buildModeSelect10({ pf: true, parameterListLength: 28 })), 512)).toBe(28)
    expect(dataInBytes(parseCdb(buildInquiry({ allocationLength: 255 })), 512)).toBe(255)
  })
})
