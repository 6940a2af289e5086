import { describe, expect, it } from 'vitest'
import { buildModeSelect10, buildModeSelect6, buildModeSense10, buildModeSense6, buildRead10, buildWrite10 } from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const device = testDevice({ 0: memoryUnit({ blocks: 2048, ...options }) })
  return { device, a: new CommandRunner(device, testNexus('a')), b: new CommandRunner(device, testNexus('b')) }
}

const CACHING = hex('08 12 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00')
const CONTROL = hex('0a 0a 02 10 00 00 00 00 ff ff 00 00')

describe('MODE SENSE (SPC-4 6.13, 6.14)', () => {
  it('MODE SENSE(6) of the caching page with a block descriptor', async () => {
    const { a } = setup()
    const result = await a.runReady(0, buildModeSense6({ pageCode: 0x08, allocationLength: 255 }))
    expect(result.dataIn).toEqual(
      Buffer.concat([
        hex(`
          1f           # MODE DATA LENGTH 31
          00           # MEDIUM TYPE
          10           # DEVICE-SPECIFIC PARAMETER: WP 0, DPOFUA 1
          08           # BLOCK DESCRIPTOR LENGTH
          00 00 08 00  # NUMBER OF LOGICAL BLOCKS 2048
          00           # reserved
          00 02 00     # LOGICAL BLOCK LENGTH 512
        `),
        CACHING,
      ]),
    )
  })

  it('MODE SENSE(10) of all pages, with DBD, and a long LBA descriptor with LLBAA', async () => {
    const { a } = setup()
    const all = await a.runReady(0, buildModeSense10({ pageCode: 0x3f, dbd: true, allocationLength: 1024 }))
    const pages = Buffer.concat([hex('01 0a c0 00 00 00 00 00 00 00 00 00'), CACHING, CONTROL, hex('1c 0a 08 00 00 00 00 00 00 00 00 00')])
    expect(all.dataIn).toEqual(Buffer.concat([hex('00 3e 00 10 00 00 00 00'), pages])) // MODE DATA LENGTH 62: 6 + 56 bytes of pages
    const long = await a.run(0, buildModeSense10({ pageCode: 0x0a, llbaa: true, allocationLength: 1024 }))
    expect(long.dataIn).toEqual(
      Buffer.concat([
        hex(`
          00 22        # MODE DATA LENGTH 34: 6 + 16 (descriptor) + 12 (page)
          00 10        # MEDIUM TYPE, DEVICE-SPECIFIC PARAMETER
          01 00        # LONGLBA 1
          00 10        # BLOCK DESCRIPTOR LENGTH 16
          00 00 00 00 00 00 08 00  # NUMBER OF LOGICAL BLOCKS
          00 00 00 00              # reserved
          00 00 02 00              # LOGICAL BLOCK LENGTH
        `),
        CONTROL,
      ]),
    )
  })

  it('reports changeable and default values; saved values are not supported (39/00)', async () => {
    const { a } = setup()
    const changeable = await a.runReady(0, buildModeSense6({ pc: 1, pageCode: 0x0a, dbd: true, allocationLength: 255 }))
    expect(changeable.dataIn!.subarray(4)).toEqual(hex('0a 0a 04 00 08 00 00 00 00 00 00 00'))
    const saved = await a.run(0, buildModeSense6({ pc: 3, pageCode: 0x08, allocationLength: 255 }))
    expect(saved.senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x39, ascq: 0 })
  })

  it('refuses unknown pages and subpages with a field pointer', async () => {
    const { a } = setup()
    await a.clearUnitAttentions(0)
    expect((await a.run(0, buildModeSense6({ pageCode: 0x19, allocationLength: 255 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 2, bit: 5 } })
    expect((await a.run(0, buildModeSense10({ pageCode: 0x08, subpageCode: 1, allocationLength: 255 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 3 } })
    // 3Fh/FFh: all pages and subpages (there are no subpages).
    expect((await a.run(0, buildModeSense6({ pageCode: 0x3f, subpageCode: 0xff, allocationLength: 255 }))).status).toBe(ScsiStatus.GOOD)
  })

  it('sets WP when the LU is read-only', async () => {
    const { a } = setup({ readOnly: true })
    expect((await a.runReady(0, buildModeSense6({ pageCode: 0x08, allocationLength: 255 }))).dataIn![2]).toBe(0x90)
  })
})

describe('MODE SELECT (SPC-4 6.11, 6.12)', () => {
  const select6 = (page: Buffer) => Buffer.concat([hex('00 00 00 00'), page])

  it('changes WCE, reports MODE PARAMETERS CHANGED to the other nexus, and WCE=0 writes through', async () => {
    const { a, b, device } = setup()
    await a.clearUnitAttentions(0)
    await b.clearUnitAttentions(0)
    const noCache = Buffer.from(CACHING)
    noCache[2] = 0x00
    const list = select6(noCache)
    expect((await a.run(0, buildModeSelect6({ pf: true, parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    const sense = await a.run(0, buildModeSense6({ pageCode: 0x08, dbd: true, allocationLength: 255 }))
    expect(sense.dataIn![6]).toBe(0x00)
    expect(device.logicalUnits().get(0)!.pendingUnitAttentions(testNexus('b').id)).toEqual(['MODE_PARAMETERS_CHANGED'])
    expect(device.logicalUnits().get(0)!.pendingUnitAttentions(testNexus('a').id)).toEqual([])
    const ua = await b.run(0, buildRead10({ lba: 0, blocks: 1 }))
    expect(ua.senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x2a, ascq: 0x01 })

    const store = device.logicalUnits().get(0)!.backstore
    const calls: Array<boolean | undefined> = []
    const write = store.write.bind(store)
    store.write = (lba, data, options) => {
      calls.push(options?.fua)
      return write(lba, data, options)
    }
    await a.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })
    expect(calls).toEqual([true])
  })

  it('switches the sense format with D_SENSE', async () => {
    const { a } = setup()
    await a.clearUnitAttentions(0)
    const control = Buffer.from(CONTROL)
    control[2] = 0x02 | 0x04 // GLTSD, D_SENSE
    const list = Buffer.concat([hex('00 00 00 00 00 00 00 00'), control])
    expect((await a.run(0, buildModeSelect10({ pf: true, parameterListLength: list.length }), { dataOut: list })).status).toBe(ScsiStatus.GOOD)
    const failed = await a.run(0, buildRead10({ lba: 5000, blocks: 1 }))
    expect(failed.sense![0]).toBe(0x72)
    expect(failed.senseData).toMatchObject({ format: 'descriptor', asc: 0x21 })
  })

  it('SWP makes writes fail with DATA PROTECT 27/02 and sets WP', async () => {
    const { a } = setup()
    await a.clearUnitAttentions(0)
    const control = Buffer.from(CONTROL)
    control[4] = 0x08
    const list = select6(control)
    await a.run(0, buildModeSelect6({ pf: true, parameterListLength: list.length }), { dataOut: list })
    const write = await a.run(0, buildWrite10({ lba: 0, blocks: 1 }), { dataOut: Buffer.alloc(512) })
    expect(write.senseData).toMatchObject({ keyName: 'DATA_PROTECT', asc: 0x27, ascq: 0x02 })
    expect((await a.run(0, buildModeSense6({ pageCode: 0x0a, allocationLength: 255 }))).dataIn![2]).toBe(0x90)
  })

  it('refuses changes to bits that are not changeable, pointing into the parameter list', async () => {
    const { a } = setup()
    await a.clearUnitAttentions(0)
    const control = Buffer.from(CONTROL)
    control[5] = 0x40 // TAS
    const list = select6(control)
    const result = await a.run(0, buildModeSelect6({ pf: true, parameterListLength: list.length }), { dataOut: list })
    expect(result.senseData).toMatchObject({ asc: 0x26, ascq: 0x00, fieldPointer: { inCdb: false, byte: 9, bit: 6 } })
  })

  it('checks the header, block descriptor, page length and the CDB', async () => {
    const { a } = setup()
    await a.clearUnitAttentions(0)
    const run = (cdb: Buffer, list: Buffer) => a.run(0, cdb, { dataOut: list })
    // A block descriptor with the LU's block size is accepted; another size is not.
    const descriptor = hex('00 00 08 00 00 00 02 00')
    const ok = Buffer.concat([hex('00 00 00 08'), descriptor, CACHING])
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: ok.length }), ok)).status).toBe(ScsiStatus.GOOD)
    const bad = Buffer.concat([hex('00 00 00 08 00 00 08 00 00 00 10 00'), CACHING])
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: bad.length }), bad)).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 9 } })
    const wrongLength = Buffer.concat([hex('00 00 00 00 08 11'), CACHING.subarray(2)])
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: wrongLength.length }), wrongLength)).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 5 } })
    const truncated = select6(CACHING.subarray(0, 10))
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: truncated.length }), truncated)).senseData).toMatchObject({ asc: 0x1a })
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: 24 }), Buffer.alloc(10))).senseData).toMatchObject({ asc: 0x1a })
    expect((await run(buildModeSelect6({ pf: true, sp: true, parameterListLength: 24 }), select6(CACHING))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 1, bit: 0 } })
    expect((await run(buildModeSelect6({ parameterListLength: 24 }), select6(CACHING))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 1, bit: 4 } })
    const unknown = select6(hex('19 02 00 00'))
    expect((await run(buildModeSelect6({ pf: true, parameterListLength: unknown.length }), unknown)).senseData).toMatchObject({ asc: 0x26, fieldPointer: { inCdb: false, byte: 4, bit: 5 } })
  })
})
