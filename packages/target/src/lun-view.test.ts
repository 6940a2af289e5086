import { encodeLun } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { LunView, unsupportedLun } from './lun-view.js'
import { inquiry, read10, reportLuns } from './testing.js'

describe('LunView', () => {
  it('passes every LUN through without a map', () => {
    const view = new LunView(undefined)
    expect(view.route(3, read10(0, 1), 512)).toEqual({ kind: 'device', lun: 3 })
    expect(view.resolve(9)).toBe(9)
  })

  it('translates mapped LUNs and answers REPORT LUNS with the visible numbers', () => {
    const view = new LunView(new Map([[1, 7], [0, 4]]))
    expect(view.route(0, read10(0, 1), 512)).toEqual({ kind: 'device', lun: 4 })
    expect(view.resolve(2)).toBeUndefined()
    const route = view.route(5, reportLuns(4096), 4096)
    expect(route.kind).toBe('local')
    if (route.kind !== 'local') return
    const data = route.result.dataIn!
    expect(data.readUInt32BE(0)).toBe(16)
    expect([data.readBigUInt64BE(8), data.readBigUInt64BE(16)]).toEqual([encodeLun(0), encodeLun(1)])
    // Cut to the initiator's allocation, with the full length kept for the residual.
    const short = view.route(0, reportLuns(4096), 12)
    expect(short.kind === 'local' && short.result.dataIn?.length).toBe(12)
    expect(short.kind === 'local' && short.result.dataInLength).toBe(24)
  })

  it('answers for LUNs the initiator must not see (SPC-4 6.6.2, 6.39)', () => {
    const view = new LunView(new Map([[0, 0]]))
    const inq = view.route(4, inquiry(96), 96)
    expect(inq.kind === 'local' && inq.result.dataIn?.[0]).toBe(0x7f)
    const sense = unsupportedLun(Buffer.from([0x03, 0, 0, 0, 18, 0]), 18)
    expect(sense.status).toBe(0)
    expect([sense.dataIn![2]! & 0x0f, sense.dataIn![12]]).toEqual([0x05, 0x25])
    const read = view.route(4, read10(0, 1), 512)
    expect(read.kind === 'local' && read.result.status).toBe(2)
    expect(read.kind === 'local' && read.result.sense?.[12]).toBe(0x25)
    // An unsupported LUN address method exists nowhere.
    expect(new LunView(undefined).route(-1, read10(0, 1), 512).kind).toBe('local')
  })
})
