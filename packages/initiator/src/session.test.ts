// The session against the in-process fake target: the write path (immediate data, unsolicited Data-Out, R2T
// answers), Data-In placement, the CmdSN window, task management, timeouts, NOP and Async Message handling,
// redirection, MC/S and session reinstatement after a connection loss.
import { getEventListeners } from 'node:events'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Opcode, RESERVED_TAG, type DataOutPdu, type ScsiCommandPdu } from '@iscsi-ts/pdu'
import { AbortError, ConnectionError, InitiatorError, ScsiCommandError, TimeoutError } from './errors.js'
import { FakeTarget, fixedSense, type FakeCommand, type FakeTargetOptions } from './fake-target.js'
import { Session } from './session.js'
import type { AsyncEventInfo } from './async-event.js'
import type { SessionOptions } from './session-options.js'

const targets: FakeTarget[] = []
const sessions: Session[] = []

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
  for (const target of targets.splice(0)) await target.close()
})

async function fake(options: FakeTargetOptions = {}): Promise<FakeTarget> {
  const target = await FakeTarget.start(options)
  targets.push(target)
  return target
}

async function login(target: FakeTarget, options: Partial<SessionOptions> = {}): Promise<Session> {
  const session = await Session.login({ host: target.host, port: target.port, targetName: target.targetName, reconnect: false, ...options })
  sessions.push(session)
  return session
}

function pattern(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length)
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed) & 0xff
  return buf
}

