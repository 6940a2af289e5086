// The initiator against Debian's tgtd, the reference peer, started by tooling/interop/tgtd.ts: discovery, login with
// and without CHAP, every helper command (asserting tgt's real answer where it lacks a command), large transfers,
// pipelining, digests, abort, and a tgtd killed and restarted in the middle of I/O.
import { createHash } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTgtd, tgtdAvailable, type TgtdInstance } from '../../../tooling/interop/tgtd.js'
import { AbortError, InitiatorError, LoginError, ScsiCommandError } from './errors.js'
import { discover } from './discovery.js'
import { Session } from './session.js'
import type { SessionOptions } from './session-options.js'

const inCi = process.env.CI === 'true' || process.env.CI === '1'
const run = tgtdAvailable() || inCi
const MUTUAL = { user: 'tgtmutual', secret: 'mutual-secret-9' }
const LUN = 1

function pattern(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i += 4) {
    // xorshift32: cheap, reproducible, incompressible enough for a data check.
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    buf.writeUInt32LE(x >>> 0, i)
  }
  return buf
}

function sha256(...buffers: Buffer[]): string {
  const hash = createHash('sha256')
  for (const b of buffers) hash.update(b)
  return hash.digest('hex')
}

describe.skipIf(!run)('initiator against tgtd', () => {
  let tgt: TgtdInstance
  const sessions: Session[] = []

  const open = async (extra: Partial<SessionOptions> = {}, target: 'plain' | 'chap' | 'digest' = 'plain'): Promise<Session> => {
    const session = await Session.login({ host: tgt.host, port: tgt.port, targetName: tgt[target].name, ...extra })
    sessions.push(session)
    return session
  }

  beforeAll(async () => {
    const started = await startTgtd({ mutualChap: MUTUAL })
    if (started === undefined) throw new Error('tgtd is not installed')
    tgt = started
  })

  afterAll(async () => {
    for (const session of sessions) await session.close()
    await tgt?.stop()
  })

  it('discovers the three targets through SendTargets', async () => {
    const targets = await discover({ host: tgt.host, port: tgt.port })
    const names = targets.map((t) => t.name).sort()
    expect(names).toEqual([tgt.chap.name, tgt.digest.name, tgt.plain.name].sort())
    for (const target of targets) expect(target.addresses).toContainEqual({ host: '127.0.0.1', port: tgt.port, tpgt: 1 })
  })

  it('logs in without CHAP and reports the negotiated parameters', async () => {
    const session = await open()
    const p = session.parameters
    expect(p.targetName).toBe(tgt.plain.name)
    expect(p.tsih).toBeGreaterThan(0)
    expect(p.errorRecoveryLevel).toBe(0)
    expect(p.immediateData).toBe(true)
    // tgt forces InitialR2T=Yes (the result is OR) and caps bursts at 256 KiB / 64 KiB, segments at 8 KiB.
    expect(p.initialR2T).toBe(true)
    expect(p.maxBurstLength).toBe(262144)
    expect(p.firstBurstLength).toBe(65536)
    expect(p.maxXmitDataSegmentLength).toBe(8192)
    expect(await session.ping()).toBeGreaterThanOrEqual(0)
    await session.logout()
    expect(session.state).toBe('closed')
    await expect(session.testUnitReady(LUN)).rejects.toMatchObject({ code: 'ISCSI_ERR_SESSION_CLOSED' })
  })

  it('logs in with one-way and mutual CHAP', async () => {
    const session = await open({ chap: { user: tgt.chap.user, secret: tgt.chap.secret } }, 'chap')
    await session.testUnitReady(LUN)
    await session.logout()
    const mutual = await open({ chap: { user: tgt.chap.user, secret: tgt.chap.secret }, mutualChap: MUTUAL }, 'chap')
    await mutual.testUnitReady(LUN)
    await mutual.logout()
  })

  it('is refused with LoginError 0x0201 for a wrong secret or a missing CHAP', async () => {
    for (const extra of [{ chap: { user: tgt.chap.user, secret: 'not-the-secret1' } }, {}]) {
      const error = await open(extra, 'chap').then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(LoginError)
      expect(error).toMatchObject({ code: 'ISCSI_ERR_LOGIN_AUTH', statusClass: 2, statusDetail: 1 })
    }
  })

  it('fails mutual CHAP when the target cannot prove the secret we expect', async () => {
    const error = await open({ chap: { user: tgt.chap.user, secret: tgt.chap.secret }, mutualChap: { user: MUTUAL.user, secret: 'another-secret1' } }, 'chap').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(LoginError)
    expect((error as LoginError).code).toBe('ISCSI_ERR_LOGIN_AUTH')
  })

  it('reports a missing target as LoginError 0x0203', async () => {
    const error = await Session.login({ host: tgt.host, port: tgt.port, targetName: 'iqn.2026-11.io.iscsi-ts.test:absent' }).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'ISCSI_ERR_LOGIN_NOT_FOUND', statusClass: 2, statusDetail: 3 })
  })

  it('answers INQUIRY, VPD pages, READ CAPACITY and REPORT LUNS', async () => {
    const session = await open()
    const inquiry = await session.inquiry(LUN)
    expect(inquiry).toMatchObject({ kind: 'standard', peripheralDeviceType: 0, vendor: 'IET', product: 'VIRTUAL-DISK', cmdque: true })
    const pages = await session.inquiry(LUN, { page: 0x00 })
    expect(pages.name === 'supported-pages' && pages.pages).toEqual(expect.arrayContaining([0x00, 0x80, 0x83, 0xb0, 0xb2]))
    const serial = await session.inquiry(LUN, { page: 0x80 })
    expect(serial.name === 'unit-serial-number' && serial.serialNumber).toMatch(/^\S+$/)
    const ids = await session.inquiry(LUN, { page: 0x83 })
    expect(ids.name === 'device-identification' && ids.designators.some((d) => d.type === 3)).toBe(true)
    const limits = await session.inquiry(LUN, { page: 0xb0 })
    expect(limits.name).toBe('block-limits')
    const lbp = await session.inquiry(LUN, { page: 0xb2 })
    expect(lbp).toMatchObject({ name: 'logical-block-provisioning', lbpu: true, lbpws: true })
    const capacity = await session.readCapacity(LUN)
    expect(capacity).toMatchObject({ blockSize: 512, blockCount: BigInt(tgt.lunSize / 512), lbpme: true })
    expect(await session.reportLuns()).toEqual([0, 1])
    await session.testUnitReady(LUN)
    const error = await session.read(LUN, BigInt(tgt.lunSize / 512), 1).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ScsiCommandError)
    expect(error).toMatchObject({ status: 2, senseKey: 5, sense: { asc: 0x21, ascq: 0 } })
    await session.logout()
  })

  it('reads and writes with FUA, choosing 10- or 16-byte CDBs by size', async () => {
    const session = await open()
    const cdbs: Buffer[] = []
    // Every command goes through the session's (protected) submit: read/write call it directly, execute too.
    type Submit = (lun: number, cdb: Buffer, ...rest: unknown[]) => void
    const target = session as unknown as { submit: Submit }
    const submit = target.submit.bind(session)
    target.submit = (lun, cdb, ...rest) => {
      cdbs.push(Buffer.from(cdb))
      submit(lun, cdb, ...rest)
    }
    const small = pattern(8 * 512, 11)
    await session.write(LUN, 2000, small, { fua: true })
    const back = await session.read(LUN, 2000, 8, { fua: true })
    expect(Buffer.compare(back, small)).toBe(0)
    const write10 = cdbs.find((c) => c[0] === 0x2a)!
    expect(write10[1]! & 0x08).toBe(0x08)
    expect(cdbs.find((c) => c[0] === 0x28)![1]! & 0x08).toBe(0x08)
    // More than 65535 blocks needs READ(16)/WRITE(16).
    const big = pattern(70000 * 512, 12)
    await session.write(LUN, 4096, big)
    const into = Buffer.alloc(big.length)
    const read = await session.read(LUN, 4096, 70000, { into })
    expect(read.buffer).toBe(into.buffer)
    expect(sha256(read)).toBe(sha256(big))
    expect(cdbs.some((c) => c[0] === 0x8a)).toBe(true)
    expect(cdbs.some((c) => c[0] === 0x88)).toBe(true)
    await session.syncCache(LUN)
    await session.syncCache(LUN, 4096, 70000)
    await session.logout()
  })

  it('writes same, unmaps and reports LBA status', async () => {
    const session = await open()
    await session.writeSame(LUN, 10000, 64, { data: Buffer.alloc(512, 0xab) })
    const same = await session.read(LUN, 10000, 64)
    expect(same.every((b) => b === 0xab)).toBe(true)
    // Map a region, then deallocate it two ways.
    await session.write(LUN, 16384, pattern(4096 * 512, 5))
    let status = await session.getLbaStatus(LUN, 16384)
    expect(status[0]).toMatchObject({ lba: 16384n, status: 'mapped' })
    await session.unmap(LUN, [{ lba: 16384, blocks: 2048 }])
    await session.writeSame(LUN, 18432, 2048, { unmap: true })
    status = await session.getLbaStatus(LUN, 16384)
    expect(status[0]).toMatchObject({ lba: 16384n, status: 'deallocated' })
    expect(Number(status[0]!.blocks)).toBeGreaterThanOrEqual(4096)
    const zeros = await session.read(LUN, 16384, 4096)
    expect(zeros.every((b) => b === 0)).toBe(true)
    await session.logout()
  })

  it('gets tgt’s real answer to COMPARE AND WRITE (not supported: ILLEGAL REQUEST, invalid opcode)', async () => {
    const session = await open()
    const block = Buffer.alloc(512, 1)
    await session.write(LUN, 300, block)
    const error = await session.compareAndWrite(LUN, 300, block, Buffer.alloc(512, 2)).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ScsiCommandError)
    expect(error).toMatchObject({ status: 2, senseKey: 5, sense: { asc: 0x20, ascq: 0 } })
    expect((error as Error).message).toMatch(/COMPARE AND WRITE on LUN 1 failed: CHECK CONDITION, ILLEGAL REQUEST/)
    await session.logout()
  })

  it('registers, reserves, reads keys and reservation, releases and unregisters (persistent reservations)', async () => {
    const session = await open()
    const key = 0x1122334455667788n
    const caps = await session.persistentReserveIn(LUN, 'report-capabilities')
    expect(caps.tmv).toBe(true)
    expect(caps.types).toContain(1)
    await session.persistentReserveOut(LUN, 'register', { serviceActionKey: key })
    const keys = await session.persistentReserveIn(LUN, 'read-keys')
    expect(keys.keys).toEqual([key])
    await session.persistentReserveOut(LUN, 'reserve', { key, type: 1 })
    const held = await session.persistentReserveIn(LUN, 'read-reservation')
    expect(held.reservation).toEqual({ key, scope: 0, type: 1 })
    // Another I_T nexus (a second session) is fenced off for writes by Write Exclusive.
    const other = await open()
    const conflict = await other.write(LUN, 0, Buffer.alloc(512)).then(() => undefined, (e: unknown) => e)
    expect(conflict).toMatchObject({ code: 'ISCSI_ERR_SCSI_STATUS', status: 0x18 })
    expect((conflict as Error).message).toMatch(/RESERVATION CONFLICT/)
    // tgt does not implement READ FULL STATUS: its real answer.
    await expect(session.persistentReserveIn(LUN, 'read-full-status')).rejects.toMatchObject({ status: 2, senseKey: 5 })
    await session.persistentReserveOut(LUN, 'release', { key, type: 1 })
    expect((await session.persistentReserveIn(LUN, 'read-reservation')).reservation).toBeUndefined()
    await session.persistentReserveOut(LUN, 'register', { key, serviceActionKey: 0n })
    expect((await session.persistentReserveIn(LUN, 'read-keys')).keys).toEqual([])
    await other.write(LUN, 0, Buffer.alloc(512))
    await other.logout()
    await session.logout()
  })

  it('writes 64 MiB and reads it back identical (by hash)', async () => {
    const session = await open()
    const total = 64 * 1024 * 1024
    const chunk = 1024 * 1024
    const blocksPerChunk = chunk / 512
    const base = 65536
    const hash = createHash('sha256')
    const writes: Promise<void>[] = []
    for (let i = 0; i < total / chunk; i++) {
      const data = pattern(chunk, 1000 + i)
      hash.update(data)
      writes.push(session.write(LUN, base + i * blocksPerChunk, data))
      if (writes.length >= 16) await Promise.all(writes.splice(0))
    }
    await Promise.all(writes)
    const readHash = createHash('sha256')
    const readChunk = 4 * 1024 * 1024
    const reads: Array<Promise<Buffer>> = []
    for (let i = 0; i < total / readChunk; i++) reads.push(session.read(LUN, base + (i * readChunk) / 512, readChunk / 512))
    for (const data of await Promise.all(reads)) readHash.update(data)
    expect(readHash.digest('hex')).toBe(hash.digest('hex'))
    await session.logout()
  })

  it('pipelines 32 commands at once within the CmdSN window', async () => {
    const session = await open()
    await session.readCapacity(LUN)
    let peak = 0
    const onSend = (): void => {
      peak = Math.max(peak, session.outstanding.sent)
    }
    subscribe('iscsi:initiator:pdu:send', onSend)
    try {
      const size = 64 * 1024
      const datas = Array.from({ length: 32 }, (_, i) => pattern(size, 500 + i))
      await Promise.all(datas.map((data, i) => session.write(LUN, 200000 + (i * size) / 512, data)))
      // All 32 were on the wire together: the window (tgt: MaxCmdSN = ExpCmdSN + 127) held them.
      expect(peak).toBe(32)
      peak = 0
      const results = await Promise.all(datas.map((_, i) => session.read(LUN, 200000 + (i * size) / 512, size / 512)))
      expect(peak).toBe(32)
      results.forEach((data, i) => expect(Buffer.compare(data, datas[i]!)).toBe(0))
    } finally {
      unsubscribe('iscsi:initiator:pdu:send', onSend)
    }
    await session.logout()
  })

  it('negotiates header and data digests with the digest target and moves data with them', async () => {
    const session = await open({}, 'digest')
    expect(session.parameters).toMatchObject({ headerDigest: 'CRC32C', dataDigest: 'CRC32C' })
    const data = pattern(3 * 1024 * 1024 + 512, 77)
    await session.write(LUN, 1000, data)
    expect(sha256(await session.read(LUN, 1000, data.length / 512))).toBe(sha256(data))
    await session.logout()
  })

  it('aborts a command through its AbortSignal with ABORT TASK, and the session goes on', async () => {
    const session = await open()
    const tmfs: unknown[] = []
    const onSend = (message: unknown): void => {
      if ((message as { opcode: number }).opcode === 0x02) tmfs.push(message)
    }
    subscribe('iscsi:initiator:pdu:send', onSend)
    try {
      const controller = new AbortController()
      let sawData = false
      const onReceive = (message: unknown): void => {
        if ((message as { opcode: number }).opcode === 0x25 && !sawData) {
          sawData = true
          controller.abort(new Error('enough'))
        }
      }
      subscribe('iscsi:initiator:pdu:receive', onReceive)
      const error = await session.read(LUN, 0, 65536, { signal: controller.signal }).then(() => undefined, (e: unknown) => e)
      unsubscribe('iscsi:initiator:pdu:receive', onReceive)
      expect(error).toBeInstanceOf(AbortError)
      expect(tmfs.length).toBe(1)
      // Aborted before it was sent: rejected at once, nothing on the wire.
      const early = new AbortController()
      early.abort()
      await expect(session.read(LUN, 0, 8, { signal: early.signal })).rejects.toBeInstanceOf(AbortError)
      expect(tmfs.length).toBe(1)
      await session.testUnitReady(LUN)
      await session.lunReset(LUN)
      // After a LUN reset tgt reports UNIT ATTENTION once; the session retries it transparently.
      await session.testUnitReady(LUN)
      await session.abortAll()
    } finally {
      unsubscribe('iscsi:initiator:pdu:send', onSend)
    }
    await session.logout()
  })

  it('survives tgtd being killed and restarted mid-I/O: reconnects, reissues, every promise settles', async () => {
    const session = await open({ reconnect: { attempts: 40, backoffMs: 100 }, timeoutMs: 30_000 })
    const events: string[] = []
    session.on('disconnect', () => events.push('disconnect'))
    session.on('reconnect', () => events.push('reconnect'))
    await session.readCapacity(LUN)
    const size = 256 * 1024
    const base = 300000
    const expected = new Map<number, Buffer>()
    let stop = false
    let next = 0
    const settled: Array<'ok' | Error> = []
    const worker = async (): Promise<void> => {
      while (!stop) {
        const slot = next++ % 64
        const data = pattern(size, 9000 + next)
        const lba = base + (slot * size) / 512
        try {
          await session.write(LUN, lba, data)
          expected.set(slot, data)
          const back = await session.read(LUN, lba, size / 512)
          // Another worker may have rewritten the slot meanwhile; only this worker's copy is compared if unchanged.
          if (expected.get(slot) === data) expect(Buffer.compare(back, data)).toBe(0)
          settled.push('ok')
        } catch (error) {
          settled.push(error as Error)
        }
      }
    }
    const workers = Array.from({ length: 8 }, () => worker())
    await new Promise((resolve) => setTimeout(resolve, 300))
    await tgt.kill()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await tgt.start()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    stop = true
    // Every worker finishes: no promise is left hanging (each command has a 30 s timeout at most).
    await Promise.all(workers)
    expect(events[0]).toBe('disconnect')
    expect(events).toContain('reconnect')
    const failures = settled.filter((s): s is Error => s !== 'ok')
    for (const failure of failures) expect(failure).toBeInstanceOf(InitiatorError)
    // Reads and writes are safe to repeat, so the reinstated session reissued them: nothing failed.
    expect(failures).toEqual([])
    expect(settled.length).toBeGreaterThan(8)
    for (const [slot, data] of expected) {
      expect(Buffer.compare(await session.read(LUN, base + (slot * size) / 512, size / 512), data)).toBe(0)
    }
    await session.logout()
  })
})

if (!run) {
  describe('initiator against tgtd', () => {
    it.skip('tgtd is not installed (Debian package "tgt", see tooling/scripts/install-peers.sh): skipped', () => undefined)
  })
}
