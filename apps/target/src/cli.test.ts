import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Invocation, DEFAULT_IMAGE_SIZE, parseCommandLine } from './cli.js'
import { DEFAULT_IQN, type ServerConfig } from './config.js'
import { ConfigError, UsageError } from './errors.js'

const CWD = '/home/user/work'

function parse(argv: string[], env: Record<string, string> = {}): { invocation: Invocation; out: string } {
  let out = ''
  const invocation = parseCommandLine(argv, { env, cwd: CWD, stdout: (text) => (out += text) })
  return { invocation, out }
}
async function configOf(argv: string[], env: Record<string, string> = {}): Promise<ServerConfig> {
  const { invocation } = parse(argv, env)
  if (invocation.kind !== 'run') throw new Error('expected a run invocation')
  return invocation.load()
}
function usageError(argv: string[], env: Record<string, string> = {}): UsageError {
  try {
    parse(argv, env)
  } catch (error) {
    if (error instanceof UsageError) return error
    throw error
  }
  throw new Error('no usage error')
}

describe('no arguments', () => {
  it('serves the default IQN with a 1 GiB image in ./.iscsi-ts on 127.0.0.1:3260', async () => {
    const config = await configOf([])
    expect(config.portalGroups).toEqual([{ tag: 1, portals: [{ host: '127.0.0.1', port: 3260 }] }])
    expect(config.dataDir).toBe(`${CWD}/.iscsi-ts`)
    expect(config.targets).toEqual([
      {
        name: DEFAULT_IQN,
        portalGroups: [1],
        luns: [
          { lun: 0, backstore: 'file', path: `${CWD}/.iscsi-ts/default.img`, size: DEFAULT_IMAGE_SIZE, blockSize: 512, readOnly: false, thinProvisioning: true, removable: false },
        ],
        acls: [],
      },
    ])
    expect(config.discoveryAuth).toBeUndefined()
    expect(config.metrics).toBeUndefined()
    expect(config.logLevel).toBe('info')
    expect(DEFAULT_IMAGE_SIZE).toBe(2 ** 30)
  })

  it('puts the data folder at $ISCSI_TS_DATA, or --data', async () => {
    expect((await configOf([], { ISCSI_TS_DATA: '/var/lib/its' })).targets[0]?.luns[0]).toMatchObject({ path: '/var/lib/its/default.img' })
    const config = await configOf(['--data', 'state'], { ISCSI_TS_DATA: '/var/lib/its' })
    expect(config.dataDir).toBe(`${CWD}/state`)
    expect(config.targets[0]?.luns[0]).toMatchObject({ path: `${CWD}/state/default.img` })
  })
})

