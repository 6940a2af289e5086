// Connection faults: connections cut (socket.destroy) mid-Data-Out, mid-R2T, mid-Data-In and mid-login, and
// sessions reinstated with commands in flight, cycle after cycle. After each cycle nothing may be left behind: no
// session or connection in the target's stats, no extra file descriptors or timers in the process, no write-buffer
// budget still reserved, no task stuck (a TARGET WARM RESET waits for every task and must answer at once).
import { Opcode, TaskManagementFunction } from '@iscsi-ts/pdu'
import { MemoryBackstore } from '@iscsi-ts/scsi'
import { GatedBackstore, RawConnection, read10, write10 } from '@iscsi-ts/target/testing'
import type { TestTarget } from '@iscsi-ts/target/testing'
import { describe, expect, it } from 'vitest'
import { budget, timeoutFor } from './src/budget.js'
import { census, connect, session, sleep, target, until } from './src/harness.js'
import type { Census } from './src/harness.js'
import { MiB } from './src/proc.js'

const ROUNDS = budget(20, 500)
const BUDGET = 2 * MiB

type Fault = 'data-out' | 'r2t' | 'data-in' | 'login' | 'reinstatement'
const FAULTS: Fault[] = ['data-out', 'r2t', 'data-in', 'login', 'reinstatement']

async function cut(t: TestTarget, gate: GatedBackstore, fault: Fault, round: number): Promise<void> {
  const initiatorName = `iqn.2026-11.io.iscsi-ts:fault-${fault}`
  switch (fault) {
    case 'data-out': {
      // A 1 MiB write with unsolicited data: the command, part of the first burst, then the cable is pulled.
      const c = await session(t, { initiatorName })
      const command = c.sendCommand({ cdb: write10(0, 2048), write: true, final: false, expectedDataTransferLength: MiB })
      const segment = c.parameters!.connection.maxSendDataSegmentLength
      for (let offset = 0, dataSN = 0; offset < 64 * 1024; offset += segment) {
        c.sendDataOut({ itt: command.itt, dataSN: dataSN++, bufferOffset: offset, data: Buffer.alloc(segment, round), final: false })
      }
      await sleep(20)
      c.destroy()
      return
    }
    case 'r2t': {
      const c = await session(t, { initiatorName, operational: { initialR2T: true, immediateData: false } })
      const command = c.sendCommand({ cdb: write10(4096, 2048), write: true, expectedDataTransferLength: MiB })
      const r2t = await c.receiveOf(Opcode.R2T, 2000, (p) => p.itt === command.itt)
      c.sendDataOut({ itt: command.itt, ttt: r2t.ttt, dataSN: 0, bufferOffset: r2t.bufferOffset, data: Buffer.alloc(4096), final: false })
      c.destroy()
      return
    }
    case 'data-in': {
      // A 4 MiB read: cut after its first Data-In, with the rest queued or still being read from the device.
      const c = await session(t, { initiatorName })
      const command = c.sendCommand({ cdb: read10(0, 8192), read: true, expectedDataTransferLength: 4 * MiB })
      await c.receiveOf(Opcode.DataIn, 2000, (p) => p.itt === command.itt)
      c.destroy()
      return
    }
    case 'login': {
      const c = await connect(t)
      if (round % 2 === 0) {
        // Cut after the first login exchange (security stage, T=0).
        const first = c.login({ targetName: t.targetName, initiatorName, chap: { user: 'nobody', secret: 'nobody-secret-123' } }).catch(() => undefined)
        await c.receiveOf(Opcode.LoginResponse, 2000).catch(() => undefined)
        c.destroy()
        await first
      } else {
        // Cut in the middle of a Login Request header.
        c.sendRaw(Buffer.from([0x43, 0x81, 0, 0, 0, 0, 0, 0x40]))
        await sleep(10)
        c.destroy()
      }
      return
    }
    case 'reinstatement': {
      // A READ held in the device on the old session; the same initiator and ISID log in again (RFC 7143 6.3.5).
      const isid = Buffer.from([0x80, 0xaa, 0xbb, 0xcc, 0xdd, round & 0xff])
      const old = await session(t, { initiatorName, isid })
      gate.hold()
      const stuck = old.sendCommand({ cdb: read10(0, 8), read: true, expectedDataTransferLength: 4096 })
      await until(() => gate.waiting === 1, 2000, 'the read at the gate')
      const fresh = await connect(t)
      await fresh.login({ targetName: t.targetName, initiatorName, isid })
      await old.waitClosed(2000)
      expect(t.target.sessions().filter((s) => s.initiatorName === initiatorName)).toHaveLength(1)
      gate.release()
      // The old task got no answer; the new session works and leaves cleanly.
      expect(old.queued.some((p) => 'itt' in p && p.itt === stuck.itt && p.opcode === Opcode.ScsiResponse)).toBe(false)
      for (let i = 0; i < 4; i++) if ((await fresh.command({ cdb: read10(0, 8), read: true, expectedDataTransferLength: 4096 })).status === 0) break
      await fresh.logout()
      fresh.destroy()
      return
    }
  }
}

