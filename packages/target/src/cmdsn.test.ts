import { Opcode } from '@iscsi-ts/pdu'
import { MemoryBackstore } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import { session, target, until } from './test-harness.js'
import { GatedBackstore, read10 } from './testing.js'
import type { RawConnection } from './testing.js'

/** An immediate NOP-Out ping; resolves with the NOP-In (its ExpCmdSN/MaxCmdSN show the window). */
async function ping(c: RawConnection): Promise<{ expCmdSN: number; maxCmdSN: number; statSN: number }> {
  const itt = c.nextItt()
  c.send({ opcode: 0x00, immediate: true, lun: 0n, itt, ttt: 0xffffffff, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
  return c.receiveOf(Opcode.NopIn, 5000, (p) => p.itt === itt)
}

describe('CmdSN window (RFC 7143 4.2.2.1)', () => {
  it('silently ignores commands above MaxCmdSN and below ExpCmdSN, then goes on', async () => {
    const t = await target({ limits: { queueDepth: 8 } })
    const c = await session(t)
    const before = await ping(c)
    expect(before.maxCmdSN).toBe((before.expCmdSN + 7) >>> 0)
    c.sendCommand({ cdb: Buffer.alloc(6), cmdSN: (before.maxCmdSN + 1) >>> 0 })
    c.sendCommand({ cdb: Buffer.alloc(6), cmdSN: (before.expCmdSN - 1) >>> 0 })
    await c.expectSilence(300)
    const ok = await c.command({ cdb: Buffer.alloc(6) })
    expect(ok.status).toBe(0)
    expect(ok.response?.expCmdSN).toBe((before.expCmdSN + 1) >>> 0)
  })

  it('ignores a duplicate CmdSN inside the window', async () => {
    const gate = new GatedBackstore(new MemoryBackstore({ size: 1024 * 1024 }))
    const t = await target({ backstores: [gate] })
    const c = await session(t)
    gate.hold()
    const cmdSN = c.cmdSN
    const first = c.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
    await until(() => gate.waiting === 1, 3000, 'the read at the gate')
    c.sendCommand({ cdb: read10(1, 1), read: true, expectedDataTransferLength: 512, cmdSN })
    await c.expectSilence(200)
    gate.release()
    const result = await c.collect(first.itt)
    expect(result.status).toBe(0)
    await c.expectSilence(200)
    expect(gate.started).toBe(1)
  })

  it('does not advance ExpCmdSN for immediate commands', async () => {
    const t = await target()
    const c = await session(t)
    const before = await ping(c)
    const immediate = await c.command({ cdb: Buffer.alloc(6), immediate: true })
    expect(immediate.status).toBe(0)
    expect(immediate.response?.expCmdSN).toBe(before.expCmdSN)
    const next = await c.command({ cdb: Buffer.alloc(6) })
    expect(next.response?.expCmdSN).toBe((before.expCmdSN + 1) >>> 0)
  })

  it('delivers commands in CmdSN order whatever order they arrive in', async () => {
    const t = await target()
    const c = await session(t)
    const base = c.cmdSN
    const later = c.sendCommand({ cdb: Buffer.alloc(6), cmdSN: (base + 1) >>> 0 })
    await c.expectSilence(200)
    const earlier = c.sendCommand({ cdb: Buffer.alloc(6), cmdSN: base })
    const a = await c.collect(earlier.itt)
    const b = await c.collect(later.itt)
    expect(a.status).toBe(0)
    expect(b.status).toBe(0)
    expect(b.response!.statSN).toBe((a.response!.statSN + 1) >>> 0)
    expect(b.response!.expCmdSN).toBe((base + 2) >>> 0)
  })

  it('derives MaxCmdSN from the queue: it closes while the queue is full and reopens as commands finish', async () => {
    const gate = new GatedBackstore(new MemoryBackstore({ size: 1024 * 1024 }))
    const t = await target({ backstores: [gate], limits: { queueDepth: 4 } })
    const c = await session(t)
    const start = await ping(c)
    gate.hold()
    const held = [0, 1, 2, 3].map((lba) => c.sendCommand({ cdb: read10(lba, 1), read: true, expectedDataTransferLength: 512 }))
    await until(() => gate.waiting === 4, 3000, 'four reads at the gate')
    const full = await ping(c)
    expect(full.expCmdSN).toBe((start.expCmdSN + 4) >>> 0)
    // No free slot: MaxCmdSN = ExpCmdSN - 1.
    expect(full.maxCmdSN).toBe((full.expCmdSN - 1) >>> 0)
    const refused = c.sendCommand({ cdb: Buffer.alloc(6) })
    await c.expectSilence(200)
    gate.release()
    for (const pdu of held) expect((await c.collect(pdu.itt)).status).toBe(0)
    const open = await ping(c)
    expect(open.maxCmdSN).toBe((open.expCmdSN + 3) >>> 0)
    // The refused command never ran; its CmdSN is free again.
    expect(open.expCmdSN).toBe(refused.cmdSN)
  })
})
