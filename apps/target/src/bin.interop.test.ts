// End to end: the built `iscsi-target` bin, spawned as a user would, probed with libiscsi's tools (iscsi-ls, iscsi-inq)
// and plain HTTP. Every server listens on port 0 (a free port) with its data in a temp folder, so nothing clashes with
// a real target on 3260.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { type Socket, connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { requirePeer, skipReason } from '../../../tooling/interop/peers.js'
import { DUPLICATE_SIGNAL_MS } from './server.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = join(ROOT, 'apps/target/dist/bin.js')
const DEFAULT_IQN = 'iqn.2026-11.io.iscsi-ts:default'

const iscsiLs = requirePeer('iscsi-ls')
const iscsiInq = requirePeer('iscsi-inq')

/** Whether a folder holds a source file newer than the built bin. */
function hasNewerSource(dir: string): boolean {
  if (!existsSync(dir)) return false
  const found = spawnSync('find', [dir, '-name', '*.ts', '-newer', BIN, '-print', '-quit'], { encoding: 'utf8' })
  return found.stdout.trim() !== ''
}

/** Build the app and what it depends on when the bin is missing or older than a source it is built from. */
function ensureBuilt(): void {
  const sources = ['apps/target/src', 'packages/target/src', 'packages/scsi/src', 'packages/pdu/src', 'packages/negotiation/src']
  const stale = !existsSync(BIN) || sources.some((dir) => hasNewerSource(join(ROOT, dir)))
  if (!stale) return
  const result = spawnSync(join(ROOT, 'node_modules/.bin/turbo'), ['run', 'build', '--filter=@iscsi-ts/target-server...', '--output-logs=errors-only'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 110_000,
  })
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`)
}

type LogRecord = Record<string, unknown> & { msg: string; level: number }

interface RunningBin {
  readonly child: ChildProcess
  readonly records: LogRecord[]
  /** stdout lines that are not JSON (help text). */
  readonly text: string[]
  readonly stderr: () => string
  waitFor(test: (record: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const running = new Set<ChildProcess>()

function startBin(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): RunningBin {
  const env: Record<string, string | undefined> = { ...process.env, ISCSI_TS_DATA: undefined, ISCSI_TARGET_CHAP: undefined, ...options.env }
  const child = spawn(process.execPath, [BIN, '--log-format', 'json', ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const records: LogRecord[] = []
  const text: string[] = []
  const waiters: Array<{ test: (record: LogRecord) => boolean; resolve: (record: LogRecord) => void }> = []
  let buffered = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    let newline
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      if (line.trim() === '') continue
      let record: LogRecord
      try {
        record = JSON.parse(line) as LogRecord
      } catch {
        text.push(line)
        continue
      }
      records.push(record)
      for (const waiter of [...waiters]) {
        if (waiter.test(record)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(record)
        }
      }
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  })
  return {
    child,
    records,
    text,
    stderr: () => stderr,
    exit,
    waitFor(test, what, timeoutMs = 20_000) {
      const found = records.find(test)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stdout: ${JSON.stringify(records)}; stderr: ${stderr}`)), timeoutMs)
        const waiter = {
          test,
          resolve: (record: LogRecord) => {
            clearTimeout(timer)
            resolve(record)
          },
        }
        waiters.push(waiter)
        void exit.then(({ code }) => {
          if (!waiters.includes(waiter)) return
          clearTimeout(timer)
          reject(new Error(`exited (${code}) before ${what}; stdout: ${JSON.stringify(records)}; stderr: ${stderr}`))
        })
      })
    },
  }
}

/** Start and wait for the `listening` line; returns the bound port. */
async function startListening(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  const bin = startBin(['--listen', '127.0.0.1:0', ...args], options)
  const listening = await bin.waitFor((record) => record.msg === 'listening', '"listening"')
  const portal = (listening.portals as string[])[0] ?? ''
  return { bin, port: Number(portal.slice(portal.lastIndexOf(':') + 1)) }
}

function run(tool: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}

