import { describe, expect, it } from 'vitest'
import { cdbUsageData } from './usage.js'

describe('CDB usage data (SPC-4 6.35.3)', () => {
  it('READ(16): opcode, then every evaluated bit', () => {
    expect(cdbUsageData('READ_16')).toEqual(
      Buffer.from([
        0x88, // OPERATION CODE
        0xfc, // RDPROTECT, DPO, FUA, RARC
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // LBA
        0xff, 0xff, 0xff, 0xff, // TRANSFER LENGTH
        0x1f, // GROUP NUMBER
        0x00, // CONTROL: NACA not supported
      ]),
    )
  })
  it('a service action command carries its service action in the SERVICE ACTION field', () => {
    expect(cdbUsageData('READ_CAPACITY_16')).toEqual(Buffer.from([0x9e, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]))
    expect(cdbUsageData('PERSISTENT_RESERVE_OUT', 0x05)).toEqual(Buffer.from([0x5f, 0x05, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00]))
    expect(cdbUsageData('SANITIZE', 0x02)[1]).toBe(0xa2)
  })
})
