import { describe, expect, it } from 'vitest'
import { buildReportLuns, buildRequestSense, buildTestUnitReady } from '../cdb/builders.js'
import { decodeReportLuns } from '../data/capacity.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

describe('REPORT LUNS (SPC-4 6.33)', () => {
  it('lists the inventory in ascending order, from any LUN', async () => {
    const device = testDevice({ 3: memoryUnit(), 0: memoryUnit(), 300: memoryUnit() })
    const runner = new CommandRunner(device)
    const result = await runner.run(7, buildReportLuns({ allocationLength: 256 }))
    expect(result.dataIn).toEqual(
      hex(`
        00 00 00 18              # LUN LIST LENGTH 24
        00 00 00 00              # reserved
        00 00 00 00 00 00 00 00  # LUN 0 (peripheral device addressing)
        00 03 00 00 00 00 00 00  # LUN 3
        41 2c 00 00 00 00 00 00  # LUN 300 (flat space addressing)
      `),
    )
    expect(decodeReportLuns(result.dataIn!).luns).toEqual([0, 3, 300])
    expect((await runner.run(0, buildReportLuns({ selectReport: 1, allocationLength: 16 }))).dataIn).toEqual(hex('00000000 00000000'))
    expect((await runner.run(0, buildReportLuns({ selectReport: 2, allocationLength: 16 }))).dataInLength).toBe(16)
  })

  it('refuses an allocation length below 16 and unknown SELECT REPORT values', async () => {
    const runner = new CommandRunner(testDevice(1))
    expect((await runner.run(0, buildReportLuns({ allocationLength: 15 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 6 } })
    expect((await runner.run(0, buildReportLuns({ selectReport: 0x10, allocationLength: 64 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 2 } })
  })
})

describe('LUNs without a logical unit (SPC-4 6.4.2, SAM-5 5.9.5)', () => {
  it('answer LOGICAL UNIT NOT SUPPORTED, except REQUEST SENSE which reports it as data', async () => {
    const runner = new CommandRunner(testDevice(1))
    expect((await runner.run(4, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x25, ascq: 0 })
    expect((await runner.run(4, Buffer.from([0xc0, 0, 0, 0, 0, 0]))).senseData).toMatchObject({ asc: 0x25 })
    const sense = await runner.run(4, buildRequestSense({ allocationLength: 252 }))
    expect(sense.status).toBe(ScsiStatus.GOOD)
    expect(decodeSense(sense.dataIn!)).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x25 })
  })
})