/** A Login Request PDU (RFC 7143 11.12): BHS with the given flags byte (T, CSG, NSG), ISID, ITT 1, then the keys. */
function loginRequest(flags: number, keys: string, expStatSn: number): Buffer {
  const text = Buffer.from(keys)
  const data = Buffer.alloc(Math.ceil(text.length / 4) * 4) // padded to 4 bytes (RFC 7143 11.2.3)
  text.copy(data)
  const bhs = Buffer.alloc(48)
  bhs[0] = 0x40 | 0x03 // immediate, Login Request
  bhs[1] = flags
  bhs.writeUIntBE(text.length, 5, 3) // DataSegmentLength
  Buffer.from([0x40, 0x00, 0x01, 0x37, 0x00, 0x00]).copy(bhs, 8) // ISID, random qualifier type
  bhs.writeUInt32BE(1, 16) // ITT
  bhs.writeUInt32BE(expStatSn, 28)
  return Buffer.concat([bhs, data])
}

/**
 * Log in by hand and then stay silent: a session that never answers the target's Async Message logout request, so a
 * graceful shutdown has to wait for it. Security stage -> operational stage -> full feature phase.
 */
function silentSession(port: number, targetName: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const keys = `InitiatorName=iqn.2026-11.com.example:silent\0SessionType=Normal\0TargetName=${targetName}\0AuthMethod=None\0`
    socket.once('connect', () => socket.write(loginRequest(0x81, keys, 0))) // T=1, CSG=0, NSG=1
    let step = 0
    socket.on('data', (chunk: Buffer) => {
      if (step > 1) return // ignore everything after the login (NOP-Ins, the Async Message)
      if (chunk[0] !== 0x23 || chunk[36] !== 0) {
        reject(new Error(`login refused: ${chunk.subarray(0, 48).toString('hex')}`))
        return
      }
      step += 1
      const statSn = chunk.readUInt32BE(24)
      if (step === 1) socket.write(loginRequest(0x87, '', statSn + 1)) // T=1, CSG=1, NSG=3
      else resolve(socket)
    })
    socket.on('error', reject)
  })
}

let work: string | undefined
beforeAll(async () => {
  ensureBuilt()
  work = await mkdtemp(join(tmpdir(), 'iscsi-target-e2e-'))
}, 120_000)
afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
})
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

async function freshDir(name: string): Promise<string> {
  if (work === undefined) throw new Error('no work folder')
  const dir = join(work, name)
  await mkdir(dir, { recursive: true })
  return dir
}

