import { describe, expect, it } from 'vitest'
import { buildReportSupportedOperationCodes, buildReportSupportedTaskManagementFunctions } from '../cdb/builders.js'
import { commandNames, commandSpec } from '../cdb/commands.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice } from '../testing.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

async function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const runner = new CommandRunner(testDevice({ 0: memoryUnit(options) }))
  await runner.clearUnitAttentions(0)
  return runner
}

/** Decode the all_commands list into [opcode, service action, SERVACTV, CDB length]. */
function commands(data: Buffer, rctd: boolean): Array<[number, number, boolean, number]> {
  const out: Array<[number, number, boolean, number]> = []
  const end = 4 + data.readUInt32BE(0)
  for (let offset = 4; offset < end; offset += rctd ? 20 : 8) {
    out.push([data[offset]!, data.readUInt16BE(offset + 2), (data[offset + 5]! & 0x01) !== 0, data.readUInt16BE(offset + 6)])
    expect((data[offset + 5]! & 0x02) !== 0).toBe(rctd)
    if (rctd) expect(data.subarray(offset + 8, offset + 10)).toEqual(hex('000a'))
  }
  return out
}

describe('REPORT SUPPORTED OPERATION CODES (SPC-4 6.35)', () => {
  it('lists every command the LU supports, each service action apart', async () => {
    const runner = await setup({ thinProvisioned: true })
    const result = await runner.run(0, buildReportSupportedOperationCodes({ allocationLength: 4096 }))
    expect(result.status).toBe(ScsiStatus.GOOD)
    const list = commands(result.dataIn!, false)
    expect(list).toContainEqual([0x88, 0, false, 16]) // READ(16)
    expect(list).toContainEqual([0x9e, 0x10, true, 16]) // READ CAPACITY(16)
    expect(list).toContainEqual([0x9e, 0x12, true, 16]) // GET LBA STATUS
    expect(list).toContainEqual([0x42, 0, false, 10]) // UNMAP (thin)
    expect(list.filter(([opcode]) => opcode === 0x5f)).toHaveLength(8) // PERSISTENT RESERVE OUT: 8 service actions
    expect(list.filter(([opcode]) => opcode === 0x1e)).toHaveLength(0) // PREVENT ALLOW: fixed medium
    // Sorted by opcode then service action.
    const keys = list.map(([opcode, action]) => opcode * 0x10000 + action)
    expect(keys).toEqual([...keys].sort((a, b) => a - b))
  })

  it('adds timeouts descriptors with RCTD, and leaves out what the LU lacks', async () => {
    const runner = await setup()
    const list = commands((await runner.run(0, buildReportSupportedOperationCodes({ rctd: true, allocationLength: 8192 }))).dataIn!, true)
    expect(list.some(([opcode]) => opcode === 0x42)).toBe(false) // UNMAP: not thin
    expect(list.some(([opcode]) => opcode === 0x9c)).toBe(true) // WRITE ATOMIC(16): memory writes are atomic
  })

  it('reports one command with its CDB usage data', async () => {
    const runner = await setup()
    const result = await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 1, requestedOperationCode: 0x28, allocationLength: 64 }))
    expect(result.dataIn).toEqual(
      hex(`
        00                             # reserved
        03                             # CTDP 0, SUPPORT 011b (supported per standard)
        00 0a                          # CDB SIZE 10
        28 fc ff ff ff ff 1f ff ff 00  # CDB USAGE DATA of READ(10)
      `),
    )
    const withTimeouts = await runner.run(0, buildReportSupportedOperationCodes({ rctd: true, reportingOptions: 2, requestedOperationCode: 0x9e, requestedServiceAction: 0x10, allocationLength: 64 }))
    expect(withTimeouts.dataIn!.subarray(0, 6)).toEqual(hex('00 83 0010 9e 10'))
    expect(withTimeouts.dataIn!.subarray(20)).toEqual(hex('000a 00 00 00000000 0000001e'))
    const prOut = await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 2, requestedOperationCode: 0x5f, requestedServiceAction: 0x04, allocationLength: 64 }))
    expect(prOut.dataIn!.subarray(4, 6)).toEqual(hex('5f 04'))
  })

  it('says "not supported" for an unknown opcode and refuses mismatched reporting options', async () => {
    const runner = await setup()
    expect((await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 1, requestedOperationCode: 0xc1, allocationLength: 64 }))).dataIn).toEqual(hex('00 01 00 00'))
    expect((await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 1, requestedOperationCode: 0x42, allocationLength: 64 }))).dataIn).toEqual(hex('00 01 00 00'))
    const needsAction = await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 1, requestedOperationCode: 0x9e, allocationLength: 64 }))
    expect(needsAction.senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 2, bit: 2 } })
    expect((await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 2, requestedOperationCode: 0x28, allocationLength: 64 }))).senseData).toMatchObject({ asc: 0x24 })
    expect((await runner.run(0, buildReportSupportedOperationCodes({ reportingOptions: 5, allocationLength: 64 }))).senseData).toMatchObject({ asc: 0x24 })
  })

  it('agrees with dispatch: every listed command is executed, none is refused as unknown', async () => {
    const runner = await setup({ thinProvisioned: true, removable: true })
    const list = commands((await runner.run(0, buildReportSupportedOperationCodes({ allocationLength: 8192 }))).dataIn!, false)
    const expected = commandNames.map((name) => commandSpec(name).serviceActions?.length ?? 1).reduce((sum, count) => sum + count, 0)
    expect(list).toHaveLength(expected)
    for (const [opcode, action, servactv, length] of list) {
      const cdb = Buffer.alloc(length)
      cdb[0] = opcode
      if (servactv) cdb[1] = action
      const result = await runner.run(0, cdb, { dataOut: Buffer.alloc(0) })
      const refused = result.senseData?.asc === 0x20 || (result.senseData?.asc === 0x24 && result.senseData.fieldPointer?.byte === 1 && result.senseData.fieldPointer.bit === 4)
      expect(refused, `opcode ${opcode.toString(16)} action ${action}`).toBe(false)
    }
  })
})

describe('REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36)', () => {
  it('reports abort task (set), clear task set, LU reset and target reset', async () => {
    const runner = await setup()
    expect((await runner.run(0, buildReportSupportedTaskManagementFunctions({ allocationLength: 4 }))).dataIn).toEqual(hex('da 00 00 00'))
    expect((await runner.run(0, buildReportSupportedTaskManagementFunctions({ repd: true, allocationLength: 16 }))).dataIn).toEqual(hex('da 00 00 0c 00000000 00000000 00000000'))
    expect((await runner.run(0, buildReportSupportedTaskManagementFunctions({ allocationLength: 3 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 6 } })
  })
})
