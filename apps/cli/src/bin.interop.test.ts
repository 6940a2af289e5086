// The built executable (dist/bin.js, as `pnpm iscsi` runs it) against tgtd: exit codes of a real process,
// Ctrl-C in the middle of a resumable copy and the resumed copy, and a reader that goes away (EPIPE).
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TgtdInstance, startTgtd } from '../../../tooling/interop/tgtd.js'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const MiB = 1024 * 1024

interface Exit {
  code: number | null
  stdout: Buffer
  stderr: string
}

function spawnCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const done = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })))
  return { child, done }
}

describe('the iscsi executable', () => {
  let tgtd: TgtdInstance | undefined
  let dir = ''
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (pnpm --filter @iscsi-ts/cli build)`)
    tgtd = await startTgtd({ lunSize: 256 * MiB })
    dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-bin-'))
  })
  afterAll(async () => {
    await tgtd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('--version and --help exit 0; bad usage exits 2', async () => {
    const version = await spawnCli(['--version']).done
    expect(version.code).toBe(0)
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/)
    const help = await spawnCli(['cp', '--help']).done
    expect(help.code).toBe(0)
    expect(help.stdout.toString()).toContain('Examples:')
    const usage = await spawnCli(['read', 'nope']).done
    expect(usage.code).toBe(2)
    expect(usage.stderr).toBe("iscsi: not an iSCSI URL: 'nope' (iscsi://host[:port]/target-iqn/lun)\n")
  })

  it('Ctrl-C stops a resumable copy (exit 130); --resume finishes it', async (ctx) => {
    if (!tgtd) ctx.skip()
    const url = tgtd!.plain.url
    const image = randomBytes(240 * MiB)
    const file = join(dir, 'image.bin')
    await writeFile(file, image)
    const state = join(dir, 'copy.state')
    // Small commands one at a time: slow enough to be caught in the middle.
    const first = spawnCli(['cp', file, url, '--resume', '--state', state, '--bs', '32k', '--qd', '1', '--no-sparse'])
    // Interrupt once the state file (saved every second) shows progress.
    const progressed = async (): Promise<boolean> => existsSync(state) && (JSON.parse(await readFile(state, 'utf8').catch(() => '{}')) as { done?: number }).done! > 0
    for (let i = 0; i < 1000 && !(await progressed()); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    first.child.kill('SIGINT')
    const interrupted = await first.done
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr).toMatch(/interrupted at .*: run the same command with --resume to continue/)
    const saved = JSON.parse(await readFile(state, 'utf8')) as { done: number }
    expect(saved.done).toBeGreaterThan(0)
    expect(saved.done).toBeLessThan(image.length)

    const second = await spawnCli(['--json', 'cp', file, url, '--resume', '--state', state, '--bs', '32k', '--qd', '8', '--verify', '--no-sparse']).done
    expect(second.code, second.stderr).toBe(0)
    const doc = JSON.parse(second.stdout.toString()) as { resumedFrom: number; verified: { sha256: string } }
    expect(doc.resumedFrom).toBe(saved.done)
    expect(doc.verified.sha256).toBe(createHash('sha256').update(image).digest('hex'))
    expect(existsSync(state)).toBe(false)
  })

  it('a reader that closes the pipe early ends the read quietly', async (ctx) => {
    if (!tgtd) ctx.skip()
    const head = spawn('bash', ['-c', `'${process.execPath}' '${BIN}' read '${tgtd!.plain.url}' | head -c 100 | wc -c`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    head.stdout.on('data', (c: Buffer) => (out += c.toString()))
    head.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const code = await new Promise<number | null>((resolve) => head.on('close', resolve))
    expect(code).toBe(0)
    expect(out.trim()).toBe('100')
    expect(err).toBe('')
  })
})