describe('flags -> configuration', () => {
  it('maps every quick-use flag', async () => {
    const config = await configOf([
      '--listen', '0.0.0.0:3260',
      '-l', '[::1]:3261',
      '--iqn', 'iqn.2026-11.com.example:lab',
      '--lun', 'disk.img:10G',
      '--lun', '/dev/sdb',
      '--lun', 'odd:name.img:512M',
      '--memory', '256M',
      '--read-only',
      '--chap', 'alice:correct-horse-battery',
      '--mutual-chap', 'target:staple-of-the-target',
      '--acl', 'iqn.1994-05.com.redhat:client1',
      '--acl', '*',
      '--header-digest',
      '--data-digest',
      '--metrics', '127.0.0.1:9100',
      '--log-level', 'debug',
    ])
    expect(config.portalGroups).toEqual([{ tag: 1, portals: [{ host: '0.0.0.0', port: 3260 }, { host: '::1', port: 3261 }] }])
    const [target] = config.targets
    expect(target?.name).toBe('iqn.2026-11.com.example:lab')
    expect(target?.luns.map((lun) => ({ lun: lun.lun, backstore: lun.backstore, path: 'path' in lun ? lun.path : undefined, size: lun.size, readOnly: lun.readOnly }))).toEqual([
      { lun: 0, backstore: 'file', path: `${CWD}/disk.img`, size: 10 * 2 ** 30, readOnly: true },
      { lun: 1, backstore: 'file', path: '/dev/sdb', size: undefined, readOnly: true },
      { lun: 2, backstore: 'file', path: `${CWD}/odd:name.img`, size: 512 * 2 ** 20, readOnly: true },
      { lun: 3, backstore: 'memory', path: undefined, size: 256 * 2 ** 20, readOnly: true },
    ])
    const auth = { chap: { user: 'alice', secret: 'correct-horse-battery' }, mutual: { user: 'target', secret: 'staple-of-the-target' } }
    expect(target?.auth).toEqual(auth)
    expect(config.discoveryAuth).toEqual(auth)
    expect(target?.acls).toEqual([{ initiator: 'iqn.1994-05.com.redhat:client1' }, { initiator: '*' }])
    expect(config.limits).toEqual({ headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] })
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9100 })
    expect(config.logLevel).toBe('debug')
  })

  it('takes CHAP credentials from the environment; the flag wins', async () => {
    expect((await configOf([], { ISCSI_TARGET_CHAP: 'bob:from-the-environment' })).targets[0]?.auth?.chap).toEqual({ user: 'bob', secret: 'from-the-environment' })
    const config = await configOf(['--chap', 'carol:from-the-command-line'], { ISCSI_TARGET_CHAP: 'bob:from-the-environment' })
    expect(config.targets[0]?.auth?.chap).toEqual({ user: 'carol', secret: 'from-the-command-line' })
    const mutual = await configOf([], { ISCSI_TARGET_CHAP: 'bob:from-the-environment', ISCSI_TARGET_MUTUAL_CHAP: 'tgt:mutual-from-the-env' })
    expect(mutual.targets[0]?.auth?.mutual).toEqual({ user: 'tgt', secret: 'mutual-from-the-env' })
  })

  it('a listen address without a port gets 3260', async () => {
    expect((await configOf(['--listen', '10.0.0.5'])).portalGroups[0]?.portals).toEqual([{ host: '10.0.0.5', port: 3260 }])
  })

  it('records the log format', () => {
    const { invocation } = parse(['--log-format', 'json'])
    expect(invocation.kind === 'run' && invocation.logFormat).toBe('json')
  })
})

describe('usage errors (exit code 2)', () => {
  it.each<[string[], string]>([
    [['--bogus'], "unknown option '--bogus'"],
    [['extra'], "too many arguments. Expected 0 arguments but got 1."],
    [['--listen', 'nowhere:99999'], 'out of range'],
    [['--listen', 'fe80::1:3260'], 'brackets'],
    [['--listen', 'localhost:3260'], 'expected an IP address'],
    [['--memory', 'lots'], 'expected a size like 1G or 512M.'],
    [['--memory', '100'], 'expected a size like 1G or 512M.'],
    [['--iqn', 'mydisk'], 'expected an iSCSI name'],
    [['--acl', 'client'], 'expected an iSCSI name'],
    [['--log-level', 'loud'], 'Allowed choices are fatal, error, warn, info, debug, trace, silent.'],
    [['--chap', 'nosecret'], '--chap: expected USER:SECRET'],
    [['--mutual-chap', 'tgt:long-enough-secret'], '--mutual-chap needs --chap as well'],
    [['--chap', 'a:same-secret-twice', '--mutual-chap', 'b:same-secret-twice'], 'must differ from the --chap secret'],
    [['--config', 'x.yaml', '--lun', 'a.img'], '--lun cannot be combined with --config'],
    [['--config', 'x.yaml', '--chap', 'a:long-enough-secret'], '--chap cannot be combined with --config'],
    [['--config', 'x.yaml', '--read-only'], '--read-only cannot be combined with --config'],
  ])('%j', (argv, message) => {
    const error = usageError(argv)
    expect(error.exitCode).toBe(2)
    expect(error.message).toContain(message)
  })

  it('a --lun size that does not parse is part of the path, which then must exist', async () => {
    // "disk.img:10Q" is a file name (sizes never end in Q); it does not exist, so creating it needs a size.
    const config = await configOf(['--lun', 'disk.img:10Q'])
    expect(config.targets[0]?.luns[0]).toMatchObject({ path: `${CWD}/disk.img:10Q` })
    expect(config.targets[0]?.luns[0]?.size).toBeUndefined()
  })

  it('never quotes a CHAP secret back', () => {
    for (const argv of [['--chap', 'alice:short'], ['--chap', 'alice:'], ['--chap', 'a:long-enough-secret', '--mutual-chap', 'tgt:tiny']]) {
      const error = usageError(argv)
      expect(error.message).not.toMatch(/short|tiny|long-enough-secret/)
    }
    const fromEnv = usageError([], { ISCSI_TARGET_CHAP: 'alice:short' })
    expect(fromEnv.message).toBe('ISCSI_TARGET_CHAP: the secret must be at least 12 characters (96 bits, RFC 7143 12.1.3)')
  })
})

