// Interop against real initiators: libiscsi's tools and iscsi-test-cu, and QEMU's iSCSI block driver (qemu-img).
// Each test needs its peer; without it the test is skipped (and fails under CI=true, see tooling/interop/peers.ts).
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requirePeer, skipReason } from '../../../tooling/interop/peers.js'
import { startTestTarget } from './testing.js'
import type { TestTarget } from './testing.js'

const exec = promisify(execFile)

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function run(tool: string, args: string[], timeout = 60_000): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(tool, args, { timeout, maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) }
  }
}

/** A test that needs `tool`: named with the reason and skipped when the tool is missing. */
function withPeer(tool: string, title: string, body: (path: string) => Promise<void>, timeout = 120_000): void {
  const path = requirePeer(tool)
  if (path === undefined) it.skip(`${title} (${skipReason(tool)})`, () => undefined)
  else it(title, () => body(path), timeout)
}

const LUN_SIZE = 16 * 1024 * 1024

describe('interop with libiscsi and QEMU', () => {
  let plain: TestTarget
  let chap: TestTarget
  let digest: TestTarget
  const secret = { user: 'interop', secret: 'interop-secret-42' }

  beforeAll(async () => {
    plain = await startTestTarget({ targetName: 'iqn.2026-11.io.iscsi-ts:interop', luns: [LUN_SIZE, 4 * 1024 * 1024] })
    chap = await startTestTarget({ targetName: 'iqn.2026-11.io.iscsi-ts:chap', auth: { chap: secret } })
    digest = await startTestTarget({ targetName: 'iqn.2026-11.io.iscsi-ts:digest', limits: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C', 'None'] } })
  })

  afterAll(async () => {
    await Promise.all([plain?.close(), chap?.close(), digest?.close()])
  })

  withPeer('iscsi-ls', 'iscsi-ls -s discovers the target and lists its LUNs', async (tool) => {
    const result = await run(tool, ['-s', `iscsi://127.0.0.1:${plain.port}`])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Target:${plain.targetName} Portal:127.0.0.1:${plain.port},1`)
    // iscsi-ls prints the size as last LBA x block length in whole MiB (15M for 16 MiB).
    expect(result.stdout).toMatch(/Lun:0\s+Type:DIRECT_ACCESS \(Size:1[56]M\)/)
    expect(result.stdout).toMatch(/Lun:1\s+Type:DIRECT_ACCESS \(Size:[34]M\)/)
  })

  withPeer('iscsi-inq', 'iscsi-inq reads standard INQUIRY data', async (tool) => {
    const result = await run(tool, [plain.url])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Peripheral Device Type:DIRECT_ACCESS')
    expect(result.stdout).toMatch(/Vendor:\s*\S+/)
  })

  withPeer('iscsi-readcapacity16', 'iscsi-readcapacity16 reads the capacity', async (tool) => {
    const result = await run(tool, [plain.url])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('LOGICAL BLOCK LENGTH IN BYTES:512')
    expect(result.stdout).toContain(`RETURNED LOGICAL BLOCK ADDRESS:${LUN_SIZE / 512 - 1}`)
    expect(result.stdout).toContain(`Total size:${LUN_SIZE}`)
  })

  withPeer('iscsi-inq', 'CHAP through the URL logs in; a wrong secret does not', async (tool) => {
    const good = await run(tool, [`iscsi://${secret.user}%${secret.secret}@127.0.0.1:${chap.port}/${chap.targetName}/0`])
    expect(good.code).toBe(0)
    expect(good.stdout).toContain('DIRECT_ACCESS')
    const bad = await run(tool, [`iscsi://${secret.user}%wrong-secret-000@127.0.0.1:${chap.port}/${chap.targetName}/0`])
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).not.toContain('DIRECT_ACCESS')
    const none = await run(tool, [chap.url])
    expect(none.code).not.toBe(0)
  })

  withPeer('iscsi-readcapacity16', 'header digests on the wire: ?header_digest=crc32c against a target that only accepts CRC32C', async (tool) => {
    // The target accepts no other HeaderDigest, so the login only succeeds with CRC32C, and the command's PDUs
    // only frame when both sides compute and check the digest.
    const withDigest = await run(tool, [`${digest.url}?header_digest=crc32c`])
    expect(withDigest.stderr).toBe('')
    expect(withDigest.code).toBe(0)
    expect(withDigest.stdout).toContain('LOGICAL BLOCK LENGTH IN BYTES:512')
  })

  withPeer('qemu-img', 'qemu-img writes random data through the target and reads it back byte for byte', async (tool) => {
    const dir = await mkdtemp(join(tmpdir(), 'iscsi-ts-interop-'))
    try {
      const source = join(dir, 'source.raw')
      const back = join(dir, 'back.raw')
      const data = randomBytes(LUN_SIZE)
      await writeFile(source, data)
      const url = plain.url
      const write = await run(tool, ['convert', '-n', '-f', 'raw', '-O', 'raw', source, url], 120_000)
      expect(write.stderr).toBe('')
      expect(write.code).toBe(0)
      const read = await run(tool, ['convert', '-f', 'raw', '-O', 'raw', url, back], 120_000)
      expect(read.code).toBe(0)
      const copy = await readFile(back)
      expect(copy.length).toBe(LUN_SIZE)
      expect(copy.equals(data)).toBe(true)
      const compare = await run(tool, ['compare', '-f', 'raw', '-F', 'raw', source, url], 120_000)
      expect(compare.code).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  const summary = (output: string): { ran: number; passed: number; failed: number } => {
    const row = /^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(output)
    if (row === null) throw new Error(`no CUnit summary in iscsi-test-cu output:\n${output.slice(-2000)}`)
    return { ran: Number(row[2]), passed: Number(row[3]), failed: Number(row[4]) }
  }

  withPeer('iscsi-test-cu', 'iscsi-test-cu SCSI.Read10 passes', async (tool) => {
    const result = await run(tool, ['-t', 'SCSI.Read10', plain.url], 300_000)
    const s = summary(result.stdout)
    expect(s.ran).toBeGreaterThan(0)
    expect(s.failed).toBe(0)
  }, 300_000)

  withPeer('iscsi-test-cu', 'iscsi-test-cu iSCSI (CmdSN window, DataSN, residuals, TMF) passes', async (tool) => {
    const result = await run(tool, ['--dataloss', '-t', 'iSCSI', plain.url], 300_000)
    const s = summary(result.stdout)
    expect(s.ran).toBeGreaterThanOrEqual(15)
    expect(s.failed).toBe(0)
  }, 300_000)
})
