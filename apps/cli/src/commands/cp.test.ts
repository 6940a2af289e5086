// cp against in-memory LUNs: uploads and downloads compared byte for byte, sparse handling (GET LBA STATUS,
// WRITE SAME with UNMAP, holes), verification, resume after an interruption, LUN to LUN over one session.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, type MemoryLunOptions, runCli } from '../testing/memory-target.js'
import { redactUrl } from './cp.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL0 = `iscsi://127.0.0.1/${TARGET}/0`
const URL1 = `iscsi://127.0.0.1/${TARGET}/1`
const MiB = 1024 * 1024

function setup(options: Partial<MemoryLunOptions> = {}, second?: Partial<MemoryLunOptions>): { connector: MemoryConnector; lun: MemoryLun; lun1: MemoryLun | undefined } {
  const connector = new MemoryConnector()
  const target = connector.addTarget(TARGET)
  const lun = new MemoryLun({ size: 8 * MiB, ...options })
  target.luns.set(0, lun)
  const lun1 = second ? new MemoryLun({ size: 8 * MiB, ...second }) : undefined
  if (lun1) target.luns.set(1, lun1)
  return { connector, lun, lun1 }
}

/** 6 MiB: data, a 2 MiB zero run, data, a 1 MiB zero run, data, and an unaligned 100-byte tail. */
function image(): Buffer {
  const data = Buffer.alloc(6 * MiB + 100)
  randomBytes(MiB).copy(data, 0)
  randomBytes(MiB).copy(data, 3 * MiB)
  randomBytes(64 * 1024).copy(data, 4 * MiB + 512 * 1024)
  randomBytes(100).copy(data, 6 * MiB)
  return data
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-cp-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('cp file -> LUN', () => {
  it('uploads, sends zero runs as WRITE SAME with UNMAP on a thin LUN, keeps the bytes after a partial tail, verifies', async () => {
    const { connector, lun } = setup()
    const trailing = randomBytes(512)
    lun.fill(6 * MiB, trailing) // the last partial block of the image shares this block
    const data = image()
    const file = join(dir, 'up.img')
    await writeFile(file, data)
    const r = await runCli(['--json', 'cp', file, URL0, '--verify', '--qd', '4'], connector)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(lun.data.subarray(0, data.length).equals(data)).toBe(true)
    expect(lun.data.subarray(data.length, 6 * MiB + 512).equals(trailing.subarray(100))).toBe(true)
    const doc = JSON.parse(r.stdout) as Record<string, unknown>
    expect(doc).toMatchObject({ bytes: data.length, destination: URL0, verified: { sha256: sha(data) }, resumedFrom: 0 })
    expect(doc.zeroBytes).toBeGreaterThanOrEqual(3 * MiB)
    expect((doc.dataBytes as number) + (doc.zeroBytes as number)).toBe(data.length)
    expect(lun.counts.writeSameUnmap).toBeGreaterThan(0)
    expect(lun.counts.sync).toBe(1)
    // The zero runs are deallocated on the LUN.
    expect(lun.mapped[(1 * MiB + 4096) / 512]).toBe(0)
    expect(lun.mapped[0]).toBe(1)
  })

  it('on a fully provisioned LUN zeros go out as WRITE SAME without UNMAP', async () => {
    const { connector, lun } = setup({ thin: false })
    lun.fill(0, randomBytes(8 * MiB)) // old contents must be overwritten by the zeros
    const data = image()
    const file = join(dir, 'thick.img')
    await writeFile(file, data)
    const r = await runCli(['cp', file, URL0], connector)
    expect(r.code).toBe(0)
    expect(lun.data.subarray(0, data.length).equals(data)).toBe(true)
    expect(lun.counts.writeSame).toBeGreaterThan(0)
    expect(lun.counts.writeSameUnmap).toBe(0)
  })

  it('falls back to plain WRITEs of zeros when WRITE SAME is not supported', async () => {
    const { connector, lun } = setup({ thin: false, writeSame: false })
    lun.fill(0, randomBytes(8 * MiB))
    const data = image()
    const file = join(dir, 'nows.img')
    await writeFile(file, data)
    const r = await runCli(['cp', file, URL0], connector)
    expect(r.code).toBe(0)
    expect(lun.data.subarray(0, data.length).equals(data)).toBe(true)
  })

  it('--no-sparse writes every byte as data', async () => {
    const { connector, lun } = setup()
    const data = image()
    const file = join(dir, 'dense.img')
    await writeFile(file, data)
    const r = await runCli(['--json', 'cp', file, URL0, '--no-sparse'], connector)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ dataBytes: data.length, zeroBytes: 0 })
    expect(lun.counts.writeSame + lun.counts.writeSameUnmap + lun.counts.unmap).toBe(0)
  })

  it('refuses a source larger than the LUN (exit 1)', async () => {
    const { connector } = setup({ size: MiB })
    const file = join(dir, 'big.img')
    await writeFile(file, Buffer.alloc(2 * MiB))
    const r = await runCli(['cp', file, URL0], connector)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`iscsi: source (${2 * MiB} bytes) is larger than the destination LUN (${MiB} bytes)\n`)
  })

  it('refuses a chunk size that is not a block multiple', async () => {
    const { connector } = setup({ blockSize: 4096 })
    const file = join(dir, 'x.img')
    await writeFile(file, Buffer.alloc(8192))
    const r = await runCli(['cp', file, URL0, '--bs', '6k'], connector)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--bs must be a multiple of the block size (4096 bytes)')
  })

  it('a verification mismatch exits 1 with both hashes', async () => {
    const { connector, lun } = setup()
    const data = randomBytes(2 * MiB)
    const file = join(dir, 'v.img')
    await writeFile(file, data)
    lun.onCommand = (op) => {
      if (op === 'read') lun.data[12345] = (lun.data[12345]! + 1) & 0xff // corrupt before the read-back
    }
    const r = await runCli(['cp', file, URL0, '--verify'], connector)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^iscsi: verification failed: source sha256 [0-9a-f]{64}, destination sha256 [0-9a-f]{64}\n$/)
  })
})