describe('help and version', () => {
  it('--help lists every flag, examples, signals and exit codes', () => {
    const { invocation, out } = parse(['--help'])
    expect(invocation).toEqual({ kind: 'exit', code: 0 })
    for (const flag of ['--listen', '--iqn', '--lun', '--memory', '--read-only', '--chap', '--mutual-chap', '--acl', '--header-digest', '--data-digest', '--config', '--metrics', '--log-level', '--log-format', '--data', '--help', '--version']) {
      expect(out).toContain(flag)
    }
    expect(out).toContain('Examples:')
    expect(out).toContain('iscsi-ls -s iscsi://127.0.0.1')
    expect(out).toMatch(/Exit codes:\n\s+0 {2}clean shutdown\n\s+1 {2}runtime failure.*\n\s+2 {2}usage or configuration error/)
    expect(out).toContain('SIGHUP')
  })

  it('--version prints the package version', () => {
    const { invocation, out } = parse(['--version'])
    expect(invocation).toEqual({ kind: 'exit', code: 0 })
    expect(out).toMatch(/^\d+\.\d+\.\d+/)
  })
})

describe('--config with overrides', () => {
  let dir: string
  let file: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iscsi-target-cli-'))
    file = join(dir, 'target.yaml')
    await writeFile(
      file,
      [
        'logLevel: warn',
        'metrics: 127.0.0.1:9100',
        'portalGroups:',
        '  - { tag: 3, portals: ["0.0.0.0:3260"] }',
        'targets:',
        '  - name: iqn.2026-11.com.example:a',
        '    portalGroups: [3]',
        '    luns: [{ backstore: memory, size: 1M }]',
        'limits: { maxConnections: 2 }',
        '',
      ].join('\n'),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the file as it is', async () => {
    const { invocation } = parse(['--config', file])
    expect(invocation.kind === 'run' && invocation.configPath).toBe(file)
    const config = await configOf(['-c', file])
    expect(config.portalGroups).toEqual([{ tag: 3, portals: [{ host: '0.0.0.0', port: 3260 }] }])
    expect(config.logLevel).toBe('warn')
  })

  it('--listen replaces the portals; --metrics, --log-level, --data and digests override', async () => {
    const config = await configOf(['-c', file, '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--log-level', 'error', '--data', 'd', '--header-digest'])
    expect(config.portalGroups).toEqual([{ tag: 1, portals: [{ host: '127.0.0.1', port: 0 }] }])
    expect(config.targets[0]?.portalGroups).toEqual([1])
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 0 })
    expect(config.logLevel).toBe('error')
    expect(config.dataDir).toBe(`${CWD}/d`)
    expect(config.limits).toEqual({ maxConnections: 2, headerDigest: ['CRC32C'] })
  })

  it('load() reads the file again each time (what SIGHUP uses)', async () => {
    const { invocation } = parse(['--config', file])
    if (invocation.kind !== 'run') throw new Error('expected run')
    expect((await invocation.load()).targets).toHaveLength(1)
    await writeFile(join(dir, 'target.yaml'), 'targets: [{ name: bad }]\n')
    await expect(invocation.load()).rejects.toBeInstanceOf(ConfigError)
  })
})
