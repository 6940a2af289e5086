import diagnostics from 'node:diagnostics_channel'
import { Opcode, TaskManagementFunction as F, TaskManagementResponseCode as R, encodeLun } from '@iscsi-ts/pdu'
import { MemoryBackstore } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import { session, target, until } from './test-harness.js'
import { GatedBackstore, read10 } from './testing.js'
import type { RawConnection } from './testing.js'

interface TmfOptions {
  fn: number
  lun?: number
  referencedTaskTag?: number
  refCmdSN?: number
  immediate?: boolean
}

/** Send a Task Management Function Request; returns its ITT. */
function sendTmf(c: RawConnection, options: TmfOptions): { itt: number; cmdSN: number } {
  const itt = c.nextItt()
  const immediate = options.immediate ?? true
  const cmdSN = immediate ? c.cmdSN : c.takeCmdSN()
  c.send({
    opcode: 0x02,
    immediate,
    function: options.fn,
    lun: encodeLun(options.lun ?? 0),
    itt,
    referencedTaskTag: options.referencedTaskTag ?? 0xffffffff,
    cmdSN,
    expStatSN: c.expStatSN,
    refCmdSN: options.refCmdSN ?? 0,
    expDataSN: 0,
    data: Buffer.alloc(0),
  })
  return { itt, cmdSN }
}

async function tmf(c: RawConnection, options: TmfOptions): Promise<number> {
  const { itt } = sendTmf(c, options)
  const response = await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)
  return response.response
}

async function gatedTarget(luns = 1, limits = {}) {
  const gates = Array.from({ length: luns }, () => new GatedBackstore(new MemoryBackstore({ size: 1024 * 1024 })))
  const t = await target({ backstores: gates, limits })
  return { t, gates }
}

