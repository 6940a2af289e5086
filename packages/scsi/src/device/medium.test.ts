import { describe, expect, it } from 'vitest'
import { buildPreventAllowMediumRemoval, buildRead10, buildReadCapacity10, buildRequestSense, buildStartStopUnit, buildTestUnitReady } from '../cdb/builders.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'

async function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const device = testDevice({ 0: memoryUnit(options) })
  const a = new CommandRunner(device, testNexus('a'))
  const b = new CommandRunner(device, testNexus('b'))
  await a.clearUnitAttentions(0)
  await b.clearUnitAttentions(0)
  return { device, a, b }
}

describe('START STOP UNIT (SBC-3 5.25)', () => {
  it('ejects and loads a removable medium; medium access fails with NOT READY, MEDIUM NOT PRESENT meanwhile', async () => {
    const { a, b } = await setup({ removable: true })
    expect((await a.run(0, buildStartStopUnit({ loej: true, start: false }))).status).toBe(ScsiStatus.GOOD)
    for (const cdb of [buildTestUnitReady(), buildRead10({ lba: 0, blocks: 1 }), buildReadCapacity10()]) {
      expect((await a.run(0, cdb)).senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x3a })
    }
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 252 }))).dataIn!)).toMatchObject({ keyName: 'NOT_READY', asc: 0x3a })
    expect((await a.run(0, buildStartStopUnit({ loej: true, start: true }))).status).toBe(ScsiStatus.GOOD)
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
    // The same medium is back: no nexus is told it may have changed (libiscsi's suite cleanup sends PERSISTENT
    // RESERVE IN on the other nexus right after NoMedia and expects GOOD).
    expect((await b.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
  })

  it('a medium changed from outside (setMedium) is NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED for every nexus', async () => {
    const { a, b, device } = await setup({ removable: true })
    const unit = device.logicalUnits().get(0)!
    unit.setMedium(false)
    expect((await a.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'NOT_READY', asc: 0x3a, ascq: 0x02 })
    unit.setMedium(true)
    for (const runner of [a, b]) expect((await runner.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x28, ascq: 0 })
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
  })

  it('refuses LOEJ for a fixed medium', async () => {
    const { a } = await setup()
    expect((await a.run(0, buildStartStopUnit({ loej: true, immed: true }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 4, bit: 1 } })
  })

  it('stop flushes the cache unless NO_FLUSH, and the next medium access starts the LU again', async () => {
    const { a, device } = await setup()
    const store = device.logicalUnits().get(0)!.backstore
    let flushes = 0
    const flush = store.flush.bind(store)
    store.flush = () => {
      flushes++
      return flush()
    }
    await a.run(0, buildStartStopUnit({ start: false }))
    expect(flushes).toBe(1)
    await a.run(0, buildStartStopUnit({ start: false, noFlush: true }))
    expect(flushes).toBe(1)
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ keyName: 'NO_SENSE', asc: 0x5e, ascq: 0x00 })
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ keyName: 'NO_SENSE', asc: 0, ascq: 0 })
  })

  it('enters idle and standby by POWER CONDITION and refuses unknown conditions and modifiers', async () => {
    const { a } = await setup()
    await a.run(0, buildStartStopUnit({ powerCondition: 0x2, powerConditionModifier: 1 }))
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ asc: 0x5e, ascq: 0x03 })
    await a.run(0, buildStartStopUnit({ powerCondition: 0x3 }))
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ asc: 0x5e, ascq: 0x04 })
    await a.run(0, buildStartStopUnit({ powerCondition: 0x1 }))
    expect(decodeSense((await a.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)).toMatchObject({ asc: 0, ascq: 0 })
    expect((await a.run(0, buildStartStopUnit({ powerCondition: 0x5 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 4, bit: 7 } })
    expect((await a.run(0, buildStartStopUnit({ powerCondition: 0x3, powerConditionModifier: 2 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 3, bit: 3 } })
  })
})

describe('PREVENT ALLOW MEDIUM REMOVAL (SBC-3 5.12)', () => {
  it('prevents eject and load per I_T nexus until every preventer allows', async () => {
    const { a, b } = await setup({ removable: true })
    await a.run(0, buildPreventAllowMediumRemoval({ prevent: 1 }))
    await b.run(0, buildPreventAllowMediumRemoval({ prevent: 1 }))
    expect((await a.run(0, buildStartStopUnit({ loej: true }))).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x53, ascq: 0x02 })
    await a.run(0, buildPreventAllowMediumRemoval({ prevent: 0 }))
    expect((await a.run(0, buildStartStopUnit({ loej: true }))).senseData).toMatchObject({ asc: 0x53 })
    await b.run(0, buildPreventAllowMediumRemoval({ prevent: 0 }))
    expect((await a.run(0, buildStartStopUnit({ loej: true }))).status).toBe(ScsiStatus.GOOD)
    expect((await a.run(0, buildPreventAllowMediumRemoval({ prevent: 2 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 4, bit: 1 } })
  })

  it('is released by a LU reset and by the loss of the preventing nexus', async () => {
    const { a, b, device } = await setup({ removable: true })
    await a.run(0, buildPreventAllowMediumRemoval({ prevent: 1 }))
    device.lunReset(a.nexus, 0)
    await a.clearUnitAttentions(0)
    expect((await a.run(0, buildStartStopUnit({ loej: true }))).status).toBe(ScsiStatus.GOOD)
    await a.run(0, buildStartStopUnit({ loej: true, start: true }))
    await b.run(0, buildPreventAllowMediumRemoval({ prevent: 1 }))
    device.nexusLoss(b.nexus)
    expect((await a.run(0, buildStartStopUnit({ loej: true }))).status).toBe(ScsiStatus.GOOD)
  })

  it('is not supported by a fixed medium', async () => {
    const { a } = await setup()
    expect((await a.run(0, buildPreventAllowMediumRemoval({ prevent: 1 }))).senseData).toMatchObject({ asc: 0x20 })
  })
})
