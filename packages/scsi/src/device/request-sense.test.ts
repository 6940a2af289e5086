import { describe, expect, it } from 'vitest'
import { buildRequestSense } from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, testDevice } from '../testing.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

describe('REQUEST SENSE (SPC-4 6.39)', () => {
  it('reports a pending unit attention as data, clears it, then reports NO SENSE', async () => {
    const runner = new CommandRunner(testDevice(1))
    const first = await runner.run(0, buildRequestSense({ allocationLength: 252 }))
    expect(first.status).toBe(ScsiStatus.GOOD)
    expect(first.dataIn).toEqual(hex('70 00 06 00000000 0a 00000000 29 00 00 000000'))
    expect((await runner.run(0, buildRequestSense({ allocationLength: 252 }))).dataIn).toEqual(hex('70 00 00 00000000 0a 00000000 00 00 00 000000'))
  })

  it('uses descriptor format when DESC is set, and cuts to the allocation length', async () => {
    const runner = new CommandRunner(testDevice(1))
    expect((await runner.run(0, buildRequestSense({ desc: true, allocationLength: 252 }))).dataIn).toEqual(hex('72 06 29 00 000000 00'))
    const cut = await runner.run(0, buildRequestSense({ allocationLength: 4 }))
    expect(cut.dataIn).toEqual(hex('70 00 00 00'))
    expect(cut.dataInLength).toBe(4)
  })
})
