// The CLI's interop scenarios, run against a real target (tgtd, or our own target): every command through the
// real initiator, outputs checked as a user would (exit codes, JSON documents, bytes compared by hash).
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInitiatorConnector } from '../initiator-connector.js'
import { type RunResult, runCli } from './memory-target.js'

export interface InteropPeer {
  /** host:port of the portal. */
  readonly portal: string
  readonly targetName: string
  /** iscsi://host:port/target/lun of a writable, initially zero disk LUN. */
  readonly url: string
  readonly lunSize: number
  readonly blockSize: number
  /** A target behind one-way CHAP. */
  readonly chap?: { readonly url: string; readonly user: string; readonly secret: string }
  /** A target that only accepts CRC32C digests. */
  readonly digestUrl?: string
  /** Another LUN of at least `lunSize` bytes, for a LUN-to-LUN copy. */
  readonly secondUrl?: string
  /** Whether the LUN is thin provisioned (GET LBA STATUS, WRITE SAME with UNMAP). */
  readonly thin: boolean
  /** Whether PERSISTENT RESERVE IN/OUT are supported. */
  readonly reservations: boolean
  /**
   * Whether the target keeps a registration for the next session of the same initiator port (name + ISID), as
   * SPC-4 5.12 asks. tgtd does not: it names an I_T nexus after the session's TSIH, so every login is a new nexus.
   */
  readonly reservationsAcrossSessions: boolean
}

export interface RunningPeer {
  readonly peer: InteropPeer
  stop(): Promise<void>
}

const MiB = 1024 * 1024

