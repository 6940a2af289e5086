import { describe, expect, it } from 'vitest'
import { buildReadDefectData10, buildReadDefectData12 } from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

async function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const runner = new CommandRunner(testDevice({ 0: memoryUnit(options) }))
  await runner.clearUnitAttentions(0)
  return runner
}

describe('READ DEFECT DATA(10) (SBC-3 5.11)', () => {
  it('builds its CDB', () => {
    expect(buildReadDefectData10({ reqPlist: true, reqGlist: true, defectListFormat: 0b011, allocationLength: 0x1234 })).toEqual(
      hex(`
        37     # 0: OPERATION CODE READ DEFECT DATA(10)
        00     # 1: reserved
        1b     # 2: REQ_PLIST 1, REQ_GLIST 1, DEFECT LIST FORMAT 011b (long block)
        00 00 00 00  # 3-6: reserved
        12 34  # 7-8: ALLOCATION LENGTH
        00     # 9: CONTROL
      `),
    )
  })

  it('returns an empty list: the header only, with the lists asked for marked valid, in the format asked for', async () => {
    const runner = await setup()
    const none = await runner.run(0, buildReadDefectData10({ allocationLength: 32 }))
    expect(none).toMatchObject({ status: ScsiStatus.GOOD, dataInLength: 4 })
    expect(none.dataIn).toEqual(
      hex(`
        00     # 0: reserved
        00     # 1: PLISTV 0, GLISTV 0, DEFECT LIST FORMAT 000b (short block)
        00 00  # 2-3: DEFECT LIST LENGTH 0
      `),
    )
    const both = await runner.run(0, buildReadDefectData10({ reqPlist: true, reqGlist: true, defectListFormat: 0b101, allocationLength: 32 }))
    expect(both.dataIn).toEqual(hex('00 1d 0000')) // PLISTV 1, GLISTV 1, physical sector format 101b, no descriptors
    const grown = await runner.run(0, buildReadDefectData10({ reqGlist: true, defectListFormat: 0b100, allocationLength: 32 }))
    expect(grown.dataIn).toEqual(hex('00 0c 0000')) // GLISTV 1, bytes from index format 100b
  })

  it('is cut to the allocation length', async () => {
    const result = await (await setup()).run(0, buildReadDefectData10({ reqPlist: true, allocationLength: 2 }))
    expect(result.dataIn).toEqual(hex('00 10'))
    expect(result.dataInLength).toBe(2)
  })

  it('refuses a reserved or vendor-specific DEFECT LIST FORMAT, and reserved CDB bits, with INVALID FIELD IN CDB', async () => {
    const runner = await setup()
    for (const format of [0b001, 0b010, 0b110, 0b111]) {
      const result = await runner.run(0, buildReadDefectData10({ defectListFormat: format, allocationLength: 32 }))
      expect(result.senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24, ascq: 0x00, fieldPointer: { inCdb: true, byte: 2, bit: 2 } })
    }
    const cdb = buildReadDefectData10({ allocationLength: 32 })
    cdb[4] = 0x01 // a reserved byte
    expect((await runner.run(0, cdb)).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 4, bit: 0 } })
  })

  it('needs a medium: NOT READY, MEDIUM NOT PRESENT once a removable medium is ejected', async () => {
    const runner = await setup({ removable: true })
    runner.device.logicalUnits().get(0)!.setMedium(false)
    expect((await runner.run(0, buildReadDefectData10({ allocationLength: 32 }))).senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x3a })
  })
})

describe('READ DEFECT DATA(12) (SBC-3 5.12)', () => {
  it('builds its CDB', () => {
    expect(buildReadDefectData12({ reqGlist: true, defectListFormat: 0b011, addressDescriptorIndex: 7, allocationLength: 0x10000 })).toEqual(
      hex(`
        b7           # 0: OPERATION CODE READ DEFECT DATA(12)
        0b           # 1: REQ_PLIST 0, REQ_GLIST 1, DEFECT LIST FORMAT 011b
        00 00 00 07  # 2-5: ADDRESS DESCRIPTOR INDEX 7
        00 01 00 00  # 6-9: ALLOCATION LENGTH 65536
        00           # 10: reserved
        00           # 11: CONTROL
      `),
    )
  })

  it('returns the 8-byte header of an empty list whatever the address descriptor index', async () => {
    const runner = await setup()
    for (const addressDescriptorIndex of [0, 1, 0xffffffff]) {
      const result = await runner.run(0, buildReadDefectData12({ reqPlist: true, reqGlist: true, addressDescriptorIndex, allocationLength: 64 }))
      expect(result).toMatchObject({ status: ScsiStatus.GOOD, dataInLength: 8 })
      expect(result.dataIn).toEqual(
        hex(`
          00           # 0: reserved
          18           # 1: PLISTV 1, GLISTV 1, DEFECT LIST FORMAT 000b
          00 00        # 2-3: GENERATION CODE 0 (not reported)
          00 00 00 00  # 4-7: DEFECT LIST LENGTH 0
        `),
      )
    }
    expect((await runner.run(0, buildReadDefectData12({ defectListFormat: 0b111, allocationLength: 64 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 1, bit: 2 } })
  })
})