describe('task management (RFC 7143 11.5, 11.6)', () => {
  it('ABORT TASK: the task gets no response and the TMF response waits until it left the device', async () => {
    const { t, gates } = await gatedTarget()
    const c = await session(t)
    gates[0]!.hold()
    const read = c.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
    await until(() => gates[0]!.waiting === 1)
    const { itt } = sendTmf(c, { fn: F.AbortTask, referencedTaskTag: read.itt, refCmdSN: read.cmdSN })
    await c.expectSilence(200)
    gates[0]!.release()
    const response = await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)
    expect(response.response).toBe(R.FunctionComplete)
    await c.expectSilence(200)
    // The session goes on.
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  })

  it('ABORT TASK reaches the device: the task it was running ends there with TASK ABORTED (SAM-5 7.2)', async () => {
    const { t, gates } = await gatedTarget()
    const c = await session(t)
    const statuses = new Map<number, number>()
    const listener = (message: unknown): void => {
      const event = message as { tag: number; status: number }
      statuses.set(event.tag, event.status)
    }
    diagnostics.subscribe('iscsi:scsi:command', listener)
    try {
      gates[0]!.hold()
      const read = c.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
      await until(() => gates[0]!.waiting === 1)
      const { itt } = sendTmf(c, { fn: F.AbortTask, referencedTaskTag: read.itt, refCmdSN: read.cmdSN })
      await c.expectSilence(100)
      gates[0]!.release()
      expect((await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)).response).toBe(R.FunctionComplete)
      await until(() => statuses.has(read.itt))
      expect(statuses.get(read.itt)).toBe(0x40)
    } finally {
      diagnostics.unsubscribe('iscsi:scsi:command', listener)
    }
  })

  it('ABORT TASK of a task that is done, or never came with RefCmdSN outside the window: task does not exist', async () => {
    const t = await target()
    const c = await session(t)
    const done = await c.command({ cdb: Buffer.alloc(6) })
    const pdu = done.response!
    expect(await tmf(c, { fn: F.AbortTask, referencedTaskTag: pdu.itt, refCmdSN: (pdu.expCmdSN - 1) >>> 0 })).toBe(R.TaskDoesNotExist)
    expect(await tmf(c, { fn: F.AbortTask, referencedTaskTag: 0x5555, refCmdSN: (c.cmdSN + 1000) >>> 0 })).toBe(R.TaskDoesNotExist)
  })

  it('ABORT TASK naming a CmdSN not yet received but inside the window: function complete, and the command is then ignored', async () => {
    const t = await target()
    const c = await session(t)
    // The command with CmdSN `missing` is "in flight" (not sent yet); an immediate TMF carries the next CmdSN.
    const missing = c.takeCmdSN()
    const { itt } = sendTmf(c, { fn: F.AbortTask, referencedTaskTag: 0x4444, refCmdSN: missing, immediate: true })
    const response = await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)
    expect(response.response).toBe(R.FunctionComplete)
    c.sendCommand({ cdb: Buffer.alloc(6), itt: 0x4444, cmdSN: missing })
    await c.expectSilence(200)
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  })

  it('ABORT TASK SET and CLEAR TASK SET end every task on the LU', async () => {
    const { t, gates } = await gatedTarget()
    const c = await session(t)
    for (const fn of [F.AbortTaskSet, F.ClearTaskSet]) {
      gates[0]!.hold()
      const reads = [0, 1, 2].map((lba) => c.sendCommand({ cdb: read10(lba, 1), read: true, expectedDataTransferLength: 512 }))
      await until(() => gates[0]!.waiting === 3)
      const { itt } = sendTmf(c, { fn })
      await c.expectSilence(100)
      gates[0]!.release()
      expect((await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)).response).toBe(R.FunctionComplete)
      await c.expectSilence(200)
      expect(reads).toHaveLength(3)
    }
  })

  it('LOGICAL UNIT RESET ends the tasks of every initiator on that LU only', async () => {
    const { t, gates } = await gatedTarget(2)
    const a = await session(t)
    const b = await session(t, { initiatorName: 'iqn.2026-11.io.iscsi-ts:b' })
    // Clear b's unit attentions on LUN 1 too.
    for (let i = 0; i < 4 && (await b.command({ cdb: Buffer.alloc(6), lun: 1 })).status !== 0; i++);
    gates[0]!.hold()
    gates[1]!.hold()
    a.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
    b.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
    const other = b.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512, lun: 1 })
    await until(() => gates[0]!.waiting === 2 && gates[1]!.waiting === 1)
    const { itt } = sendTmf(a, { fn: F.LogicalUnitReset, lun: 0 })
    await a.expectSilence(150)
    gates[0]!.release()
    expect((await a.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)).response).toBe(R.FunctionComplete)
    await b.expectSilence(200)
    gates[1]!.release()
    expect((await b.collect(other.itt)).status).toBe(0)
  })

  it('TARGET WARM RESET answers; TARGET COLD RESET answers and then drops every connection', async () => {
    const t = await target()
    const a = await session(t)
    const b = await session(t, { initiatorName: 'iqn.2026-11.io.iscsi-ts:b' })
    expect(await tmf(a, { fn: F.TargetWarmReset })).toBe(R.FunctionComplete)
    expect(await tmf(a, { fn: F.TargetColdReset })).toBe(R.FunctionComplete)
    await a.waitClosed()
    await b.waitClosed()
    await until(() => t.target.stats.sessions === 0)
  })

  it('answers CLEAR ACA "not supported", TASK REASSIGN "reassignment not supported", an unknown LUN "LUN does not exist"', async () => {
    const t = await target()
    const c = await session(t)
    expect(await tmf(c, { fn: F.ClearAca })).toBe(R.FunctionNotSupported)
    expect(await tmf(c, { fn: F.TaskReassign, referencedTaskTag: 1 })).toBe(R.TaskAllegianceReassignmentNotSupported)
    expect(await tmf(c, { fn: F.LogicalUnitReset, lun: 9 })).toBe(R.LunDoesNotExist)
    expect(await tmf(c, { fn: F.AbortTaskSet, lun: 9 })).toBe(R.LunDoesNotExist)
    expect(await tmf(c, { fn: 0x55 })).toBe(R.FunctionNotSupported)
  })

  it('QUERY TASK reports whether a task exists (RFC 7144 4.1.1)', async () => {
    const { t, gates } = await gatedTarget()
    const c = await session(t)
    gates[0]!.hold()
    const read = c.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512 })
    await until(() => gates[0]!.waiting === 1)
    expect(await tmf(c, { fn: F.QueryTask, referencedTaskTag: read.itt })).toBe(R.FunctionSucceeded)
    expect(await tmf(c, { fn: F.QueryTaskSet })).toBe(R.FunctionSucceeded)
    gates[0]!.release()
    expect((await c.collect(read.itt)).status).toBe(0)
    expect(await tmf(c, { fn: F.QueryTask, referencedTaskTag: read.itt })).toBe(R.FunctionComplete)
  })
})
