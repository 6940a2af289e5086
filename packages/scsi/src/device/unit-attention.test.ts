import { describe, expect, it } from 'vitest'
import { buildInquiry, buildReadCapacity10, buildReportLuns, buildRequestSense, buildTestUnitReady } from '../cdb/builders.js'
import { decodeSense } from '../sense/sense-data.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'
import { UnitAttentions } from './unit-attention.js'

describe('UnitAttentions', () => {
  it('starts a nexus with power on, queues without duplicates, and lets a reset supersede', () => {
    const attentions = new UnitAttentions()
    attentions.touch('n')
    attentions.establish('n', 'MODE_PARAMETERS_CHANGED')
    attentions.establish('n', 'MODE_PARAMETERS_CHANGED')
    expect(attentions.list('n')).toEqual(['POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED', 'MODE_PARAMETERS_CHANGED'])
    attentions.establish('n', 'BUS_DEVICE_RESET_FUNCTION_OCCURRED')
    expect(attentions.list('n')).toEqual(['BUS_DEVICE_RESET_FUNCTION_OCCURRED'])
    expect(attentions.take('n')).toBe('BUS_DEVICE_RESET_FUNCTION_OCCURRED')
    expect(attentions.take('n')).toBeUndefined()
    attentions.touch('n')
    expect(attentions.peek('n')).toBeUndefined()
  })

  it('keeps the state of at most maxDeparted departed nexuses; an evicted one comes back as new (SAM-5 6.3.1)', () => {
    const attentions = new UnitAttentions(3)
    for (let i = 0; i < 10; i++) {
      attentions.touch(`n${i}`)
      attentions.take(`n${i}`)
      attentions.depart(`n${i}`)
    }
    expect([...attentions.nexusIds()]).toEqual(['n7', 'n8', 'n9'])
    expect(attentions.list('n9')).toEqual(['I_T_NEXUS_LOSS_OCCURRED'])
    expect(attentions.list('n0')).toEqual([])
    attentions.touch('n0')
    expect(attentions.list('n0')).toEqual(['POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED'])
    // A nexus that is back no longer counts as departed: it is not evicted by later departures.
    attentions.touch('n7')
    for (let i = 10; i < 15; i++) {
      attentions.touch(`n${i}`)
      attentions.depart(`n${i}`)
    }
    expect([...attentions.nexusIds()]).toEqual(['n7', 'n0', 'n12', 'n13', 'n14'])
    expect(attentions.list('n7')).toEqual(['I_T_NEXUS_LOSS_OCCURRED'])
  })

  it('ignores the departure of a nexus it never saw', () => {
    const attentions = new UnitAttentions(1)
    attentions.depart('stranger')
    expect([...attentions.nexusIds()]).toEqual([])
    expect(attentions.list('stranger')).toEqual([])
  })
})

describe('unit attention sequences (SAM-5 5.14)', () => {
  it('a new nexus gets POWER ON, RESET; INQUIRY and REPORT LUNS neither report nor clear it', async () => {
    const runner = new CommandRunner(testDevice(1))
    expect((await runner.run(0, buildInquiry({ allocationLength: 36 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildReportLuns({ allocationLength: 64 }))).status).toBe(ScsiStatus.GOOD)
    const first = await runner.run(0, buildReadCapacity10())
    expect(first.status).toBe(ScsiStatus.CHECK_CONDITION)
    expect(first.senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x29, ascq: 0x00 })
    expect((await runner.run(0, buildReadCapacity10())).status).toBe(ScsiStatus.GOOD)
  })

  it('every LU has its own conditions per nexus', async () => {
    const device = testDevice(2)
    const a = new CommandRunner(device, testNexus('a'))
    const b = new CommandRunner(device, testNexus('b'))
    await a.clearUnitAttentions(0)
    expect((await a.run(1, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x29 })
    expect((await b.run(0, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x29 })
  })

  it('adding or removing a LU raises REPORTED LUNS DATA HAS CHANGED; REPORT LUNS clears it on every LU', async () => {
    const device = testDevice(2)
    const runner = new CommandRunner(device)
    await runner.clearUnitAttentions(0)
    await runner.clearUnitAttentions(1)
    device.addLogicalUnit(5, memoryUnit())
    expect(device.logicalUnits().get(1)!.pendingUnitAttentions(runner.nexus.id)).toEqual(['REPORTED_LUNS_DATA_HAS_CHANGED'])
    expect((await runner.run(0, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x3f, ascq: 0x0e })
    expect((await runner.run(0, buildReportLuns({ allocationLength: 64 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(1, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
    device.removeLogicalUnit(5)
    expect((await runner.run(0, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x3f, ascq: 0x0e })
    expect(device.logicalUnits().has(5)).toBe(false)
  })

  it('a resize raises CAPACITY DATA HAS CHANGED for every nexus', async () => {
    const device = testDevice(1)
    const a = new CommandRunner(device, testNexus('a'))
    const b = new CommandRunner(device, testNexus('b'))
    await a.clearUnitAttentions(0)
    await b.clearUnitAttentions(0)
    await device.logicalUnits().get(0)!.resize(4096)
    for (const runner of [a, b]) expect((await runner.run(0, buildReadCapacity10())).senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x2a, ascq: 0x09 })
    expect((await a.run(0, buildReadCapacity10())).dataIn!.readUInt32BE(0)).toBe(4095)
  })

  it('REQUEST SENSE reports and clears conditions one at a time, in order', async () => {
    const device = testDevice(1)
    const runner = new CommandRunner(device)
    await runner.clearUnitAttentions(0)
    device.addLogicalUnit(1, memoryUnit())
    await device.logicalUnits().get(0)!.resize(100)
    const codes: Array<[number, number]> = []
    for (let i = 0; i < 3; i++) {
      const sense = decodeSense((await runner.run(0, buildRequestSense({ allocationLength: 18 }))).dataIn!)
      codes.push([sense.asc, sense.ascq])
    }
    expect(codes).toEqual([
      [0x3f, 0x0e],
      [0x2a, 0x09],
      [0x00, 0x00],
    ])
  })
})
