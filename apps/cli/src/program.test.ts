// The program as a whole, run in-process: help, version, usage errors and the exit code of every kind of failure.
import { describe, expect, it } from 'vitest'
import { ExitCode } from './errors.js'
import { MemoryConnector, MemoryLun, runCli } from './testing/memory-target.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL = `iscsi://127.0.0.1/${TARGET}/0`

function connector(): MemoryConnector {
  const c = new MemoryConnector()
  c.addTarget(TARGET).luns.set(0, new MemoryLun({ size: 1024 * 1024 }))
  c.addTarget('iqn.2026-11.io.iscsi-ts.test:chap', { user: 'alice', secret: 'secretsecret12' }).luns.set(0, new MemoryLun({ size: 1024 * 1024 }))
  return c
}

describe('help and version', () => {
  it('--help lists every command and documents the exit codes', async () => {
    const r = await runCli(['--help'], connector())
    expect(r.code).toBe(0)
    for (const command of ['discover', 'ls', 'inquiry', 'readcap', 'read', 'write', 'cp', 'bench', 'ping', 'reserve', 'release', 'pr']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
    }
    expect(r.stdout).toContain('Exit codes:')
    expect(r.stdout).toMatch(/3 +login failure/)
    expect(r.stdout).toMatch(/5 +connection error or time-out/)
  })

  it.each(['discover', 'ls', 'inquiry', 'readcap', 'read', 'write', 'cp', 'bench', 'ping', 'reserve', 'release', 'pr'])('%s --help has examples', async (command) => {
    const r = await runCli([command, '--help'], connector())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Examples:')
    expect(r.stdout).toContain(`$ iscsi `)
  })

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], connector())
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('global options without a command print help on stderr and exit 2', async () => {
    const r = await runCli(['--json'], connector())
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toContain('Usage: iscsi')
    expect(r.stdout).toBe('')
  })

  it('help COMMAND prints that command\'s help', async () => {
    const r = await runCli(['help', 'cp'], connector())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: iscsi cp [options] <src> <dst>')
  })

  it('no arguments prints help on stderr and exits 2', async () => {
    const r = await runCli([], connector())
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toContain('Usage: iscsi')
    expect(r.stdout).toBe('')
  })
})

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['readcap'], /missing required argument 'url'/],
    [['readcap', URL, '--frobnicate'], /unknown option '--frobnicate'/],
    [['readcap', 'not-a-url'], /not an iSCSI URL: 'not-a-url'/],
    [['readcap', `iscsi://127.0.0.1/${TARGET}`], /URL names no LUN/],
    [['readcap', 'iscsi://127.0.0.1'], /URL names no target/],
    [['--timeout', 'soon', 'readcap', URL], /invalid --timeout: 'soon'/],
    [['--isid', 'xyz', 'readcap', URL], /invalid --isid/],
    [['--initiator-name', 'bob', 'readcap', URL], /invalid --initiator-name/],
    [['discover', 'host:99999'], /invalid port/],
    [['read', URL, '--offset', '12q'], /--offset.*unknown unit/],
    [['bench', URL, '--rw', 'sideways'], /invalid --rw 'sideways'/],
    [['bench', URL, '--rw', 'randwrite'], /add --force/],
    [['bench', URL, '--qd', '0'], /--qd must be between 1 and 1024/],
    [['inquiry', URL, '--page', 'zz'], /invalid VPD page 'zz'/],
    [['inquiry', URL, '--page', '80', '--all'], /either --page or --all/],
    [['pr', URL, 'dance'], /unknown pr action 'dance'/],
    [['pr', URL, 'register'], /pr register needs --key/],
    [['reserve', URL], /required option '--key <key>' not specified/],
    [['reserve', URL, '--key', 'xyz'], /invalid --key 'xyz'/],
    [['reserve', URL, '--key', '1', '--type', 'shared'], /invalid --type 'shared'/],
    [['cp', 'a.img', 'b.img'], /one side of cp must be an iscsi:\/\/ URL/],
    [['cp', URL, URL], /same LUN/],
  ])('%j', async (argv, message) => {
    const r = await runCli(argv, connector())
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('iscsi: '))).toHaveLength(1)
    expect(r.stdout).toBe('')
  })
})

