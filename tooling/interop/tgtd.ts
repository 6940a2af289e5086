// Interop harness: runs Debian's `tgtd` (the Linux SCSI target framework) in the foreground on a free loopback port
// with its own control port, and configures three targets through `tgtadm`:
//   plain  : one disk LUN (LUN 1) backed by a sparse temp file (--bstype rdwr), thin provisioned, open to all
//   chap   : the same kind of LUN behind one-way CHAP (an incoming account) and, optionally, mutual CHAP
//   digest : a LUN whose target only accepts HeaderDigest=CRC32C and DataDigest=CRC32C
// The daemon runs in its own process group; `stop()` kills the group and removes the temp files, and an exit hook
// does the same when a test run dies without calling it. `restart()` kills tgtd and starts it again with the same
// port, configuration and backing files (for reconnect tests).
//
// When tgtd is not installed: with CI=true `startTgtd` throws, otherwise it resolves undefined so the caller can skip.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, open, unlink } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

export interface TgtdOptions {
  /** Size of each LUN's sparse backing file in bytes (default 256 MiB). */
  lunSize?: number
  /** Logical block size of the disks (default 512). */
  blockSize?: number
  /** One-way CHAP credentials of the chap target (defaults generated). Secrets must be 12-16 chars for tgt. */
  chap?: { user: string; secret: string }
  /** Mutual CHAP: what the target answers with; set up on the chap target when given. */
  mutualChap?: { user: string; secret: string }
  /** Extra target parameters applied to every target (tgtadm --op update --mode target --name K --value V). */
  targetParams?: Record<string, string>
  /** Milliseconds to wait for tgtd to come up (default 10000). */
  startTimeoutMs?: number
}

export interface TgtdTarget {
  name: string
  tid: number
  /** iscsi://127.0.0.1:PORT/NAME/1 */
  url: string
  lun: number
  backingFile: string
}

export interface TgtdInstance {
  host: string
  port: number
  controlPort: number
  /** iscsi://127.0.0.1:PORT */
  portalUrl: string
  plain: TgtdTarget
  chap: TgtdTarget & { user: string; secret: string; mutual?: { user: string; secret: string } }
  digest: TgtdTarget
  lunSize: number
  blockSize: number
  /** Runs tgtadm against this daemon (`--lld iscsi` and the control port are added). */
  tgtadm(args: readonly string[]): Promise<string>
  /** SIGKILLs tgtd (simulating a crash). The port stays unused until `start()`. */
  kill(): Promise<void>
  /** Starts tgtd again after `kill()`, same port and configuration, same backing files. */
  start(): Promise<void>
  /** kill() then start(). */
  restart(): Promise<void>
  /** Stops tgtd for good and removes every file it used. Safe to call twice. */
  stop(): Promise<void>
}

const TGTD = '/usr/sbin/tgtd'
const TGTADM = '/usr/sbin/tgtadm'

function findBinary(name: string, fallback: string): string | undefined {
  if (existsSync(fallback)) return fallback
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return undefined
}