describe('cp LUN -> file', () => {
  it('skips deallocated ranges reported by GET LBA STATUS and leaves holes in the file', async () => {
    const { connector, lun } = setup()
    const data = image()
    lun.fill(0, data)
    lun.deallocate(MiB / 512, (2 * MiB) / 512) // the 2 MiB zero run is unmapped on the LUN
    lun.deallocate((6 * MiB + 512) / 512, (2 * MiB - 512) / 512)
    const file = join(dir, 'down.img')
    const r = await runCli(['--json', 'cp', URL0, file, '--verify'], connector)
    expect(r.code).toBe(0)
    const copied = await readFile(file)
    expect(copied.length).toBe(8 * MiB)
    expect(copied.subarray(0, data.length).equals(data)).toBe(true)
    expect(copied.subarray(data.length).every((b) => b === 0)).toBe(true)
    const doc = JSON.parse(r.stdout) as { deallocatedBytes: number; zeroBytes: number; verified: { sha256: string } }
    expect(doc.deallocatedBytes).toBeGreaterThanOrEqual(2 * MiB)
    expect(doc.verified.sha256).toBe(sha(copied))
    expect(lun.counts.getLbaStatus).toBeGreaterThan(0)
    // Fewer than all chunks were read for the copy itself: 8 chunks, at least 3 of them deallocated.
    const info = await stat(file)
    expect(info.blocks * 512).toBeLessThan(8 * MiB)
  })

  it('reads everything when the LUN does not support GET LBA STATUS', async () => {
    const { connector, lun } = setup({ lbaStatus: false })
    const data = image()
    lun.fill(0, data)
    const file = join(dir, 'down2.img')
    const r = await runCli(['--json', 'cp', URL0, file], connector)
    expect(r.code).toBe(0)
    expect((await readFile(file)).subarray(0, data.length).equals(data)).toBe(true)
    expect(JSON.parse(r.stdout)).toMatchObject({ deallocatedBytes: 0 })
  })

  it('prints a human summary', async () => {
    const { connector, lun } = setup({ size: 2 * MiB })
    lun.fill(0, randomBytes(MiB))
    const file = join(dir, 'human.img')
    const r = await runCli(['cp', URL0, file, '--verify'], connector)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^copied 2 MiB \(2097152 bytes\) in \d+\.\d\d s, [\d.]+ MB\/s$/)
    expect(lines[1]).toMatch(/^ {2}data 1 MiB, zeros 1 MiB \(1 MiB deallocated on the source, not read\)$/)
    expect(lines[2]).toMatch(/^ {2}verified: sha256 [0-9a-f]{64}$/)
  })
})