describe.skipIf(iscsiLs === undefined || iscsiInq === undefined)('iscsi-target with libiscsi', () => {
  it('with no arguments serves the default target on a sparse 1 GiB image, and exits 0 on SIGTERM', async () => {
    const cwd = await freshDir('default')
    const { bin, port } = await startListening([], { cwd })
    const image = join(cwd, '.iscsi-ts', 'default.img')
    const info = await stat(image)
    expect(info.size).toBe(2 ** 30)
    expect(info.blocks * 512).toBeLessThan(2 ** 20)
    const created = bin.records.find((record) => record.msg === 'created image')
    expect(created).toMatchObject({ path: image, size: '1G' })
    const connect = await bin.waitFor((record) => record.msg === 'connect', 'the connect line')
    expect(connect.urls).toEqual([`iscsi://127.0.0.1:${port}/${DEFAULT_IQN}/0`])
    expect(connect.discover).toBe(`iscsi-ls -s iscsi://127.0.0.1:${port}`)

    const listed = await run(iscsiLs!, ['-s', `iscsi://127.0.0.1:${port}`])
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(`Target:${DEFAULT_IQN}`)
    expect(listed.stdout).toMatch(/Lun:0\s+Type:DIRECT_ACCESS/)
    const inquiry = await run(iscsiInq!, [`iscsi://127.0.0.1:${port}/${DEFAULT_IQN}/0`])
    expect(inquiry.code, inquiry.stderr).toBe(0)
    expect(inquiry.stdout).toMatch(/Peripheral Device Type:\s*0|DIRECT_ACCESS/i)
    await bin.waitFor((record) => record.msg === 'login' && record.type === 'Normal', 'a login line')
    const login = bin.records.find((record) => record.msg === 'login' && record.type === 'Normal')
    expect(login).toMatchObject({ target: DEFAULT_IQN, remote: expect.stringContaining('127.0.0.1') as unknown })
    expect(typeof login?.isid).toBe('string')
    expect(typeof login?.initiator).toBe('string')

    bin.child.kill('SIGTERM')
    expect(await bin.exit).toEqual({ code: 0, signal: null })
    expect(bin.records.at(-1)?.msg).toBe('stopped')

    // A second start reuses the image instead of creating it.
    const again = await startListening([], { cwd })
    expect(again.bin.records.some((record) => record.msg === 'created image')).toBe(false)
    again.bin.child.kill('SIGINT')
    expect((await again.bin.exit).code).toBe(0)
  })

  it('serves Prometheus metrics that count sessions, commands and logins', async () => {
    const cwd = await freshDir('metrics')
    const { bin, port } = await startListening(['--memory', '64M', '--iqn', 'iqn.2026-11.com.example:ram', '--metrics', '127.0.0.1:0'], { cwd })
    const metricsLine = await bin.waitFor((record) => record.msg === 'metrics listening', 'the metrics line')
    const url = String(metricsLine.url)
    const inquiry = await run(iscsiInq!, [`iscsi://127.0.0.1:${port}/iqn.2026-11.com.example:ram/0`])
    expect(inquiry.code, inquiry.stderr).toBe(0)
    const text = await httpGet(url)
    expect(text).toContain('# TYPE iscsi_sessions gauge')
    expect(text).toContain('# TYPE iscsi_connections gauge')
    expect(text).toMatch(/iscsi_logins_total\{type="Normal",result="success"\} [1-9]/)
    expect(text).toMatch(/iscsi_commands_total\{target="iqn.2026-11.com.example:ram",opcode="0x12",status="0x00"\} [1-9]/)
    expect(text).toMatch(/iscsi_command_duration_seconds_count\{target="iqn.2026-11.com.example:ram"\} [1-9]/)
    expect(text).toContain('process_resident_memory_bytes')
    bin.child.kill('SIGTERM')
    expect((await bin.exit).code).toBe(0)
  })

  it('requires CHAP when asked and never logs the secret', async () => {
    const cwd = await freshDir('chap')
    const secret = 'a-very-private-secret'
    const { bin, port } = await startListening(['--memory', '16M'], { cwd, env: { ISCSI_TARGET_CHAP: `alice:${secret}` } })
    const denied = await run(iscsiLs!, ['-s', `iscsi://127.0.0.1:${port}`])
    expect(denied.code).not.toBe(0)
    await bin.waitFor((record) => record.msg === 'login failed', 'a login failure')
    expect(bin.records.find((record) => record.msg === 'login failed')?.status).toBe('0x0201')
    const allowed = await run(iscsiLs!, ['-s', `iscsi://alice%${secret}@127.0.0.1:${port}`])
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(allowed.stdout).toContain(`Target:${DEFAULT_IQN}`)
    bin.child.kill('SIGTERM')
    await bin.exit
    expect(JSON.stringify(bin.records)).not.toContain(secret)
    expect(bin.stderr()).not.toContain(secret)
  })

  it('SIGHUP reloads the config: a new LUN appears, a bad config is refused and the old one kept', async () => {
    const cwd = await freshDir('reload')
    const file = join(cwd, 'target.yaml')
    const iqn = 'iqn.2026-11.com.example:reload'
    const config = (luns: string) => `targets:\n  - name: ${iqn}\n    luns:\n${luns}`
    await writeFile(file, config('      - { backstore: memory, size: 8M }\n'))
    const { bin, port } = await startListening(['--config', file], { cwd })
    const before = await run(iscsiLs!, ['-s', `iscsi://127.0.0.1:${port}`])
    expect(before.code, before.stderr).toBe(0)
    expect(before.stdout).toMatch(/Lun:0\s/)
    expect(before.stdout).not.toMatch(/Lun:1\s/)

    await writeFile(file, config('      - { backstore: memory, size: 8M }\n      - { path: disk1.img, size: 16M }\n'))
    bin.child.kill('SIGHUP')
    const reloaded = await bin.waitFor((record) => record.msg === 'configuration reloaded', 'the reload')
    expect(reloaded.added).toEqual([{ target: iqn, lun: 1, backstore: 'file', path: join(cwd, 'disk1.img'), size: '16M' }])
    expect(reloaded.removed).toEqual([])
    const after = await run(iscsiLs!, ['-s', `iscsi://127.0.0.1:${port}`])
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toMatch(/Lun:0\s/)
    expect(after.stdout).toMatch(/Lun:1\s/)
    expect(await readdir(cwd)).toContain('disk1.img')

    await writeFile(file, config('      - { backstore: memory, size: lots }\n'))
    bin.child.kill('SIGHUP')
    const refused = await bin.waitFor((record) => record.msg.startsWith('reload failed'), 'the refused reload')
    expect(refused.issues).toEqual(['targets[0].luns[0].size: expected a size like 10G'])
    const still = await run(iscsiLs!, ['-s', `iscsi://127.0.0.1:${port}`])
    expect(still.stdout).toMatch(/Lun:1\s/)

    bin.child.kill('SIGTERM')
    expect((await bin.exit).code).toBe(0)
  })
})