const readCdb = (lba: number, blocks: number): Buffer => {
  const cdb = Buffer.alloc(10)
  cdb[0] = 0x28
  cdb.writeUInt32BE(lba, 2)
  cdb.writeUInt16BE(blocks, 7)
  return cdb
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('Session against the fake target', () => {
  it('writes and reads back, Data-In landing in the caller buffer, split across PDUs with a separate status', async () => {
    const target = await fake({ dataInSegment: 1000, collapseStatus: false })
    const session = await login(target)
    const data = pattern(64 * 512, 1)
    await session.write(0, 10, data)
    expect(Buffer.compare(target.disk.subarray(10 * 512, 74 * 512), data)).toBe(0)
    const into = Buffer.alloc(64 * 512 + 100)
    const read = await session.read(0, 10, 64, { into })
    expect(read.buffer).toBe(into.buffer)
    expect(read.length).toBe(64 * 512)
    expect(Buffer.compare(read, data)).toBe(0)
    // 32768 bytes in 1000-byte pieces, then a SCSI Response.
    expect(target.received(Opcode.ScsiCommand).at(-1)?.expectedDataTransferLength).toBe(32768)
  })

  it('reports residual underflow and decodes INQUIRY', async () => {
    const target = await fake()
    const session = await login(target)
    const cdb = Buffer.from([0x12, 0, 0, 0, 255, 0])
    const result = await session.execute(0, cdb, { dataInLength: 255 })
    expect(result.status).toBe(0)
    expect(result.data).toHaveLength(36)
    expect(result.residual).toEqual({ overflow: false, underflow: true, count: 219 })
    const inquiry = await session.inquiry(0)
    expect(inquiry).toMatchObject({ vendor: 'FAKE', product: 'RAMDISK', revision: '0001', version: 6, cmdque: true })
  })

  it('answers R2Ts: Data-Out within the target MaxRecvDataSegmentLength, TTT echoed, DataSN per sequence, several R2Ts outstanding', async () => {
    const target = await fake({
      limits: { maxRecvDataSegmentLength: 8192, initialR2T: true, immediateData: false, maxBurstLength: 65536 },
      r2tLength: 20000,
      outstandingR2T: 3,
    })
    const session = await login(target)
    expect(session.parameters).toMatchObject({ initialR2T: true, immediateData: false, maxXmitDataSegmentLength: 8192 })
    const data = pattern(200 * 512, 7)
    await session.write(0, 0, data)
    expect(Buffer.compare(target.disk.subarray(0, data.length), data)).toBe(0)
    const command = target.received(Opcode.ScsiCommand).at(-1)!
    expect(command.final).toBe(true)
    expect(command.data).toHaveLength(0)
    const dataOut = target.received(Opcode.DataOut).filter((pdu) => pdu.itt === command.itt)
    for (const pdu of dataOut) {
      expect(pdu.data.length).toBeLessThanOrEqual(8192)
      expect(pdu.ttt).not.toBe(RESERVED_TAG)
    }
    // Group by TTT: each R2T's sequence is contiguous, DataSN from 0, F only on its last PDU, exactly 20000 bytes.
    const byTtt = new Map<number, DataOutPdu[]>()
    for (const pdu of dataOut) byTtt.set(pdu.ttt, [...(byTtt.get(pdu.ttt) ?? []), pdu])
    expect(byTtt.size).toBe(Math.ceil(data.length / 20000))
    for (const sequence of byTtt.values()) {
      sequence.forEach((pdu, i) => {
        expect(pdu.dataSN).toBe(i)
        expect(pdu.final).toBe(i === sequence.length - 1)
        if (i > 0) expect(pdu.bufferOffset).toBe(sequence[i - 1]!.bufferOffset + sequence[i - 1]!.data.length)
      })
      const length = sequence.reduce((n, pdu) => n + pdu.data.length, 0)
      expect(length === 20000 || sequence[0]!.bufferOffset + length === data.length).toBe(true)
    }
  })

  it('sends immediate data and unsolicited Data-Out up to FirstBurstLength when InitialR2T=No', async () => {
    const target = await fake({ limits: { maxRecvDataSegmentLength: 4096, firstBurstLength: 16384, initialR2T: false, immediateData: true } })
    const session = await login(target)
    const data = pattern(64 * 512, 3)
    await session.write(0, 100, data)
    expect(Buffer.compare(target.disk.subarray(100 * 512, 164 * 512), data)).toBe(0)
    const command = target.received(Opcode.ScsiCommand).at(-1)!
    expect(command.final).toBe(false)
    expect(command.data).toHaveLength(4096)
    const unsolicited = target.received(Opcode.DataOut).filter((pdu) => pdu.itt === command.itt && pdu.ttt === RESERVED_TAG)
    expect(unsolicited.map((pdu) => [pdu.bufferOffset, pdu.data.length, pdu.dataSN, pdu.final])).toEqual([
      [4096, 4096, 0, false],
      [8192, 4096, 1, false],
      [12288, 4096, 2, true],
    ])
  })

  it('queues beyond the CmdSN window and sends the rest as the window opens', async () => {
    const held: FakeCommand[] = []
    const target = await fake({
      queueDepth: 3,
      onCommand: (command) => {
        if (command.cdb[0] !== 0x28) return undefined
        held.push(command)
        return 'hold'
      },
    })
    const session = await login(target)
    const before = target.received(Opcode.ScsiCommand).length
    const reads = Array.from({ length: 7 }, (_, i) => session.execute(0, readCdb(i, 1), { dataInLength: 512 }))
    await until(() => held.length === 3)
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Only what the window allows went out; the rest waits locally.
    expect(target.received(Opcode.ScsiCommand).length - before).toBe(3)
    expect(session.outstanding).toEqual({ sent: 3, queued: 4 })
    // Completing commands slides MaxCmdSN forward in the responses; the queue drains in order.
    while (held.length > 0 || session.outstanding.queued > 0) {
      const next = held.shift()
      if (next) next.respond({ status: 0, data: Buffer.alloc(512, next.cdb[5]) })
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const results = await Promise.all(reads)
    expect(results.map((r) => r.status)).toEqual([0, 0, 0, 0, 0, 0, 0])
    const cmdSNs = target.received(Opcode.ScsiCommand).slice(before).map((pdu) => pdu.cmdSN)
    expect(cmdSNs).toEqual(cmdSNs.map((_, i) => (cmdSNs[0]! + i) >>> 0))
  })

  it('aborts a command with an AbortSignal: ABORT TASK naming its ITT and CmdSN, then AbortError', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    const controller = new AbortController()
    const pending = session.read(0, 0, 8, { signal: controller.signal })
    await until(() => target.held.length === 1)
    controller.abort()
    const error = await pending.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(AbortError)
    expect((error as AbortError).taskCompleted).toBe(false)
    const tmf = target.received(Opcode.TaskManagementRequest).at(-1)!
    const command = target.received(Opcode.ScsiCommand).at(-1)!
    expect(tmf).toMatchObject({ function: 1, referencedTaskTag: command.itt, refCmdSN: command.cmdSN, immediate: true })
    // The session goes on.
    await session.testUnitReady(0)
  })

  it('rejects at once a command aborted before it was sent', async () => {
    const target = await fake()
    const session = await login(target)
    const controller = new AbortController()
    controller.abort()
    await expect(session.read(0, 0, 1, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError)
  })

  it('times out a command the target never answers, then aborts it on the target', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    const started = Date.now()
    const error = await session.execute(0, readCdb(0, 1), { dataInLength: 512, timeoutMs: 150 }).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).code).toBe('ISCSI_ERR_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(2000)
    await until(() => target.received(Opcode.TaskManagementRequest).length === 1)
    expect(target.received(Opcode.TaskManagementRequest)[0]!.function).toBe(1)
  })

  it('throws ScsiCommandError with decoded sense on CHECK CONDITION', async () => {
    const target = await fake({ blockCount: 100 })
    const session = await login(target)
    const error = await session.read(0, 1000, 1).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ScsiCommandError)
    const e = error as ScsiCommandError
    expect(e.status).toBe(2)
    expect(e.senseKey).toBe(5)
    expect(e.sense).toMatchObject({ asc: 0x21, ascq: 0 })
    expect(e.message).toMatch(/READ\(10\) on LUN 0 failed: CHECK CONDITION, ILLEGAL REQUEST/)
  })

  it('runs READ/WRITE on the I/O path once the block size is known: data or ScsiCommandError, one promise each', async () => {
    const target = await fake({ blockCount: 100 })
    const session = await login(target)
    await session.readCapacity(0)
    const data = pattern(8 * 512, 3)
    await expect(session.write(0, 20, data)).resolves.toBeUndefined()
    // Exactly filled: the caller's buffer itself comes back.
    const into = Buffer.alloc(8 * 512)
    expect(await session.read(0, 20n, 8, { into })).toBe(into)
    expect(into).toEqual(data)
    const error = await session.read(0, 99, 2).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ScsiCommandError)
    expect((error as ScsiCommandError).message).toMatch(/READ\(10\) on LUN 0 failed: CHECK CONDITION, ILLEGAL REQUEST/)
    await expect(session.write(0, 99, data)).rejects.toBeInstanceOf(ScsiCommandError)
    await expect(session.read(0, 0, 1, { into: Buffer.alloc(10) })).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
    await expect(session.write(0, 0, Buffer.alloc(100))).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
  })

  it('adds one abort listener to a signal shared by many commands, and aborting it aborts them all', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    await session.readCapacity(0)
    const controller = new AbortController()
    const pending = Array.from({ length: 10 }, (_, i) => session.read(0, i, 1, { signal: controller.signal }).then(() => undefined, (e: unknown) => e))
    await until(() => target.held.length === 10)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort()
    for (const error of await Promise.all(pending)) expect(error).toBeInstanceOf(AbortError)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    // Commands that finish normally take their listener share with them.
    const other = new AbortController()
    await session.testUnitReady(0, { signal: other.signal })
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0)
  })

  it('times out each command at its own deadline while others go on', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 && command.cdb.readUInt32BE(2) >= 50 ? 'hold' : undefined) })
    const session = await login(target)
    const started = Date.now()
    const short = session.execute(0, readCdb(50, 1), { dataInLength: 512, timeoutMs: 100 }).then(() => undefined, (e: unknown) => e)
    const long = session.execute(0, readCdb(51, 1), { dataInLength: 512, timeoutMs: 400 }).then(() => undefined, (e: unknown) => e)
    await session.execute(0, readCdb(0, 1), { dataInLength: 512, timeoutMs: 200 })
    expect(await short).toBeInstanceOf(TimeoutError)
    const shortAt = Date.now() - started
    expect(await long).toBeInstanceOf(TimeoutError)
    const longAt = Date.now() - started
    expect(shortAt).toBeGreaterThanOrEqual(95)
    expect(longAt).toBeGreaterThanOrEqual(395)
    expect(longAt).toBeLessThan(3000)
  })

  it('retries a command that gets UNIT ATTENTION (it was not executed)', async () => {
    let first = true
    const target = await fake({
      onCommand: () => {
        if (!first) return undefined
        first = false
        return { status: 2, sense: fixedSense(0x06, 0x29, 0x00) }
      },
    })
    const session = await login(target)
    const attentions: unknown[] = []
    session.on('unit-attention', (info) => attentions.push(info))
    await session.testUnitReady(0)
    expect(attentions).toHaveLength(1)
    expect(target.received(Opcode.ScsiCommand).filter((pdu) => pdu.cdb[0] === 0)).toHaveLength(2)
  })

  it('answers the target NOP-In ping with a NOP-Out echoing its TTT, and pings the target', async () => {
    const target = await fake()
    const session = await login(target)
    target.sendNopIn(0x1234, Buffer.from('ping'))
    await until(() => target.received(Opcode.NopOut).some((pdu) => pdu.ttt === 0x1234))
    const answer = target.received(Opcode.NopOut).find((pdu) => pdu.ttt === 0x1234)!
    expect(answer.itt).toBe(RESERVED_TAG)
    expect(answer.immediate).toBe(true)
    expect(answer.data.toString()).toBe('ping')
    const ms = await session.ping()
    expect(ms).toBeGreaterThanOrEqual(0)
    expect(ms).toBeLessThan(5000)
  })

  it('times out a ping the target ignores', async () => {
    const target = await fake({ answerPings: false })
    const session = await login(target)
    await expect(session.ping(100)).rejects.toBeInstanceOf(TimeoutError)
  })

  it('follows a login redirect to the new portal', async () => {
    const real = await fake()
    const redirector = await fake({ targetName: real.targetName, redirect: { address: `127.0.0.1:${real.port},1`, permanent: true, count: 100 } })
    const session = await login(redirector)
    expect(session.parameters.portal).toEqual({ host: '127.0.0.1', port: real.port })
    await session.testUnitReady(0)
    expect(real.received(Opcode.ScsiCommand)).toHaveLength(1)
    expect(redirector.received(Opcode.ScsiCommand)).toHaveLength(0)
  })

  it('gives up after too many redirects', async () => {
    const loop = await fake()
    // Redirects to itself forever.
    loop.options.redirect = { address: `127.0.0.1:${loop.port}`, permanent: false, count: 1000 }
    const error = await login(loop, { maxRedirects: 2 }).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(InitiatorError)
    expect((error as InitiatorError).code).toBe('ISCSI_ERR_LOGIN_REDIRECT')
    expect(loop.logins).toBe(3)
  })

  it('negotiates digests and moves data with them', async () => {
    const target = await fake({ limits: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] } })
    const session = await login(target, { headerDigest: true, dataDigest: true })
    expect(session.parameters).toMatchObject({ headerDigest: 'CRC32C', dataDigest: 'CRC32C' })
    const data = pattern(40 * 512 + 0, 9)
    await session.write(0, 3, data)
    expect(Buffer.compare(await session.read(0, 3, 40), data)).toBe(0)
  })

  it('reinstates the session after a connection loss and reissues the commands in flight', async () => {
    let drop = true
    const target = await fake({
      onCommand: (command) => {
        if (command.cdb[0] === 0x28 && drop) {
          drop = false
          return 'drop-connection'
        }
        return undefined
      },
    })
    target.disk.fill(0x5a, 0, 512)
    const session = await login(target, { reconnect: { attempts: 5, backoffMs: 10 } })
    const isid = target.received(Opcode.LoginRequest)[0]!.isid.toString('hex')
    const events: string[] = []
    session.on('disconnect', () => events.push('disconnect'))
    session.on('reconnect', () => events.push('reconnect'))
    const data = await session.read(0, 0, 1)
    expect(data[0]).toBe(0x5a)
    expect(events).toEqual(['disconnect', 'reconnect'])
    // Reinstatement: same ISID, TSIH 0 (RFC 7143 6.3.5 / 10.x).
    const leading = target.received(Opcode.LoginRequest).filter((pdu) => pdu.csg === 0 || pdu.csg === 1)
    expect(new Set(leading.map((pdu) => pdu.isid.toString('hex')))).toEqual(new Set([isid]))
    expect(target.logins).toBe(2)
    expect(session.state).toBe('logged-in')
  })

  it('fails a command that is not safe to repeat when the connection drops', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x89 ? 'drop-connection' : undefined) })
    const session = await login(target, { reconnect: { attempts: 3, backoffMs: 10 } })
    const caw = Buffer.alloc(16)
    caw[0] = 0x89
    caw[13] = 1
    const error = await session.execute(0, caw, { dataOut: Buffer.alloc(1024) }).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toMatch(/not safe to repeat/)
    // The session itself recovers.
    await until(() => session.state === 'logged-in')
    await session.testUnitReady(0)
  })

  it('settles every promise and closes when the target does not come back', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target, { reconnect: { attempts: 2, backoffMs: 20 }, loginTimeoutMs: 500 })
    const closed = new Promise<Error | undefined>((resolve) => session.once('close', resolve))
    const reads = Array.from({ length: 4 }, (_, i) => session.read(0, i, 1).then(() => 'ok', (e: unknown) => e))
    await until(() => target.held.length === 4)
    await target.close()
    const results = await Promise.all(reads)
    for (const result of results) expect(result).toBeInstanceOf(ConnectionError)
    const error = await closed
    expect(error).toBeInstanceOf(ConnectionError)
    expect(session.state).toBe('closed')
    await expect(session.testUnitReady(0)).rejects.toMatchObject({ code: 'ISCSI_ERR_SESSION_CLOSED' })
  })

  it('logs out when the target asks (Async Message 1), then reinstates the session', async () => {
    const target = await fake()
    const session = await login(target, { reconnect: { attempts: 3, backoffMs: 10 } })
    const events: number[] = []
    session.on('async', (info) => events.push(info.event))
    const reconnected = new Promise((resolve) => session.once('reconnect', resolve))
    target.sendAsync(1, { parameter3: 5 })
    await reconnected
    expect(events).toEqual([1])
    expect(target.received(Opcode.LogoutRequest)).toHaveLength(1)
    expect(target.received(Opcode.LogoutRequest)[0]!.reasonCode).toBe(0)
    await session.testUnitReady(0)
  })

  it('reconnects when the target announces a connection drop (Async Message 2)', async () => {
    const target = await fake()
    const session = await login(target, { reconnect: { attempts: 3, backoffMs: 10 } })
    const reconnected = new Promise((resolve) => session.once('reconnect', resolve))
    target.sendAsync(2, { parameter1: 0, parameter2: 0 })
    await reconnected
    expect(target.logins).toBe(2)
  })

  it('reports a SCSI async event with its sense', async () => {
    const target = await fake()
    const session = await login(target)
    const got = new Promise<AsyncEventInfo>((resolve) => session.once('async', resolve))
    const sense = fixedSense(0x06, 0x2a, 0x09)
    const data = Buffer.concat([Buffer.from([0, sense.length]), sense])
    target.sendAsync(0, { data, lun: 0n })
    const info = await got
    expect(info).toMatchObject({ event: 0, name: 'scsi-event', lun: 0 })
    expect(info.sense).toMatchObject({ key: 6, asc: 0x2a, ascq: 0x09 })
  })

  it('spreads commands over several connections when the target allows MC/S', async () => {
    const target = await fake({ limits: { maxConnections: 2 } })
    const session = await login(target, { maxConnections: 2 })
    expect(session.parameters.connections).toBe(2)
    await Promise.all(Array.from({ length: 8 }, (_, i) => session.read(0, i, 1)))
    const connections = [...target.connections]
    expect(connections).toHaveLength(2)
    expect(new Set(connections.map((c) => c.cid)).size).toBe(2)
    // Round robin: each connection carried half of the reads, and each task's Data-In came back on its own
    // connection (allegiance), or the reads would have failed.
    const perConnection = connections.map((c) => c.log.filter((pdu) => pdu.opcode === Opcode.ScsiCommand && pdu.cdb[0] === 0x28).length)
    expect(perConnection).toEqual([4, 4])
    // The second connection logged in with the session's TSIH.
    const second = connections[1]!.log.find((pdu) => pdu.opcode === Opcode.LoginRequest)
    expect(second?.opcode === Opcode.LoginRequest && second.tsih).toBe(session.parameters.tsih)
  })

  it('waits for commands in flight before logging out, then refuses new ones', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    const read = session.read(0, 0, 1)
    await until(() => target.held.length === 1)
    const logout = session.logout()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(target.received(Opcode.LogoutRequest)).toHaveLength(0)
    await expect(session.testUnitReady(0)).rejects.toMatchObject({ code: 'ISCSI_ERR_SESSION_CLOSED' })
    target.held[0]!.respond({ status: 0, data: Buffer.alloc(512) })
    await read
    await logout
    expect(target.received(Opcode.LogoutRequest)).toHaveLength(1)
    expect(session.state).toBe('closed')
  })

  it('refuses bad arguments with typed errors', async () => {
    const target = await fake()
    const session = await login(target)
    await expect(session.execute(0, Buffer.alloc(3))).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
    await expect(session.read(0, -1, 1)).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
    await expect(session.write(0, 0, Buffer.alloc(100))).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
    await expect(session.execute(0, readCdb(0, 1), { dataInLength: 512, into: Buffer.alloc(10) })).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
    await expect(Session.login({ host: '', targetName: 'x' })).rejects.toMatchObject({ code: 'ISCSI_ERR_INVALID_ARGUMENT' })
  })

  it('carries the negotiated parameters and the command fields RFC 7143 asks for', async () => {
    const target = await fake()
    const session = await login(target)
    await session.read(0, 0, 1)
    const command = target.received(Opcode.ScsiCommand).at(-1) as ScsiCommandPdu
    expect(command).toMatchObject({ read: true, write: false, attribute: 1, immediate: false, final: true, expectedDataTransferLength: 512 })
    expect(session.parameters.isid).toMatch(/^80[0-9a-f]{10}$/)
    expect(session.parameters.tsih).toBeGreaterThan(0)
  })
})