/** No more timers, sockets or descriptors than the baseline (a little slack for the runtime's own). */
function expectNoGrowth(before: Census, after: Census, context: string): void {
  expect(after.fds, `${context}: file descriptors`).toBeLessThanOrEqual(before.fds + 2)
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPWRAP', 'FSReqPromise']) {
    expect(after.active[kind] ?? 0, `${context}: active ${kind}`).toBeLessThanOrEqual((before.active[kind] ?? 0) + 2)
  }
}

describe('connection faults', () => {
  it(
    `leave nothing behind over ${ROUNDS} rounds of cuts mid-Data-Out, mid-R2T, mid-Data-In, mid-login and reinstatements`,
    async () => {
      const gate = new GatedBackstore(new MemoryBackstore({ size: 8 * MiB }))
      const t = await target({ backstores: [gate], limits: { maxPendingWriteBytes: BUDGET, nopInIntervalMs: 0 } })
      // Warm up every path once so lazily created things exist before the baseline.
      for (const fault of FAULTS) await cut(t, gate, fault, 0)
      await until(() => t.target.stats.connections === 0 && t.target.stats.sessions === 0, 5000, 'the warm-up to settle')
      await sleep(100)
      const baseline = census()
      for (let round = 1; round <= ROUNDS; round++) {
        for (const fault of FAULTS) {
          await cut(t, gate, fault, round)
          await until(() => t.target.stats.connections === 0 && t.target.stats.sessions === 0, 5000, `the target to drop everything after ${fault}`).catch(() => {
            throw new Error(`after ${fault} in round ${round}: stats ${JSON.stringify(t.target.stats)}, sessions ${JSON.stringify(t.target.sessions())}`)
          })
          expect(gate.waiting, `${fault}: I/O stuck at the gate`).toBe(0)
        }
        await sleep(50)
        expectNoGrowth(baseline, census(), `round ${round}`)
      }
      // Nothing of the write-buffer budget is still reserved: a write of 3/4 of it goes through.
      const c = await session(t, { initiatorName: 'iqn.2026-11.io.iscsi-ts:after' })
      const big = Buffer.alloc((BUDGET * 3) / 4, 0x3c)
      const written = await c.command({ cdb: write10(0, big.length / 512), dataOut: big, timeoutMs: 10_000 })
      expect(written.status, 'TASK SET FULL means write-buffer budget leaked by cut connections').toBe(0)
      // No task of a cut connection is still alive in the target: TARGET WARM RESET waits for every task to end.
      const itt = c.nextItt()
      c.send({
        opcode: Opcode.TaskManagementRequest,
        immediate: true,
        function: TaskManagementFunction.TargetWarmReset,
        lun: 0n,
        itt,
        referencedTaskTag: 0xffffffff,
        cmdSN: c.cmdSN,
        expStatSN: c.expStatSN,
        refCmdSN: 0,
        expDataSN: 0,
        data: Buffer.alloc(0),
      })
      const response = await c.receiveOf(Opcode.TaskManagementResponse, 2000, (p) => p.itt === itt)
      expect(response.response).toBe(0)
      await c.logout()
      c.destroy()
      await until(() => t.target.stats.connections === 0, 3000, 'the last connection to close')
      await sleep(50)
      expectNoGrowth(baseline, census(), 'the end')
    },
    timeoutFor(ROUNDS * 3),
  )

  it('drops the sessions of connections reset by the peer while Data-In is queued on a paused socket', async () => {
    const t = await target({ luns: [32 * MiB], limits: { nopInIntervalMs: 0 } })
    const before = census()
    for (let i = 0; i < 5; i++) {
      const c = await RawConnection.connect({ host: t.host, port: t.port })
      await c.login({ targetName: t.targetName })
      c.socket.pause()
      for (let k = 0; k < 8; k++) c.sendCommand({ cdb: read10(0, 8192), read: true, expectedDataTransferLength: 4 * MiB })
      await sleep(100)
      c.socket.resetAndDestroy()
    }
    await until(() => t.target.stats.connections === 0 && t.target.stats.sessions === 0, 5000, 'every reset connection gone')
    await sleep(50)
    expectNoGrowth(before, census(), 'after resets')
  })
})