describe('iscsi-target signals', () => {
  it('a second SIGTERM forces the exit (1) while a graceful shutdown waits for a session', async () => {
    const cwd = await freshDir('force')
    const file = join(cwd, 'target.yaml')
    const iqn = 'iqn.2026-11.com.example:force'
    await writeFile(file, `targets: [{ name: ${iqn}, luns: [{ backstore: memory, size: 1M }] }]\ntimers: { shutdownTimeout: 5m, nopInInterval: 0 }\n`)
    const { bin, port } = await startListening(['--config', file], { cwd })
    const socket = await silentSession(port, iqn)
    try {
      await bin.waitFor((record) => record.msg === 'login' && record.initiator === 'iqn.2026-11.com.example:silent', 'the silent login')
      bin.child.kill('SIGTERM')
      const shuttingDown = await bin.waitFor((record) => record.msg === 'shutting down', '"shutting down"')
      expect(shuttingDown).toMatchObject({ graceful: true, timeoutMs: 300_000, sessions: 1 })
      await new Promise((resolve) => setTimeout(resolve, 2 * DUPLICATE_SIGNAL_MS))
      bin.child.kill('SIGTERM')
      const started = Date.now()
      expect(await bin.exit).toEqual({ code: 1, signal: null })
      expect(Date.now() - started).toBeLessThan(5000)
      expect(bin.records.some((record) => record.msg === 'second signal: forcing exit')).toBe(true)
    } finally {
      socket.destroy()
    }
  })

  it('one signal delivered twice at once (process group and wrapper) still shuts down gracefully', async () => {
    const { bin } = await startListening(['--memory', '1M'], { cwd: await freshDir('double') })
    bin.child.kill('SIGINT')
    bin.child.kill('SIGINT')
    expect(await bin.exit).toEqual({ code: 0, signal: null })
    expect(bin.records.some((record) => record.msg === 'second signal: forcing exit')).toBe(false)
  })
})

describe('iscsi-target exit codes', () => {
  it('a bad config exits 2 naming the field', async () => {
    const cwd = await freshDir('bad-config')
    const file = join(cwd, 'bad.yaml')
    await writeFile(file, 'targets:\n  - name: iqn.2026-11.com.example:x\n    luns:\n      - { backstore: memory, size: 1G }\n      - { backstore: memory, size: huge }\n')
    const bin = startBin(['--config', file], { cwd })
    expect((await bin.exit).code).toBe(2)
    expect(bin.stderr()).toContain('targets[0].luns[1].size: expected a size like 10G')
  })

  it('an unknown flag exits 2 with a hint', async () => {
    const bin = startBin(['--frobnicate'], { cwd: await freshDir('usage') })
    expect((await bin.exit).code).toBe(2)
    expect(bin.stderr()).toContain("unknown option '--frobnicate'")
    expect(bin.stderr()).toContain('--help')
  })

  it('--help exits 0 and documents the exit codes', async () => {
    const bin = startBin(['--help'], { cwd: await freshDir('help') })
    expect((await bin.exit).code).toBe(0)
    expect(bin.text).toContain('Exit codes:')
  })

  it('a portal already in use exits 1', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const bin = startBin(['--memory', '1M', '--listen', `127.0.0.1:${port}`], { cwd: await freshDir('in-use') })
      expect((await bin.exit).code).toBe(1)
      expect(bin.stderr()).toContain('EADDRINUSE')
    } finally {
      blocker.close()
    }
  })
})

if (iscsiLs === undefined || iscsiInq === undefined) {
  describe('iscsi-target with libiscsi', () => {
    it.skip(skipReason(iscsiLs === undefined ? 'iscsi-ls' : 'iscsi-inq'), () => undefined)
  })
}