describe('Session: target-driven events and discovery against the fake target', () => {
  it('discovers targets over a SendTargets answer split across Text Responses (C=1)', async () => {
    const extra = Array.from({ length: 40 }, (_, i) => `iqn.2026-11.io.iscsi-ts.test:extra-${i}`)
    const target = await fake({ extraTargets: extra, textSegment: 100 })
    const { discover } = await import('./discovery.js')
    const found = await discover({ host: target.host, port: target.port })
    expect(found.map((t) => t.name)).toEqual([target.targetName, ...extra])
    expect(found[5]!.addresses).toEqual([{ host: '127.0.0.1', port: target.port, tpgt: 1 }])
    // One SendTargets request, then empty requests echoing TTT 0x777 until F=1.
    const texts = target.received(Opcode.TextRequest)
    expect(texts.length).toBeGreaterThan(10)
    expect(texts[0]!.ttt).toBe(RESERVED_TAG)
    for (const pdu of texts.slice(1)) expect(pdu).toMatchObject({ ttt: 0x777, data: Buffer.alloc(0) })
    expect(target.received(Opcode.LogoutRequest)).toHaveLength(1)
  })

  it('answers a negotiation request (Async Message 4) with a Text Request', async () => {
    const target = await fake()
    const session = await login(target)
    target.sendAsync(4, { parameter3: 5 })
    await until(() => target.received(Opcode.TextRequest).length === 1)
    expect(target.received(Opcode.TextRequest)[0]!.final).toBe(true)
    await session.testUnitReady(0)
  })

  it('reissues the commands of a LU whose tasks the target terminated (Async Message 5)', async () => {
    let hold = true
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 && hold ? 'ignore' : undefined) })
    const session = await login(target)
    const read = session.read(0, 0, 1)
    await until(() => target.received(Opcode.ScsiCommand).some((pdu) => pdu.cdb[0] === 0x28))
    hold = false
    target.sendAsync(5, { lun: 0n })
    expect(await read).toHaveLength(512)
    expect(target.received(Opcode.ScsiCommand).filter((pdu) => pdu.cdb[0] === 0x28)).toHaveLength(2)
  })

  it('detects a dead connection with keepalive pings and reconnects', async () => {
    const target = await fake({ answerPings: false })
    const session = await login(target, { keepalive: { intervalMs: 50, timeoutMs: 100 }, reconnect: { attempts: 3, backoffMs: 10 } })
    const reconnected = new Promise((resolve) => session.once('reconnect', resolve))
    await reconnected
    expect(target.received(Opcode.NopOut).length).toBeGreaterThanOrEqual(1)
    expect(target.logins).toBeGreaterThanOrEqual(2)
  })

  it('resets a LU: its commands in flight reject with AbortError', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    const reads = [session.read(0, 0, 1), session.read(0, 1, 1)].map((p) => p.then(() => 'ok', (e: unknown) => e))
    await until(() => target.held.length === 2)
    await session.lunReset(0)
    for (const result of await Promise.all(reads)) expect(result).toBeInstanceOf(AbortError)
    expect(target.received(Opcode.TaskManagementRequest).at(-1)!.function).toBe(5)
    await session.testUnitReady(0)
  })

  it('aborts every command of a LU with ABORT TASK SET', async () => {
    const target = await fake({ onCommand: (command) => (command.cdb[0] === 0x28 ? 'hold' : undefined) })
    const session = await login(target)
    const reads = [session.read(0, 0, 1), session.read(0, 1, 1)].map((p) => p.then(() => 'ok', (e: unknown) => e))
    await until(() => target.held.length === 2)
    await session.abortAll()
    for (const result of await Promise.all(reads)) expect(result).toBeInstanceOf(AbortError)
    expect(target.received(Opcode.TaskManagementRequest).at(-1)!.function).toBe(2)
  })

  it('logs in with CHAP against the fake and refuses a wrong secret with 0x0201', async () => {
    const target = await fake({ chap: { user: 'alice', secret: 'correct-horse-1' } })
    const session = await login(target, { chap: { user: 'alice', secret: 'correct-horse-1' } })
    await session.testUnitReady(0)
    const error = await login(target, { chap: { user: 'alice', secret: 'wrong-battery-2' } }).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'ISCSI_ERR_LOGIN_AUTH', statusClass: 2, statusDetail: 1 })
  })
})