export function run(argv: readonly string[], options: { env?: Record<string, string>; stdin?: Buffer } = {}): Promise<RunResult> {
  return runCli(argv, createInitiatorConnector({ env: {} }), options)
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** A 32 MiB image with holes: data, 8 MiB hole, data, hole, a partial last block of data. */
async function imageWithHoles(path: string, blockSize: number): Promise<Buffer> {
  const size = 32 * MiB - blockSize / 2
  const file = await open(path, 'w')
  const image = Buffer.alloc(size)
  for (const [offset, length] of [
    [0, 4 * MiB],
    [12 * MiB, 6 * MiB + 4096],
    [24 * MiB + 512, 64 * 1024],
    [size - 3000, 3000],
  ] as const) {
    const data = randomBytes(length)
    data.copy(image, offset)
    await file.write(data, 0, length, offset)
  }
  await file.truncate(size)
  await file.close()
  return image
}

/** Register every scenario under `describe(name)`; `start` returns undefined when the peer is unavailable. */
export function defineInteropSuite(name: string, start: () => Promise<RunningPeer | undefined>): void {
  describe(name, () => {
    let running: RunningPeer | undefined
    let dir = ''
    beforeAll(async () => {
      running = await start()
      dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-interop-'))
    })
    afterAll(async () => {
      await running?.stop()
      await rm(dir, { recursive: true, force: true })
    })
    const peer = (skip: () => void): InteropPeer => {
      if (!running) skip()
      return running!.peer
    }

    it('discover lists the target (text and JSON)', async (ctx) => {
      const p = peer(() => ctx.skip())
      const text = await run(['discover', p.portal])
      expect(text.code, text.stderr).toBe(0)
      expect(text.stdout).toContain(p.targetName)
      expect(text.stdout).toMatch(/^ {2}\S+:\d+,\d+$/m)
      const json = await run(['--json', 'discover', p.portal])
      const doc = JSON.parse(json.stdout) as { targets: Array<{ name: string; addresses: Array<{ tpgt: number }> }> }
      expect(doc.targets.map((t) => t.name)).toContain(p.targetName)
    })

    it('ls shows the disk LUN with its size', async (ctx) => {
      const p = peer(() => ctx.skip())
      const r = await run(['--json', 'ls', p.url.replace(/\/\d+$/, '')])
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout) as { targets: Array<{ name: string; luns: Array<{ lun: number; type: string; bytes?: number }> }> }
      const lun = doc.targets[0]?.luns.find((l) => l.type === 'disk')
      expect(lun?.bytes).toBe(p.lunSize)
      const text = await run(['ls', p.url.replace(/\/\d+$/, '')])
      expect(text.stdout).toContain(`Target: ${p.targetName}`)
      expect(text.stdout).toMatch(/disk +\S+ \S+ +\d+ +512/)
    })

    it('inquiry prints standard data and VPD pages 00, 80, 83, b0', async (ctx) => {
      const p = peer(() => ctx.skip())
      const standard = await run(['inquiry', p.url])
      expect(standard.code, standard.stderr).toBe(0)
      expect(standard.stdout).toMatch(/device type: +disk \(0x00\)/)
      expect(standard.stdout).toMatch(/vendor: +\S+/)
      const all = await run(['--json', 'inquiry', p.url, '--all'])
      expect(all.code, all.stderr).toBe(0)
      const doc = JSON.parse(all.stdout) as { pages: Array<{ page: number; error?: string }> }
      const pages = doc.pages.map((page) => page.page)
      expect(pages).toEqual(expect.arrayContaining([0x00, 0x80, 0x83]))
      const ident = await run(['inquiry', p.url, '--page', '83'])
      expect(ident.code, ident.stderr).toBe(0)
      expect(ident.stdout).toMatch(/VPD page 0x83 \(device identification\)/)
      expect(ident.stdout).toMatch(/type: +(NAA|T10 vendor ID|SCSI name string|EUI-64)/)
    })

    it('readcap decodes READ CAPACITY (16)', async (ctx) => {
      const p = peer(() => ctx.skip())
      const r = await run(['--json', 'readcap', p.url])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ blockSize: p.blockSize, bytes: p.lunSize, blocks: p.lunSize / p.blockSize, lbpme: p.thin })
      const text = await run(['readcap', p.url])
      expect(text.stdout).toMatch(new RegExp(`^block size: +${p.blockSize} bytes$`, 'm'))
    })

    it('write then read round-trips an unaligned range', async (ctx) => {
      const p = peer(() => ctx.skip())
      const data = randomBytes(10_000)
      const w = await run(['write', p.url, '--offset', '100000'], { stdin: data })
      expect(w.code, w.stderr).toBe(0)
      const r = await run(['read', p.url, '--offset', '100000', '--length', '10000'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdoutBytes.equals(data)).toBe(true)
      const fua = await run(['write', p.url, '--offset', '200000', '--fua'], { stdin: data })
      expect(fua.code, fua.stderr).toBe(0)
    })

    it('reading past the end fails with decoded sense (exit 4)', async (ctx) => {
      const p = peer(() => ctx.skip())
      const r = await run(['read', p.url, '--offset', String(p.lunSize), '--length', '512'])
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr).toMatch(/^iscsi: read failed: ILLEGAL REQUEST: .*\(0x21\/0x00\)\n$/)
    })

    it('cp uploads a 32 MiB image with holes and downloads it back, equal by hash', async (ctx) => {
      const p = peer(() => ctx.skip())
      const source = join(dir, 'image.bin')
      const image = await imageWithHoles(source, p.blockSize)
      const up = await run(['--json', 'cp', source, p.url, '--verify'])
      expect(up.stderr).toBe('')
      expect(up.code, up.stderr).toBe(0)
      const upDoc = JSON.parse(up.stdout) as { bytes: number; zeroBytes: number; verified: { sha256: string } }
      expect(upDoc.bytes).toBe(image.length)
      expect(upDoc.zeroBytes).toBeGreaterThanOrEqual(8 * MiB)
      expect(upDoc.verified.sha256).toBe(sha(image))

      const back = join(dir, 'back.bin')
      const down = await run(['--json', 'cp', p.url, back, '--verify', '--qd', '4'])
      expect(down.code, down.stderr).toBe(0)
      const copied = await readFile(back)
      expect(copied.length).toBe(p.lunSize)
      expect(sha(copied.subarray(0, image.length))).toBe(sha(image))
      const downDoc = JSON.parse(down.stdout) as { zeroBytes: number; deallocatedBytes: number }
      expect(downDoc.zeroBytes).toBeGreaterThan(0)
      if (p.thin) expect(downDoc.deallocatedBytes).toBeGreaterThan(0)
    })

    it('cp copies LUN to LUN, verified', async (ctx) => {
      const p = peer(() => ctx.skip())
      if (!p.secondUrl) ctx.skip()
      const r = await run(['--json', 'cp', p.url, p.secondUrl!, '--verify'])
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout) as { bytes: number; verified: { sha256: string } }
      expect(doc.bytes).toBe(p.lunSize)
      const [a, b] = await Promise.all([run(['read', p.url]), run(['read', p.secondUrl!, '--length', String(p.lunSize)])])
      expect(sha(a.stdoutBytes)).toBe(doc.verified.sha256)
      expect(sha(b.stdoutBytes)).toBe(doc.verified.sha256)
    })

    it('bench runs for a second and reports IOPS > 0', async (ctx) => {
      const p = peer(() => ctx.skip())
      const r = await run(['--json', 'bench', p.url, '--time', '1s', '--qd', '8', '--size', '16M'])
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout) as { iops: number; latencyUs: { p50: number; p99: number } }
      expect(doc.iops).toBeGreaterThan(0)
      expect(doc.latencyUs.p50).toBeGreaterThan(0)
      expect(doc.latencyUs.p99).toBeGreaterThanOrEqual(doc.latencyUs.p50)
      const w = await run(['bench', p.url, '--rw', 'randwrite', '--force', '--time', '1s', '--size', '16M', '--bs', '8k'])
      expect(w.code, w.stderr).toBe(0)
      expect(w.stdout).toMatch(/^IOPS: +[1-9]\d*$/m)
    })

    it('ping measures NOP round trips', async (ctx) => {
      const p = peer(() => ctx.skip())
      const r = await run(['--json', 'ping', p.url, '-c', '3', '-i', '50ms'])
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout) as { received: number; minMs: number; maxMs: number }
      expect(doc.received).toBe(3)
      expect(doc.maxMs).toBeGreaterThanOrEqual(doc.minMs)
    })

    it('CHAP: the right secret logs in, a wrong one exits 3', async (ctx) => {
      const p = peer(() => ctx.skip())
      if (!p.chap) ctx.skip()
      const chap = p.chap!
      const ok = await run(['--chap-user', chap.user, 'readcap', chap.url], { env: { ISCSI_CHAP_SECRET: chap.secret } })
      expect(ok.stderr).toBe('')
      expect(ok.code, ok.stderr).toBe(0)
      const bad = await run(['--chap-user', chap.user, 'readcap', chap.url], { env: { ISCSI_CHAP_SECRET: `${chap.secret}-wrong` } })
      expect(bad.code, bad.stderr).toBe(3)
      expect(bad.stderr).toMatch(/^iscsi: login failed: .*authenticat/i)
      const none = await run(['readcap', chap.url])
      expect(none.code, none.stderr).toBe(3)
      // One set of credentials lists a whole portal: targets without CHAP are asked again without it.
      const ls = await run(['--json', '--chap-user', chap.user, 'ls', p.portal], { env: { ISCSI_CHAP_SECRET: chap.secret } })
      expect(ls.code, ls.stderr).toBe(0)
      const names = (JSON.parse(ls.stdout) as { targets: Array<{ name: string; luns: unknown[] }> }).targets.map((t) => t.name)
      expect(names).toContain(p.targetName)
    })

    it('digests: CRC32C header and data digests', async (ctx) => {
      const p = peer(() => ctx.skip())
      if (!p.digestUrl) ctx.skip()
      const r = await run(['--header-digest', '--data-digest', 'read', p.digestUrl!, '--length', '64k'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdoutBytes.length).toBe(65536)
    })

    it('a closed port exits 5', async (ctx) => {
      peer(() => ctx.skip())
      const r = await run(['--timeout', '3s', 'discover', '127.0.0.1:1'])
      expect(r.code, r.stderr).toBe(5)
      expect(r.stderr).toMatch(/^iscsi: discovery failed: /)
    })

    // Last: on a target that cannot release across sessions the reservation stays.
    it('reserve, read-keys, read-reservation, conflict, release', async (ctx) => {
      const p = peer(() => ctx.skip())
      if (!p.reservations) ctx.skip()
      const key = '0x1234abcd'
      const reserve = await run(['reserve', p.url, '--key', key, '--type', 'we'])
      expect(reserve.code, reserve.stderr).toBe(0)
      const keys = await run(['--json', 'pr', p.url, 'read-keys'])
      expect((JSON.parse(keys.stdout) as { keys: string[] }).keys).toContain('0x000000001234abcd')
      const res = await run(['--json', 'pr', p.url, 'read-reservation'])
      expect(JSON.parse(res.stdout)).toMatchObject({ reservation: { key: '0x000000001234abcd', type: 'write-exclusive' } })
      // Another I_T nexus may not write under write exclusive.
      const other = await run(['--isid', '800000000099', 'write', p.url, '--offset', '0'], { stdin: Buffer.alloc(512) })
      expect(other.code, other.stderr).toBe(4)
      expect(other.stderr).toContain('RESERVATION CONFLICT')
      const caps = await run(['--json', 'pr', p.url, 'report-capabilities'])
      expect(caps.code, caps.stderr).toBe(0)
      expect(JSON.parse(caps.stdout)).toMatchObject({ typeMaskValid: true })
      const release = await run(['release', p.url, '--key', key, '--type', 'we', '--unregister'])
      if (!p.reservationsAcrossSessions) {
        // This run is a new I_T nexus for such a target, not the registrant: SPC-4 5.12.11.2 makes that a conflict.
        expect(release.code, release.stderr).toBe(4)
        expect(release.stderr).toBe('iscsi: release failed: RESERVATION CONFLICT (status 0x18)\n')
        return
      }
      expect(release.code, release.stderr).toBe(0)
      const after = await run(['--json', 'pr', p.url, 'read-reservation'])
      expect(JSON.parse(after.stdout)).toMatchObject({ reservation: null })
      const keysAfter = await run(['--json', 'pr', p.url, 'read-keys'])
      expect((JSON.parse(keysAfter.stdout) as { keys: string[] }).keys).not.toContain('0x000000001234abcd')
    })
  })
}
