import { describe, expect, it } from 'vitest'
import { accessRule } from './access-table.js'

describe('reservation access table (SPC-4 5.9.1 table 62, SBC-3 4.17.2 table 13)', () => {
  it('classifies plain operation codes', () => {
    expect(accessRule(Buffer.from([0x12]))).toEqual({ pr: 'allowed', spc2: 'allowed' }) // INQUIRY
    expect(accessRule(Buffer.from([0x00]))).toEqual({ pr: 'allowed', spc2: 'conflict' }) // TEST UNIT READY
    expect(accessRule(Buffer.from([0x28]))).toEqual({ pr: 'read', spc2: 'conflict' }) // READ(10)
    expect(accessRule(Buffer.from([0x2a]))).toEqual({ pr: 'write', spc2: 'conflict' }) // WRITE(10)
    expect(accessRule(Buffer.from([0x5f]))).toEqual({ pr: 'pr-out', spc2: 'conflict' }) // PERSISTENT RESERVE OUT
    expect(accessRule(Buffer.from([0xc0]))).toEqual({ pr: 'write', spc2: 'conflict' }) // vendor specific: most restrictive
    expect(accessRule(Buffer.alloc(0))).toEqual({ pr: 'write', spc2: 'conflict' })
  })

  it('looks at the CDB fields that the tables distinguish', () => {
    // START STOP UNIT: START=1, POWER CONDITION 0h is allowed; stopping is not.
    expect(accessRule(Buffer.from([0x1b, 0, 0, 0, 0x01, 0])).pr).toBe('allowed')
    expect(accessRule(Buffer.from([0x1b, 0, 0, 0, 0x00, 0])).pr).toBe('write')
    expect(accessRule(Buffer.from([0x1b, 0, 0, 0, 0x31, 0])).pr).toBe('write')
    // PREVENT ALLOW MEDIUM REMOVAL: only PREVENT=00b is allowed.
    expect(accessRule(Buffer.from([0x1e, 0, 0, 0, 0x00, 0])).spc2).toBe('allowed')
    expect(accessRule(Buffer.from([0x1e, 0, 0, 0, 0x01, 0])).spc2).toBe('conflict')
    // SERVICE ACTION IN(16): READ CAPACITY(16) vs GET LBA STATUS.
    expect(accessRule(Buffer.from([0x9e, 0x10])).pr).toBe('allowed')
    expect(accessRule(Buffer.from([0x9e, 0x12])).pr).toBe('read')
    // MAINTENANCE IN: REPORT TARGET PORT GROUPS vs REPORT SUPPORTED OPERATION CODES.
    expect(accessRule(Buffer.from([0xa3, 0x0a])).spc2).toBe('allowed')
    expect(accessRule(Buffer.from([0xa3, 0x0c]))).toEqual({ pr: 'read', spc2: 'conflict' })
    // Variable length: READ(32) reads, WRITE(32) writes.
    const read32 = Buffer.alloc(32)
    read32[0] = 0x7f
    read32[9] = 0x09
    expect(accessRule(read32).pr).toBe('read')
    read32[9] = 0x0b
    expect(accessRule(read32).pr).toBe('write')
    // A truncated CDB reads missing bytes as zero instead of throwing.
    expect(accessRule(Buffer.from([0x7f])).pr).toBe('write')
  })
})