describe('Session: timeouts and observability', () => {
  it('times out a login the target never answers', async () => {
    const { createServer } = await import('node:net')
    const sockets: Socket[] = []
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const started = Date.now()
      const error = await Session.login({ host: '127.0.0.1', port, targetName: 'iqn.x:y', loginTimeoutMs: 200 }).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(TimeoutError)
      expect(error).toMatchObject({ operation: 'login', timeoutMs: 200 })
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('refuses a connection to a closed port with ConnectionError', async () => {
    const target = await fake()
    const port = target.port
    await target.close()
    await expect(Session.login({ host: '127.0.0.1', port, targetName: 'iqn.x:y' })).rejects.toBeInstanceOf(ConnectionError)
  })

  it('publishes login and command events on diagnostics channels, without secrets', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel')
    const messages: Array<[string, Record<string, unknown>]> = []
    const names = ['iscsi:initiator:login', 'iscsi:initiator:command', 'iscsi:initiator:connection']
    const handlers = names.map((name) => {
      const handler = (message: unknown): void => {
        messages.push([name, message as Record<string, unknown>])
      }
      subscribe(name, handler)
      return [name, handler] as const
    })
    try {
      const target = await fake({ chap: { user: 'bob', secret: 'very-secret-123' } })
      const session = await login(target, { chap: { user: 'bob', secret: 'very-secret-123' } })
      await session.read(0, 0, 2)
      const loginEvent = messages.find(([name, m]) => name === 'iscsi:initiator:login' && m.event === 'success')
      expect(loginEvent?.[1]).toMatchObject({ targetName: target.targetName, sessionType: 'Normal' })
      const command = messages.find(([name, m]) => name === 'iscsi:initiator:command' && m.opcode === 0x28)?.[1]
      expect(command).toMatchObject({ lun: 0, bytesIn: 1024, bytesOut: 0, status: 0 })
      expect(typeof command?.durationNs).toBe('bigint')
      expect(messages.some(([name, m]) => name === 'iscsi:initiator:connection' && m.event === 'open')).toBe(true)
      expect(JSON.stringify(messages, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('very-secret-123')
    } finally {
      for (const [name, handler] of handlers) unsubscribe(name, handler)
    }
  })
})
