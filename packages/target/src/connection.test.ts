import { AsyncEvent, LogoutResponseCode, Opcode, RejectReason, encodeLun } from '@iscsi-ts/pdu'
import { LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import type { CommandEvent, ConnectionEvent, LogoutEvent } from './channels.js'
import { IscsiTarget } from './target.js'
import { connect, record, session, target, until } from './test-harness.js'
import { RawConnection, inquiry, read10, reportLuns, write10 } from './testing.js'

describe('NOP-Out / NOP-In (RFC 7143 11.18, 11.19)', () => {
  it('answers a NOP-Out ping with a NOP-In echoing ITT and data, TTT reserved, StatSN advanced', async () => {
    const t = await target()
    const c = await session(t)
    const before = c.expStatSN
    const data = Buffer.from('ping data 123')
    c.send({ opcode: 0x00, immediate: true, lun: 0n, itt: 0x1234, ttt: 0xffffffff, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data })
    const nopIn = await c.receiveOf(Opcode.NopIn)
    expect(nopIn).toMatchObject({ itt: 0x1234, ttt: 0xffffffff, statSN: before })
    expect(nopIn.data.equals(data)).toBe(true)
    // A non-immediate NOP-Out takes a CmdSN.
    const cmdSN = c.takeCmdSN()
    c.send({ opcode: 0x00, immediate: false, lun: 0n, itt: 0x1235, ttt: 0xffffffff, cmdSN, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
    const second = await c.receiveOf(Opcode.NopIn)
    expect(second.expCmdSN).toBe((cmdSN + 1) >>> 0)
  })

  it('pings an idle connection and drops it when the ping is not answered', async () => {
    const t = await target({ limits: { nopInIntervalMs: 100, nopInTimeoutMs: 300 } })
    const errors = record<{ kind: string }>('iscsi:target:error')
    const c = await session(t)
    // Answer the first ping: the connection stays.
    const ping = await c.receiveOf(Opcode.NopIn, 2000)
    expect(ping.itt).toBe(0xffffffff)
    expect(ping.ttt).not.toBe(0xffffffff)
    c.send({ opcode: 0x00, immediate: true, lun: ping.lun, itt: 0xffffffff, ttt: ping.ttt, cmdSN: c.cmdSN, expStatSN: c.expStatSN, data: Buffer.alloc(0) })
    await c.receiveOf(Opcode.NopIn, 2000)
    // Now stay silent: the target gives up after nopInTimeoutMs.
    await c.waitClosed(3000)
    expect(errors.some((e) => e.kind === 'nop-timeout')).toBe(true)
    await until(() => t.target.stats.sessions === 0)
  })
})

describe('Reject (RFC 7143 11.17)', () => {
  it('rejects a SNACK at ErrorRecoveryLevel 0 with the header in the data and the next StatSN', async () => {
    const t = await target()
    const errors = record<{ kind: string; code: string }>('iscsi:target:error')
    const c = await session(t)
    const statSN = c.expStatSN
    c.send({ opcode: 0x10, type: 0, lun: 0n, itt: 0x99, ttt: 0xffffffff, expStatSN: c.expStatSN, begRun: 0, runLength: 0, data: Buffer.alloc(0) })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(RejectReason.ProtocolError)
    expect(reject.statSN).toBe(statSN)
    expect(reject.data.length).toBe(48)
    expect(reject.data[0]! & 0x3f).toBe(0x10)
    expect(reject.data.readUInt32BE(16)).toBe(0x99)
    const next = await c.command({ cdb: Buffer.alloc(6) })
    expect(next.response?.statSN).toBe((statSN + 1) >>> 0)
    expect(errors).toContainEqual(expect.objectContaining({ kind: 'reject', code: 'ISCSI_ERR_TARGET_PROTOCOL' }))
  })

  it('rejects a command reusing the ITT of a task still active with reason 0x07', async () => {
    const t = await target()
    const c = await session(t)
    const pdu = c.sendCommand({ write: true, cdb: write10(0, 16), final: true, expectedDataTransferLength: 8192 })
    await c.receiveOf(Opcode.R2T)
    c.sendCommand({ cdb: Buffer.alloc(6), itt: pdu.itt })
    const reject = await c.receiveOf(Opcode.Reject)
    expect(reject.reason).toBe(RejectReason.TaskInProgress)
  })
})

describe('Logout (RFC 7143 11.14, 11.15)', () => {
  it('closes the session (reason 0) and reports it', async () => {
    const t = await target()
    const events = record<LogoutEvent>('iscsi:target:logout')
    const c = await session(t)
    const response = await c.logout(0)
    expect(response.response).toBe(LogoutResponseCode.Success)
    expect([response.time2Wait, response.time2Retain]).toEqual([0, 0])
    await c.waitClosed()
    await until(() => t.target.stats.sessions === 0)
    expect(events).toMatchObject([{ tsih: c.tsih, reason: 'close session', targetName: t.targetName }])
  })

  it('answers "CID not found" and "recovery not supported", then closes the connection on reason 1', async () => {
    const t = await target()
    const c = await session(t)
    expect((await c.logout(1, 42)).response).toBe(LogoutResponseCode.CidNotFound)
    expect((await c.logout(2, c.cid)).response).toBe(LogoutResponseCode.RecoveryNotSupported)
    expect((await c.logout(1, c.cid)).response).toBe(LogoutResponseCode.Success)
    await c.waitClosed()
    await until(() => t.target.stats.sessions === 0)
  })
})

describe('multiple connections per session (RFC 7143 4.4, 6.1)', () => {
  it('shares the CmdSN window, answers on the connection that got the command, and logs out one connection from another', async () => {
    const t = await target({ limits: { maxConnections: 4 } })
    const a = await session(t, { operational: { maxConnections: 4 } })
    const b = await connect(t)
    await b.login({ targetName: t.targetName, tsih: a.tsih, isid: a.isid, cid: 1, operational: { maxConnections: 4 } })
    expect(b.tsih).toBe(a.tsih)
    expect(t.target.sessions()).toMatchObject([{ tsih: a.tsih, connections: 2 }])
    // Both connections draw CmdSNs from one window.
    b.cmdSN = a.cmdSN
    const data = Buffer.alloc(4096, 0x5a)
    const onB = b.sendCommand({ write: true, cdb: write10(8, 8), data, expectedDataTransferLength: 4096, cmdSN: b.takeCmdSN() })
    a.cmdSN = b.cmdSN
    const onA = a.sendCommand({ cdb: read10(8, 8), read: true, expectedDataTransferLength: 4096, cmdSN: (a.takeCmdSN()) })
    const written = await b.collect(onB.itt)
    expect(written.status).toBe(0)
    const read = await a.collect(onA.itt)
    expect(read.status).toBe(0)
    expect(read.data.equals(data)).toBe(true)
    expect(a.queued.some((p) => 'itt' in p && p.itt === onB.itt)).toBe(false)
    // Close connection 1 from connection 0.
    const response = await a.logout(1, 1)
    expect(response.response).toBe(LogoutResponseCode.Success)
    await b.waitClosed()
    expect(t.target.sessions()).toMatchObject([{ tsih: a.tsih, connections: 1 }])
    expect((await a.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
  })

  it('ends the whole session when one of its connections fails (ErrorRecoveryLevel 0)', async () => {
    const t = await target({ limits: { maxConnections: 2 } })
    const a = await session(t, { operational: { maxConnections: 2 } })
    const b = await connect(t)
    await b.login({ targetName: t.targetName, tsih: a.tsih, isid: a.isid, cid: 1, operational: { maxConnections: 2 } })
    b.destroy()
    await a.waitClosed()
    await until(() => t.target.stats.sessions === 0)
  })
})

describe('LUN mapping by ACL', () => {
  it('shows only mapped LUNs, under their mapped numbers, and answers LOGICAL UNIT NOT SUPPORTED for the rest', async () => {
    const initiatorName = 'iqn.2026-11.io.iscsi-ts:mapped'
    const t = await target({
      luns: [1024 * 1024, 1024 * 1024, 1024 * 1024],
      acls: [{ initiator: initiatorName, luns: { 0: 2, 1: 0 } }, { initiator: '*' }],
    })
    // An unmapped initiator writes a marker to target LUN 2.
    const admin = await session(t, { lun: 2 })
    for (let i = 0; i < 4 && (await admin.command({ cdb: Buffer.alloc(6), lun: 2 })).status !== 0; i++);
    expect((await admin.command({ cdb: write10(0, 1), dataOut: Buffer.alloc(512, 0x22), lun: 2 })).status).toBe(0)
    const c = await session(t, { initiatorName })
    const luns = await c.command({ cdb: reportLuns(), read: true, expectedDataTransferLength: 4096 })
    expect(luns.status).toBe(0)
    expect(luns.data.readUInt32BE(0)).toBe(16)
    expect([luns.data.readBigUInt64BE(8), luns.data.readBigUInt64BE(16)]).toEqual([encodeLun(0), encodeLun(1)])
    const marker = await c.command({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512, lun: 0 })
    expect(marker.data[0]).toBe(0x22)
    const missing = await c.command({ cdb: read10(0, 1), read: true, expectedDataTransferLength: 512, lun: 2 })
    expect(missing.status).toBe(2)
    expect([missing.sense![2]! & 0x0f, missing.sense![12], missing.sense![13]]).toEqual([0x05, 0x25, 0x00])
    const inq = await c.command({ cdb: inquiry(), read: true, expectedDataTransferLength: 96, lun: 5 })
    expect(inq.status).toBe(0)
    expect(inq.data[0]).toBe(0x7f)
  })
})

describe('shutdown and backpressure', () => {
  it('asks initiators to log out with an Async Message, drains, then closes', async () => {
    const t = await target()
    const c = await session(t)
    const closing = t.target.close({ graceful: true, timeoutMs: 3000 })
    const message = await c.receiveOf(Opcode.AsyncMessage, 2000)
    expect(message.asyncEvent).toBe(AsyncEvent.LogoutRequest)
    expect(message.parameter3).toBe(3)
    // I/O still runs until the initiator logs out.
    expect((await c.command({ cdb: Buffer.alloc(6) })).status).toBe(0)
    expect((await c.logout(0)).response).toBe(0)
    await closing
    expect(t.target.stats).toEqual({ sessions: 0, connections: 0 })
    // No new logins once closing.
    await expect(RawConnection.connect({ port: t.port, timeoutMs: 1000 })).rejects.toThrow()
  })

  it('drops what remains when the graceful timeout passes', async () => {
    const t = await target()
    const c = await session(t)
    const started = Date.now()
    await t.target.close({ graceful: true, timeoutMs: 300 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    await c.waitClosed()
  })

  it('stops reading from a peer that does not read, so queued Data-In stays bounded', async () => {
    const t = await target({ luns: [4 * 1024 * 1024], limits: { queueDepth: 1024, sendHighWaterMark: 65536 } })
    const commands = record<CommandEvent>('iscsi:target:command')
    const c = await session(t)
    commands.length = 0
    c.socket.pause()
    const total = 600
    const itts: number[] = []
    for (let i = 0; i < total; i++) {
      itts.push(c.sendCommand({ cdb: read10(0, 512), read: true, expectedDataTransferLength: 256 * 1024 }).itt)
    }
    await new Promise((resolve) => setTimeout(resolve, 800))
    const executed = commands.length
    // Kernel socket buffers hold some responses; the target itself stops long before 600 x 256 KiB (150 MiB).
    expect(executed).toBeLessThan(100)
    c.socket.resume()
    for (const itt of itts) expect((await c.collect(itt, { timeoutMs: 20000 })).status).toBe(0)
    expect(commands.length).toBe(total)
  }, 60000)
})

describe('portals', () => {
  it('listens on IPv6 and serves connections concurrently with IPv4', async () => {
    const backstore = new MemoryBackstore({ size: 1024 * 1024 })
    const name = 'iqn.2026-11.io.iscsi-ts:dual'
    const target6 = new IscsiTarget({
      portalGroups: [
        { tag: 1, portals: [{ host: '127.0.0.1', port: 0 }] },
        { tag: 2, portals: [{ host: '::1', port: 0 }] },
      ],
      targets: [{ name, portalGroups: [1, 2], luns: new Map([[0, new LogicalUnit({ backstore })]]) }],
    })
    const events = record<ConnectionEvent>('iscsi:target:connection')
    try {
      let bound
      try {
        bound = await target6.listen()
      } catch (error) {
        // A machine without IPv6 loopback cannot run this test.
        if (String(error).includes('EADDRNOTAVAIL')) return
        throw error
      }
      expect(bound.map((b) => b.tag).sort()).toEqual([1, 2])
      const v6 = bound.find((b) => b.tag === 2)!
      const v4 = bound.find((b) => b.tag === 1)!
      const c6 = await RawConnection.connect({ host: '::1', port: v6.port })
      const c4 = await RawConnection.connect({ host: '127.0.0.1', port: v4.port })
      await Promise.all([c6.login({ targetName: name }), c4.login({ targetName: name })])
      expect(target6.stats.sessions).toBe(2)
      expect(events.filter((e) => e.event === 'open').some((e) => e.remote.startsWith('[::1]'))).toBe(true)
      c6.destroy()
      c4.destroy()
    } finally {
      await target6.close()
    }
  })
})