describe('runtime failures map to exit codes', () => {
  it('SCSI errors exit 4 with decoded sense', async () => {
    const r = await runCli(['read', URL, '--offset', '1M', '--length', '512'], connector())
    expect(r.code).toBe(ExitCode.SCSI)
    expect(r.stderr).toBe('iscsi: read failed: ILLEGAL REQUEST: logical block address out of range (0x21/0x00)\n')
  })

  it('a missing LUN is a SCSI error too', async () => {
    const r = await runCli(['readcap', `iscsi://127.0.0.1/${TARGET}/7`], connector())
    expect(r.code).toBe(ExitCode.SCSI)
    expect(r.stderr).toContain('ILLEGAL REQUEST: logical unit not supported (0x25/0x00)')
  })

  it('a wrong CHAP secret exits 3', async () => {
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], connector(), { env: { ISCSI_CHAP_SECRET: 'wrong' } })
    expect(r.code).toBe(ExitCode.LOGIN)
    expect(r.stderr).toBe('iscsi: login failed: authentication failure (0x0201)\n')
  })

  it('the right CHAP secret from the environment logs in', async () => {
    const c = connector()
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], c, { env: { ISCSI_CHAP_SECRET: 'secretsecret12' } })
    expect(r.code).toBe(0)
    expect(c.connectOptions[0]?.chap).toEqual({ user: 'alice', secret: 'secretsecret12' })
  })

  it('the URL secret wins over the environment', async () => {
    const c = connector()
    const r = await runCli(['readcap', 'iscsi://alice%secretsecret12@127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], c, { env: { ISCSI_CHAP_SECRET: 'wrong' } })
    expect(r.code).toBe(0)
  })

  it('a CHAP user without a secret and without a terminal is a usage error', async () => {
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], connector())
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toContain('needs a secret: set ISCSI_CHAP_SECRET')
  })

  it('an unknown target exits 3', async () => {
    const r = await runCli(['readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.nope:x/0'], connector())
    expect(r.code).toBe(ExitCode.LOGIN)
    expect(r.stderr).toContain('target not found')
  })

  it('a refused connection exits 5', async () => {
    const r = await runCli(['discover', '127.0.0.1:3999'], connector())
    expect(r.code).toBe(ExitCode.CONNECTION)
    expect(r.stderr).toBe('iscsi: discovery failed: connection refused by 127.0.0.1:3999\n')
  })

  it('a reservation conflict exits 4 and names the status', async () => {
    const c = connector()
    expect((await runCli(['--isid', '400000000001', 'reserve', URL, '--key', '0x1', '--type', 'ea'], c)).code).toBe(0)
    const r = await runCli(['read', URL, '--length', '512'], c)
    expect(r.code).toBe(ExitCode.SCSI)
    expect(r.stderr).toBe('iscsi: read failed: RESERVATION CONFLICT (status 0x18)\n')
  })

  it('--json failures print an error document on stdout and the line on stderr', async () => {
    const r = await runCli(['--json', 'read', URL, '--offset', '1M', '--length', '512'], connector())
    expect(r.code).toBe(ExitCode.SCSI)
    const doc = JSON.parse(r.stdout) as { error: { message: string; exitCode: number; sense: { key: number; asc: number } } }
    expect(doc.error.exitCode).toBe(4)
    expect(doc.error.sense).toMatchObject({ key: 5, asc: 0x21, ascq: 0 })
    expect(doc.error.message).toBe('read failed: ILLEGAL REQUEST: logical block address out of range (0x21/0x00)')
    expect(r.stderr).toContain('iscsi: read failed')
  })

  it('--json usage errors are JSON too', async () => {
    const r = await runCli(['--json', 'readcap', 'nope'], connector())
    expect(r.code).toBe(ExitCode.USAGE)
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { exitCode: 2, code: 'ISCSI_CLI_USAGE' } })
  })
})

describe('global options reach the session', () => {
  it('passes initiator name, digests, time-out and ISID', async () => {
    const c = connector()
    const r = await runCli(['--initiator-name', 'iqn.2026-11.io.test:me', '--header-digest', '--data-digest', '--timeout', '5s', '--isid', '0x400102030405', 'readcap', URL], c)
    expect(r.code).toBe(0)
    expect(c.connectOptions[0]).toMatchObject({
      initiatorName: 'iqn.2026-11.io.test:me',
      headerDigest: true,
      dataDigest: true,
      timeoutMs: 5000,
      isid: Buffer.from('400102030405', 'hex'),
      targetName: TARGET,
      host: '127.0.0.1',
      port: 3260,
    })
  })

  it('without digest flags the target chooses (no digest option is passed)', async () => {
    const c = connector()
    await runCli(['readcap', URL], c)
    expect(c.connectOptions[0]).not.toHaveProperty('headerDigest')
    expect(c.connectOptions[0]).not.toHaveProperty('dataDigest')
    expect(c.connectOptions[0]).not.toHaveProperty('chap')
  })

  it('global options also work after the command', async () => {
    const c = connector()
    const r = await runCli(['readcap', URL, '--json', '--header-digest'], c)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ blockSize: 512 })
    expect(c.connectOptions[0]?.headerDigest).toBe(true)
  })

  it('reservation commands use one stable ISID per initiator name; data commands a random one', async () => {
    const c = connector()
    await runCli(['pr', URL, 'read-keys'], c)
    await runCli(['pr', URL, 'read-keys'], c)
    await runCli(['--initiator-name', 'iqn.2026-11.io.test:other', 'pr', URL, 'read-keys'], c)
    await runCli(['readcap', URL], c)
    const [a, b, other, data] = c.connectOptions
    expect(a?.isid).toBeInstanceOf(Buffer)
    expect(a?.isid?.equals(b!.isid!)).toBe(true)
    expect((a!.isid![0]! & 0xc0) >>> 6).toBe(2) // ISID format T=10b: random (RFC 7143 10.12.5)
    expect(other?.isid?.equals(a!.isid!)).toBe(false)
    expect(data?.isid).toBeUndefined()
  })
})
