// ABORT TASK for tasks the target does not have (RFC 7143 11.5.1):
//  b) "if the Referenced Task Tag does not identify an existing task but the CmdSN indicated by the RefCmdSN field
//     ... is within the valid CmdSN window and less than the CmdSN of the Task Management Function Request itself,
//     then targets must consider the CmdSN as received and return the 'Function complete' response";
//  c) "... outside the valid CmdSN window, then targets must return the 'Task does not exist' response".
// A RefCmdSN inside the window but not below the request's own CmdSN fits neither: the task does not exist, and the
// CmdSN stays open. And RFC 7143 11.5.5: RefCmdSN only matters when the task is not there; for a task of an
// immediate command it equals the request's own CmdSN.
import { Opcode, TaskManagementFunction, TaskManagementResponseCode as R, encodeLun } from '@iscsi-ts/pdu'
import type { TaskManagementResponsePdu } from '@iscsi-ts/pdu'
import { MemoryBackstore } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import { until } from '../test-harness.js'
import { GatedBackstore, read10 } from '../testing.js'
import type { RawConnection } from '../testing.js'
import { normalSession, ping, quietTarget } from './edge-harness.js'

const DEPTH = 8

/** An immediate ABORT TASK; the response must echo the ITT and take the next StatSN. */
async function abortTask(c: RawConnection, referencedTaskTag: number, refCmdSN: number): Promise<TaskManagementResponsePdu> {
  const itt = c.nextItt()
  const statSN = c.expStatSN
  c.send({
    opcode: Opcode.TaskManagementRequest,
    immediate: true,
    function: TaskManagementFunction.AbortTask,
    lun: encodeLun(0),
    itt,
    referencedTaskTag,
    cmdSN: c.cmdSN,
    expStatSN: c.expStatSN,
    refCmdSN: refCmdSN >>> 0,
    expDataSN: 0,
    data: Buffer.alloc(0),
  })
  const response = await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)
  expect(response.statSN).toBe(statSN)
  return response
}

describe('ABORT TASK of a task that does not exist (RFC 7143 11.5.1)', () => {
  it('RefCmdSN outside the window (below ExpCmdSN, beyond MaxCmdSN): "Task does not exist", window unchanged', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    const exp = c.cmdSN
    for (const refCmdSN of [exp - 1, exp - 100, exp + DEPTH, exp + 5000]) {
      const response = await abortTask(c, 0x6000 + (refCmdSN & 0xff), refCmdSN)
      expect(response.response).toBe(R.TaskDoesNotExist)
      expect([response.expCmdSN, response.maxCmdSN]).toEqual([exp, (exp + DEPTH - 1) >>> 0])
    }
    await ping(c, { expCmdSN: exp })
  })

  it('RefCmdSN inside the window, never received, below the request CmdSN: "Function complete", the CmdSN counts as received', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    const missing = c.takeCmdSN()
    // A later command waits behind the missing one.
    const later = c.sendCommand({ cdb: Buffer.alloc(6) })
    await c.expectSilence(150)
    // The immediate ABORT TASK carries the next CmdSN (missing + 2), so RefCmdSN is below it.
    const response = await abortTask(c, 0x6100, missing)
    expect(response.response).toBe(R.FunctionComplete)
    // Its own answer already shows ExpCmdSN past the missing command and the one that waited for it.
    expect(response.expCmdSN).toBe((missing + 2) >>> 0)
    // The gap is filled: the waiting command runs, and ExpCmdSN moves past both.
    const status = await c.receiveFor(later.itt)
    expect(status.opcode).toBe(Opcode.ScsiResponse)
    await ping(c, { expCmdSN: (missing + 2) >>> 0 })
    // The command itself, arriving late, is a duplicate now: ignored.
    c.sendCommand({ cdb: Buffer.alloc(6), itt: 0x6100, cmdSN: missing })
    await c.expectSilence(200)
    await ping(c, { expCmdSN: (missing + 2) >>> 0 })
  })

  it('RefCmdSN inside the window, never received, not below the request CmdSN: "Task does not exist", nothing consumed', async () => {
    const t = await quietTarget({ limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    const exp = c.cmdSN
    for (const refCmdSN of [exp, exp + 3]) {
      const response = await abortTask(c, 0x6200, refCmdSN)
      expect(response.response).toBe(R.TaskDoesNotExist)
      expect(response.expCmdSN).toBe(exp)
    }
    // Those CmdSNs are still open for real commands.
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
    await ping(c, { expCmdSN: (exp + 1) >>> 0 })
  })
})

/** Hold an immediate READ in the device, move CmdSN on, then abort the READ with RefCmdSN = the request's CmdSN. */
async function abortImmediateTask(c: RawConnection, gate: GatedBackstore): Promise<void> {
  // An immediate READ carries CmdSN without taking it; a non-immediate command then takes that CmdSN.
  const read = c.sendCommand({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512, immediate: true })
  await until(() => gate.waiting === 1)
  expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  expect(c.cmdSN).toBe((read.cmdSN + 1) >>> 0)
  // The ABORT TASK now carries CmdSN read.cmdSN + 1, and so does its RefCmdSN.
  const itt = c.nextItt()
  c.send({
    opcode: Opcode.TaskManagementRequest,
    immediate: true,
    function: TaskManagementFunction.AbortTask,
    lun: encodeLun(0),
    itt,
    referencedTaskTag: read.itt,
    cmdSN: c.cmdSN,
    expStatSN: c.expStatSN,
    refCmdSN: c.cmdSN,
    expDataSN: 0,
    data: Buffer.alloc(0),
  })
  await c.expectSilence(100)
  gate.release()
  const response = await c.receiveOf(Opcode.TaskManagementResponse, 5000, (p) => p.itt === itt)
  expect(response.response).toBe(R.FunctionComplete)
  await c.expectSilence(200)
  await ping(c)
}

describe('ABORT TASK of the task of an immediate command (RFC 7143 11.5.5: RefCmdSN is the request own CmdSN)', () => {
  it('aborts it: "Function complete", and the task gets no response', async () => {
    const gate = new GatedBackstore(new MemoryBackstore({ size: 1024 * 1024 }))
    const t = await quietTarget({ backstores: [gate], limits: { queueDepth: DEPTH } })
    const c = await normalSession(t)
    gate.hold()
    try {
      await abortImmediateTask(c, gate)
    } finally {
      gate.release()
    }
  })
})