describe('cp LUN -> LUN', () => {
  it('copies between two LUNs of one target over a single session', async () => {
    const { connector, lun, lun1 } = setup({}, {})
    const data = image()
    lun.fill(0, data)
    lun.deallocate(MiB / 512, (2 * MiB) / 512)
    lun1!.fill(0, randomBytes(8 * MiB))
    const r = await runCli(['cp', URL0, URL1, '--verify'], connector)
    expect(r.code).toBe(0)
    expect(lun1!.data.equals(lun.data)).toBe(true)
    expect(connector.logins.count).toBe(1)
  })
})

describe('cp --resume', () => {
  it('continues an interrupted upload from its state file', async () => {
    const { connector, lun } = setup()
    const data = randomBytes(8 * MiB)
    const file = join(dir, 'resume.img')
    await writeFile(file, data)
    const state = join(dir, 'resume.state')
    const controller = new AbortController()
    let writes = 0
    lun.onCommand = (op) => {
      if (op === 'write' && ++writes === 3) controller.abort()
    }
    const first = await runCli(['cp', file, URL0, '--resume', '--state', state, '--bs', '256k', '--qd', '2'], connector, { signal: controller.signal })
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/interrupted at .*: run the same command with --resume to continue/)
    const saved = JSON.parse(await readFile(state, 'utf8')) as { done: number; size: number; chunkBytes: number }
    expect(saved).toMatchObject({ size: 8 * MiB, chunkBytes: 256 * 1024 })
    expect(saved.done).toBeGreaterThan(0)
    expect(saved.done).toBeLessThan(8 * MiB)
    expect(lun.data.subarray(0, saved.done).equals(data.subarray(0, saved.done))).toBe(true)

    lun.onCommand = undefined
    const before = lun.counts.write
    const second = await runCli(['--json', 'cp', file, URL0, '--resume', '--state', state, '--bs', '256k', '--qd', '2', '--verify'], connector)
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ resumedFrom: saved.done, verified: { sha256: sha(data) } })
    expect(lun.counts.write - before).toBe((8 * MiB - saved.done) / (256 * 1024))
    expect(lun.data.equals(data)).toBe(true)
    await expect(access(state)).rejects.toThrow()
  })

  it('refuses a state file of another copy', async () => {
    const { connector } = setup()
    const file = join(dir, 'other.img')
    await writeFile(file, Buffer.alloc(MiB))
    const state = join(dir, 'other.state')
    await writeFile(state, JSON.stringify({ version: 1, source: '/elsewhere', destination: URL0, size: MiB, chunkBytes: MiB, done: 0 }))
    const r = await runCli(['cp', file, URL0, '--resume', '--state', state], connector)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('belongs to another copy (source differ)')
  })

  it('continues a download into the same file', async () => {
    const { connector, lun } = setup()
    const data = randomBytes(8 * MiB)
    lun.fill(0, data)
    const file = join(dir, 'resume-down.img')
    const controller = new AbortController()
    let reads = 0
    lun.onCommand = (op) => {
      if (op === 'read' && ++reads === 4) controller.abort()
    }
    const first = await runCli(['cp', URL0, file, '--resume', '--bs', '512k', '--qd', '1', '--no-sparse'], connector, { signal: controller.signal })
    expect(first.code).toBe(1)
    await access(`${file}.iscsi-cp-state`)
    lun.onCommand = undefined
    const second = await runCli(['--json', 'cp', URL0, file, '--resume', '--bs', '512k', '--no-sparse'], connector)
    expect(second.code).toBe(0)
    expect((JSON.parse(second.stdout) as { resumedFrom: number }).resumedFrom).toBe(4 * 512 * 1024)
    expect((await readFile(file)).equals(data)).toBe(true)
    await expect(access(`${file}.iscsi-cp-state`)).rejects.toThrow()
  })
})

describe('redactUrl', () => {
  it('drops secrets from URLs', () => {
    expect(redactUrl('iscsi://alice%s3cret@host/iqn.x/1')).toBe('iscsi://alice@host/iqn.x/1')
    expect(redactUrl('iscsi://host/iqn.x/1?target_user=t&target_password=p')).toBe('iscsi://host/iqn.x/1?target_user=t&target_password=***')
    expect(redactUrl('iscsi://host/iqn.x/1')).toBe('iscsi://host/iqn.x/1')
  })
})