/** True when the tgt tools are installed. */
export function tgtdAvailable(): boolean {
  return findBinary('tgtd', TGTD) !== undefined && findBinary('tgtadm', TGTADM) !== undefined
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** tgtd's control channel is a unix socket /var/run/tgtd/socket.N (N below 32768): pick an N nobody uses. */
function freeControlPort(): number {
  for (let i = 0; i < 1000; i++) {
    const candidate = 10000 + Math.floor(Math.random() * 22000)
    if (!existsSync(`/var/run/tgtd/socket.${candidate}`) && !existsSync(`/run/tgtd/socket.${candidate}`)) return candidate
  }
  throw new Error('no free tgtd control port')
}

function run(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`))
      else resolve(stdout)
    })
  })
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL')
  })
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

async function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Starts and configures tgtd; undefined when tgtd is not installed and CI is not set. */
export async function startTgtd(options: TgtdOptions = {}): Promise<TgtdInstance | undefined> {
  const foundTgtd = findBinary('tgtd', TGTD)
  const foundTgtadm = findBinary('tgtadm', TGTADM)
  if (foundTgtd === undefined || foundTgtadm === undefined) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('tgtd/tgtadm not found (install Debian package "tgt"); required in CI')
    return undefined
  }
  const tgtd: string = foundTgtd
  const tgtadmBin: string = foundTgtadm
  installExitHook()

  const host = '127.0.0.1'
  const port = await freePort()
  const controlPort = freeControlPort()
  const lunSize = options.lunSize ?? 256 * 1024 * 1024
  const blockSize = options.blockSize ?? 512
  const dir = await mkdtemp(join(tmpdir(), 'iscsi-ts-tgtd-'))
  const suffix = randomBytes(4).toString('hex')
  const base = `iqn.2026-11.io.iscsi-ts.test:tgtd-${suffix}`
  const chap = options.chap ?? { user: `user${suffix}`, secret: `secret${suffix}x` }
  const mutual = options.mutualChap

  const makeTarget = (tid: number, name: string): TgtdTarget => ({
    name,
    tid,
    url: `iscsi://${host}:${port}/${name}/1`,
    lun: 1,
    backingFile: join(dir, `${name.slice(name.lastIndexOf('-') + 1)}.img`),
  })
  const plain = makeTarget(1, `${base}-plain`)
  const chapTarget = { ...makeTarget(2, `${base}-chap`), user: chap.user, secret: chap.secret, ...(mutual ? { mutual } : {}) }
  const digest = makeTarget(3, `${base}-digest`)

  for (const target of [plain, chapTarget, digest]) {
    const file = await open(target.backingFile, 'w')
    await file.truncate(lunSize)
    await file.close()
  }

  const tgtadm = (args: readonly string[]): Promise<string> => run(tgtadmBin, ['-C', String(controlPort), '--lld', 'iscsi', ...args])

  let child: ChildProcess | undefined
  let stopped = false
  let log = ''

  async function configure(): Promise<void> {
    for (const target of [plain, chapTarget, digest]) {
      await tgtadm(['--op', 'new', '--mode', 'target', '--tid', String(target.tid), '--targetname', target.name])
      await tgtadm([
        '--op', 'new', '--mode', 'logicalunit', '--tid', String(target.tid), '--lun', '1',
        '--backing-store', target.backingFile, '--bstype', 'rdwr', '--blocksize', String(blockSize),
      ])
      await tgtadm(['--op', 'update', '--mode', 'logicalunit', '--tid', String(target.tid), '--lun', '1', '--params', 'thin_provisioning=1'])
      await tgtadm(['--op', 'bind', '--mode', 'target', '--tid', String(target.tid), '--initiator-address', 'ALL'])
      for (const [key, value] of Object.entries(options.targetParams ?? {})) {
        await tgtadm(['--op', 'update', '--mode', 'target', '--tid', String(target.tid), '--name', key, '--value', value])
      }
    }
    await tgtadm(['--op', 'new', '--mode', 'account', '--user', chap.user, '--password', chap.secret])
    await tgtadm(['--op', 'bind', '--mode', 'account', '--tid', String(chapTarget.tid), '--user', chap.user])
    if (mutual) {
      await tgtadm(['--op', 'new', '--mode', 'account', '--user', mutual.user, '--password', mutual.secret])
      await tgtadm(['--op', 'bind', '--mode', 'account', '--tid', String(chapTarget.tid), '--user', mutual.user, '--outgoing'])
    }
    for (const key of ['HeaderDigest', 'DataDigest']) {
      await tgtadm(['--op', 'update', '--mode', 'target', '--tid', String(digest.tid), '--name', key, '--value', 'CRC32C'])
    }
  }

  async function start(): Promise<void> {
    if (stopped) throw new Error('tgtd harness already stopped')
    if (child !== undefined) throw new Error('tgtd is already running')
    log = ''
    const proc: ChildProcess = spawn(tgtd, ['-f', '-C', String(controlPort), '--iscsi', `portal=${host}:${port}`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = proc
    live.add(proc)
    proc.stdout?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8192)
    })
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8192)
    })
    proc.once('exit', () => live.delete(proc))
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000)
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`tgtd exited with ${proc.exitCode}: ${log}`)
      try {
        await tgtadm(['--op', 'show', '--mode', 'sys'])
        if (await canConnect(host, port)) break
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        await kill()
        throw new Error(`tgtd did not come up within ${options.startTimeoutMs ?? 10_000} ms: ${log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    try {
      await configure()
    } catch (error) {
      await kill()
      throw error
    }
  }

  async function kill(): Promise<void> {
    const proc = child
    child = undefined
    if (proc === undefined) return
    killGroup(proc, 'SIGKILL')
    await waitExit(proc, 5000)
    live.delete(proc)
    for (const path of [`/var/run/tgtd/socket.${controlPort}`, `/var/run/tgtd/socket.${controlPort}.lock`]) {
      await unlink(path).catch(() => undefined)
    }
  }

  async function stop(): Promise<void> {
    if (stopped) return
    await kill()
    stopped = true
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await start()
  } catch (error) {
    stopped = true
    await rm(dir, { recursive: true, force: true })
    throw error
  }

  return {
    host,
    port,
    controlPort,
    portalUrl: `iscsi://${host}:${port}`,
    plain,
    chap: chapTarget,
    digest,
    lunSize,
    blockSize,
    tgtadm,
    kill,
    start,
    restart: async () => {
      await kill()
      await start()
    },
    stop,
  }
}
