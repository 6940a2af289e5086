import { RESERVED_TAG } from '@iscsi-ts/pdu'
import type { DataOutPdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { WriteTransfer } from './data-out.js'
import type { BurstParameters } from './data-out.js'
import { DataOutError } from './errors.js'

const burst: BurstParameters = { initialR2T: false, immediateData: true, firstBurstLength: 4096, maxBurstLength: 8192, maxOutstandingR2T: 2 }

function dataOut(fields: Partial<DataOutPdu> & { data: Buffer }): DataOutPdu {
  return { opcode: 0x05, final: false, lun: 0n, itt: 1, ttt: RESERVED_TAG, expStatSN: 0, dataSN: 0, bufferOffset: 0, ...fields }
}

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff
  return b
}

function ttts(): () => number {
  let t = 100
  return () => t++
}

function expectSense(fn: () => void, asc: number, ascq: number): void {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DataOutError)
    expect([(error as DataOutError).asc, (error as DataOutError).ascq]).toEqual([asc, ascq])
    return
  }
  throw new Error('expected a DataOutError')
}

describe('WriteTransfer', () => {
  it('keeps a view of immediate data that covers the whole transfer', () => {
    const data = pattern(2048)
    const t = new WriteTransfer({ expectedDataTransferLength: 2048, needed: 2048, immediate: data, final: true, burst })
    expect(t.complete).toBe(true)
    expect(t.data.buffer).toBe(data.buffer)
    expect(t.data.equals(data)).toBe(true)
    expect(t.nextR2Ts(ttts())).toEqual([])
  })

  it('assembles immediate data, unsolicited Data-Out and solicited bursts with at most MaxOutstandingR2T open', () => {
    const all = pattern(30000)
    const t = new WriteTransfer({ expectedDataTransferLength: 30000, needed: 30000, immediate: all.subarray(0, 1000), final: false, burst })
    const allocate = ttts()
    const r2ts = t.nextR2Ts(allocate)
    // Unsolicited up to FirstBurstLength 4096, then bursts of MaxBurstLength from there, two at a time.
    expect(r2ts.map((r) => [r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).toEqual([
      [0, 4096, 8192],
      [1, 12288, 8192],
    ])
    t.receive(dataOut({ dataSN: 0, bufferOffset: 1000, data: all.subarray(1000, 3000) }))
    t.receive(dataOut({ dataSN: 1, bufferOffset: 3000, data: all.subarray(3000, 4096), final: true }))
    expect(t.unsolicitedOpen).toBe(false)
    const [first, second] = r2ts
    t.receive(dataOut({ ttt: first!.ttt, dataSN: 0, bufferOffset: 4096, data: all.subarray(4096, 12288), final: true }))
    const more = t.nextR2Ts(allocate)
    expect(more.map((r) => [r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).toEqual([[2, 20480, 8192]])
    t.receive(dataOut({ ttt: second!.ttt, dataSN: 0, bufferOffset: 12288, data: all.subarray(12288, 16384) }))
    t.receive(dataOut({ ttt: second!.ttt, dataSN: 1, bufferOffset: 16384, data: all.subarray(16384, 20480), final: true }))
    const last = t.nextR2Ts(allocate)
    expect(last.map((r) => [r.bufferOffset, r.desiredDataTransferLength])).toEqual([[28672, 1328]])
    expect(t.complete).toBe(false)
    t.receive(dataOut({ ttt: more[0]!.ttt, dataSN: 0, bufferOffset: 20480, data: all.subarray(20480, 28672), final: true }))
    expect(t.complete).toBe(false)
    expect(t.r2tCount).toBe(4)
    t.receive(dataOut({ ttt: last[0]!.ttt, dataSN: 0, bufferOffset: 28672, data: all.subarray(28672), final: true }))
    expect(t.complete).toBe(true)
    expect(t.data.equals(all)).toBe(true)
  })

  it('solicits only what the CDB transfers and drops unsolicited bytes beyond it', () => {
    const t = new WriteTransfer({ expectedDataTransferLength: 10000, needed: 512, immediate: pattern(4096), final: true, burst })
    expect(t.nextR2Ts(ttts())).toEqual([])
    expect(t.complete).toBe(true)
    expect(t.data.length).toBe(512)
  })

  it('refuses unsolicited data where none may come (RFC 7143 11.4.7.2: 0C/0C)', () => {
    expectSense(() => new WriteTransfer({ expectedDataTransferLength: 512, needed: 512, immediate: pattern(512), final: true, burst: { ...burst, immediateData: false } }), 0x0c, 0x0c)
    expectSense(() => new WriteTransfer({ expectedDataTransferLength: 8192, needed: 8192, immediate: Buffer.alloc(0), final: false, burst: { ...burst, initialR2T: true } }), 0x0c, 0x0c)
    const t = new WriteTransfer({ expectedDataTransferLength: 8192, needed: 8192, immediate: Buffer.alloc(0), final: true, burst })
    expectSense(() => t.receive(dataOut({ data: pattern(512) })), 0x0c, 0x0c)
  })

  it('refuses immediate data beyond FirstBurstLength or EDTL', () => {
    expectSense(() => new WriteTransfer({ expectedDataTransferLength: 8192, needed: 8192, immediate: pattern(4097), final: true, burst }), 0x0c, 0x0d)
    expectSense(() => new WriteTransfer({ expectedDataTransferLength: 100, needed: 100, immediate: pattern(200), final: true, burst }), 0x4b, 0x02)
  })

  it('checks DataSN, Buffer Offset, burst ends and F bits', () => {
    const make = (): WriteTransfer => new WriteTransfer({ expectedDataTransferLength: 16384, needed: 16384, immediate: Buffer.alloc(0), final: false, burst })
    // Wrong DataSN.
    expectSense(() => make().receive(dataOut({ dataSN: 1, data: pattern(512) })), 0x4b, 0x00)
    // Wrong offset.
    expectSense(() => make().receive(dataOut({ bufferOffset: 512, data: pattern(512) })), 0x4b, 0x05)
    // Beyond FirstBurstLength.
    expectSense(() => make().receive(dataOut({ data: pattern(4097) })), 0x0c, 0x0d)
    // F=1 before FirstBurstLength.
    expectSense(() => make().receive(dataOut({ data: pattern(512), final: true })), 0x0c, 0x0d)
    // R2T bursts.
    const t = make()
    const [r2t] = t.nextR2Ts(ttts())
    expectSense(() => t.receive(dataOut({ ttt: 999, dataSN: 0, bufferOffset: 4096, data: pattern(512) })), 0x4b, 0x01)
    const u = make()
    const [r] = u.nextR2Ts(ttts())
    expectSense(() => u.receive(dataOut({ ttt: r!.ttt, dataSN: 0, bufferOffset: 4096, data: pattern(512), final: true })), 0x0c, 0x0d)
    const v = make()
    const [s] = v.nextR2Ts(ttts())
    expectSense(() => v.receive(dataOut({ ttt: s!.ttt, dataSN: 0, bufferOffset: 4096, data: pattern(8193) })), 0x0c, 0x0d)
    expect(r2t).toBeDefined()
  })
})
