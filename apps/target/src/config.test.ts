import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConfigContext, DEFAULT_IQN, loadConfig, parseConfig, parseConfigText, parseIscsiName } from './config.js'
import { ConfigError } from './errors.js'

const EXAMPLE = fileURLToPath(new URL('../examples/target.yaml', import.meta.url))
const EXAMPLE_ENV = {
  DISK1_CHAP_SECRET: 'disk1-initiator-secret',
  DISK1_MUTUAL_SECRET: 'disk1-target-secret!',
  DISCOVERY_CHAP_SECRET: 'discovery-secret-42',
}
const context: ConfigContext = { baseDir: '/etc/iscsi', env: { GOOD: 'a-good-long-secret' }, defaultDataDir: '/var/lib/iscsi-ts' }
const NAME = 'iqn.2026-11.com.example:disk'

/** The issues of a config that must not validate, as `path: message` strings. */
function issuesOf(input: unknown, ctx: ConfigContext = context): string[] {
  try {
    parseConfig(input, ctx)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
  }
  throw new Error('the config validated')
}
const withLun = (lun: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  targets: [{ name: NAME, luns: [{ backstore: 'memory', size: '1M' }, lun], ...extra }],
})

describe('valid configurations', () => {
  it('loads the example config (examples/target.yaml) with every section', async () => {
    const config = await loadConfig(EXAMPLE, { env: EXAMPLE_ENV, cwd: '/' })
    const dir = fileURLToPath(new URL('../examples/', import.meta.url))
    expect(config.logLevel).toBe('info')
    expect(config.dataDir).toBe(join(dir, 'data'))
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9100 })
    expect(config.portalGroups).toEqual([
      { tag: 1, portals: [{ host: '127.0.0.1', port: 3260 }, { host: '::1', port: 3260 }] },
      { tag: 2, portals: [{ host: '127.0.0.1', port: 3261 }] },
    ])
    const [disk1, scratch] = config.targets
    expect(disk1?.luns).toEqual([
      { lun: 0, backstore: 'file', path: join(dir, 'images/disk1.img'), size: 10 * 2 ** 30, blockSize: 512, readOnly: false, thinProvisioning: true, removable: false, serial: 'disk1-lun0' },
      { lun: 1, backstore: 'memory', size: 512 * 2 ** 20, blockSize: 512, readOnly: false, thinProvisioning: true, removable: false },
      { lun: 2, backstore: 'file', path: join(dir, 'images/iso.img'), blockSize: 512, readOnly: true, thinProvisioning: true, removable: true },
    ])
    expect(disk1?.acls[0]).toEqual({ initiator: 'iqn.1994-05.com.redhat:client1', luns: { 0: 0, 1: 1 } })
    expect(disk1?.acls[1]?.auth?.chap).toEqual({ user: 'backup', secret: 'backup-secret-0123' })
    expect(disk1?.acls[2]?.initiator).toBe('*')
    expect(disk1?.auth).toEqual({
      chap: { user: 'disk1', secret: EXAMPLE_ENV.DISK1_CHAP_SECRET },
      mutual: { user: 'iscsi-ts', secret: EXAMPLE_ENV.DISK1_MUTUAL_SECRET },
      algorithms: ['SHA-256', 'MD5'],
    })
    expect(scratch?.portalGroups).toEqual([1, 2])
    expect(scratch?.luns[0]).toMatchObject({ lun: 0, backstore: 'memory', size: 2 ** 30, blockSize: 4096 })
    expect(config.discoveryAuth?.chap?.secret).toBe(EXAMPLE_ENV.DISCOVERY_CHAP_SECRET)
    expect(config.limits).toEqual({
      maxRecvDataSegmentLength: 262144,
      maxBurstLength: 2 ** 24 - 1,
      firstBurstLength: 262144,
      maxOutstandingR2T: 8,
      maxConnections: 4,
      immediateData: true,
      initialR2T: false,
      headerDigest: ['CRC32C', 'None'],
      dataDigest: ['CRC32C', 'None'],
      queueDepth: 128,
      maxSessions: 4096,
      maxConnectionsPerInitiatorAddress: 64,
    })
    expect(config.timers).toEqual({ loginTimeoutMs: 15_000, nopInIntervalMs: 5000, nopInTimeoutMs: 30_000, shutdownTimeoutMs: 10_000 })
  })

  it('the README shows the example config verbatim', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const block = /A complete example[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBe(await readFile(EXAMPLE, 'utf8'))
  })

  it('fills in defaults for a minimal config', () => {
    const config = parseConfig({ targets: [{ name: NAME, luns: [{ path: 'disk.img', size: '1G' }] }] }, context)
    expect(config).toEqual({
      logLevel: 'info',
      dataDir: '/var/lib/iscsi-ts',
      portalGroups: [{ tag: 1, portals: [{ host: '127.0.0.1', port: 3260 }] }],
      targets: [
        {
          name: NAME,
          portalGroups: [1],
          luns: [{ lun: 0, backstore: 'file', path: '/etc/iscsi/disk.img', size: 2 ** 30, blockSize: 512, readOnly: false, thinProvisioning: true, removable: false }],
          acls: [],
        },
      ],
      limits: {},
      timers: { shutdownTimeoutMs: 10_000 },
    })
  })

  it('reads sizes, durations, digests and names in their friendly spellings', () => {
    const config = parseConfig(
      {
        portals: ['0.0.0.0', '[::]:3261', { host: '::1' }],
        targets: [{ name: 'IQN.2026-11.COM.Example:Disk', luns: [{ backstore: 'memory', size: 4194304 }, { backstore: 'memory', size: '1.5M', lun: 7 }] }],
        limits: { maxRecvDataSegmentLength: '8K', firstBurstLength: 65536, headerDigest: 'crc32c', dataDigest: ['none', 'CRC32C'], maxDataTransferLength: '128M' },
        timers: { loginTimeout: '2s', nopInInterval: 0, nopInTimeout: '1m', shutdownTimeout: '500ms' },
        metrics: { listen: '[::1]:9100' },
      },
      context,
    )
    expect(config.portalGroups[0]?.portals).toEqual([
      { host: '0.0.0.0', port: 3260 },
      { host: '::', port: 3261 },
      { host: '::1', port: 3260 },
    ])
    expect(config.targets[0]?.name).toBe('iqn.2026-11.com.example:disk')
    expect(config.targets[0]?.luns.map((lun) => [lun.lun, lun.size])).toEqual([
      [0, 4 * 2 ** 20],
      [7, 1.5 * 2 ** 20],
    ])
    expect(config.limits).toEqual({
      maxRecvDataSegmentLength: 8192,
      firstBurstLength: 65536,
      headerDigest: ['CRC32C'],
      dataDigest: ['None', 'CRC32C'],
      maxDataTransferLength: 128 * 2 ** 20,
    })
    expect(config.timers).toEqual({ loginTimeoutMs: 2000, nopInIntervalMs: 0, nopInTimeoutMs: 60_000, shutdownTimeoutMs: 500 })
    expect(config.metrics).toEqual({ host: '::1', port: 9100 })
  })

  it('accepts the eui. and naa. name forms and "*" only for ACLs', () => {
    expect(parseIscsiName('eui.02004567A425678D')).toBe('eui.02004567a425678d')
    expect(parseIscsiName('naa.52004567BA64678D')).toBe('naa.52004567ba64678d')
    expect(parseIscsiName('iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test')).toBe('iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test')
    expect(parseIscsiName('iqn.2026-13.com.example')).toBeUndefined()
    expect(parseIscsiName('iqn.2026-11.')).toBeUndefined()
    expect(parseIscsiName(`iqn.2026-11.com.example:${'x'.repeat(220)}`)).toBeUndefined()
    expect(parseIscsiName('*')).toBeUndefined()
  })
})

describe('invalid fields name their path', () => {
  it.each<[string, unknown, string]>([
    ['a size', withLun({ backstore: 'memory', size: 'lots' }), 'targets[0].luns[1].size: expected a size like 10G'],
    ['a missing memory size', withLun({ backstore: 'memory' }), 'targets[0].luns[1].size: required: a size like 10G'],
    ['a size below one block', withLun({ backstore: 'memory', size: 100 }), 'targets[0].luns[1].size: must be at least 512 bytes'],
    ['a size off the block size', withLun({ backstore: 'memory', size: '1001K', blockSize: 4096 }), 'targets[0].luns[1].size: must be a multiple of the block size (4096)'],
    ['a block size', withLun({ path: 'x.img', blockSize: 1000 }), 'targets[0].luns[1].blockSize: expected a block size of 512 or 4096'],
    ['a backstore', withLun({ backstore: 'nbd', size: '1G' }), 'targets[0].luns[1].backstore: expected backstore "file" or "memory"'],
    ['a file LUN without path', withLun({ size: '1G' }), 'targets[0].luns[1].path: expected the path of an image file'],
    ['a LUN number', withLun({ backstore: 'memory', size: '1M', lun: 16384 }), 'targets[0].luns[1].lun: expected an integer from 0 to 16383'],
    ['a duplicate LUN', withLun({ backstore: 'memory', size: '1M', lun: 0 }), 'targets[0].luns[1].lun: duplicate LUN 0 (also luns[0])'],
    ['a boolean', withLun({ backstore: 'memory', size: '1M', readOnly: 'yes' }), 'targets[0].luns[1].readOnly: Invalid input: expected boolean, received string'],
    ['a serial', withLun({ backstore: 'memory', size: '1M', serial: 'has space' }), 'targets[0].luns[1].serial: expected 1 to 64 printable ASCII characters without spaces'],
    ['a physical block exponent', withLun({ backstore: 'memory', size: '1M', physicalBlockExponent: 16 }), 'targets[0].luns[1].physicalBlockExponent: expected an integer from 0 to 15'],
    ['a sanitize throughput', withLun({ backstore: 'memory', size: '1M', sanitizeThroughput: 'fast' }), 'targets[0].luns[1].sanitizeThroughput: expected a size like 10G'],
    ['an unknown key', withLun({ backstore: 'memory', size: '1M', sise: '1G' }), 'targets[0].luns[1].sise: unknown key'],
    ['a target name', { targets: [{ name: 'disk1' }] }, 'targets[0].name: expected an iSCSI name like iqn.2026-11.com.example:disk1 (or eui./naa. form)'],
    ['a duplicate target', { targets: [{ name: NAME }, { name: NAME }] }, 'targets[1].name: duplicate target name (also targets[0])'],
    ['no targets', { targets: [] }, 'targets: expected at least one target'],
    ['a missing targets list', {}, 'targets: Invalid input: expected array, received undefined'],
    ['a portal', { portals: ['127.0.0.1:99999'], targets: [{ name: NAME }] }, 'portals[0]: expected IP:PORT like 0.0.0.0:3260 or [::]:3260 (port 99999 is out of range (0-65535))'],
    ['a portal host name', { portals: ['localhost:3260'], targets: [{ name: NAME }] }, 'portals[0]: "localhost" is not an IP address (portals bind to addresses like 127.0.0.1, 0.0.0.0 or ::)'],
    ['a portal object', { portals: [{ host: '::1', port: -1 }], targets: [{ name: NAME }] }, 'portals[0]: port must be 0 to 65535'],
    ['a portal group tag', { portalGroups: [{ tag: 0, portals: ['127.0.0.1'] }], targets: [{ name: NAME }] }, 'portalGroups[0].tag: expected an integer from 1 to 65535'],
    ['a session limit', { targets: [{ name: NAME }], limits: { maxSessions: 70000 } }, 'limits.maxSessions: expected an integer from 1 to 65535'],
    ['a transfer bound', { targets: [{ name: NAME }], limits: { sendHighWaterMark: '1K' } }, 'limits.sendHighWaterMark: must be at least 65536 bytes'],
    ['a too long timer', { targets: [{ name: NAME }], timers: { nopInInterval: '2h' } }, 'timers.nopInInterval: must be at most 60 minutes'],
    ['portals and groups', { portals: ['127.0.0.1'], portalGroups: [{ tag: 1, portals: ['127.0.0.1:3261'] }], targets: [{ name: NAME }] }, 'portals: use either portals or portalGroups, not both'],
    ['a duplicate tag', { portalGroups: [{ tag: 1, portals: ['127.0.0.1'] }, { tag: 1, portals: ['127.0.0.2'] }], targets: [{ name: NAME }] }, 'portalGroups[1].tag: duplicate portal group tag 1'],
    ['a portal in two groups', { portalGroups: [{ tag: 1, portals: ['127.0.0.1'] }, { tag: 2, portals: ['127.0.0.1:3260'] }], targets: [{ name: NAME }] }, 'portalGroups[1].portals[0]: 127.0.0.1:3260 is already in portalGroups[0].portals[0]'],
    ['a portal group reference', { targets: [{ name: NAME, portalGroups: [2] }] }, 'targets[0].portalGroups[0]: no portal group with tag 2'],
    ['an ACL initiator', { targets: [{ name: NAME, acls: [{ initiator: 'client' }] }] }, 'targets[0].acls[0].initiator: expected an iSCSI name like iqn.2026-11.com.example:disk1 (or eui./naa. form), or "*"'],
    ['a duplicate ACL', { targets: [{ name: NAME, acls: [{ initiator: '*' }, { initiator: '*' }] }] }, 'targets[0].acls[1].initiator: duplicate ACL for *'],
    ['an ACL LUN map key', { targets: [{ name: NAME, acls: [{ initiator: '*', luns: { first: 0 } }] }] }, 'targets[0].acls[0].luns: "first" is not a LUN number (0-16383)'],
    ['an ACL LUN map target', withLun({ backstore: 'memory', size: '1M' }, { acls: [{ initiator: '*', luns: { 0: 9 } }] }), 'targets[0].acls[0].luns[0]: target has no LUN 9'],
    ['a CHAP user', { targets: [{ name: NAME, auth: { chap: { user: 'a b', secret: 'long-enough-secret' } } }] }, 'targets[0].auth.chap.user: must not contain spaces or ":"'],
    ['a short secret', { targets: [{ name: NAME, auth: { chap: { user: 'u', secret: 'hunter2' } } }] }, 'targets[0].auth.chap.secret: must be at least 12 characters (96 bits, RFC 7143 12.1.3)'],
    ['a secret of the wrong shape', { targets: [{ name: NAME, auth: { chap: { user: 'u', secret: { vault: 'x' } } } }] }, 'targets[0].auth.chap.secret: expected a secret: a string, { env: NAME } or { file: PATH }'],
    ['an unset env secret', { targets: [{ name: NAME, auth: { chap: { user: 'u', secret: { env: 'NOPE' } } } }] }, 'targets[0].auth.chap.secret: environment variable NOPE is not set'],
    ['a missing secret file', { discoveryAuth: { chap: { user: 'u', secret: { file: 'missing.txt' } } }, targets: [{ name: NAME }] }, 'discoveryAuth.chap.secret: cannot read secret file /etc/iscsi/missing.txt (ENOENT)'],
    ['mutual without chap', { targets: [{ name: NAME, auth: { mutual: { user: 'u', secret: { env: 'GOOD' } } } }] }, 'targets[0].auth.mutual: mutual CHAP needs one-way chap too (the target authenticates the initiator first)'],
    ['mutual reusing the chap secret', { targets: [{ name: NAME, acls: [{ initiator: '*', auth: { chap: { user: 'a', secret: { env: 'GOOD' } }, mutual: { user: 'b', secret: { env: 'GOOD' } } } }] }] }, 'targets[0].acls[0].auth.mutual.secret: must differ from the chap secret (RFC 7143 12.1.3)'],
    ['a mutual secret used for an initiator elsewhere', { discoveryAuth: { chap: { user: 'd', secret: { env: 'GOOD' } } }, targets: [{ name: NAME, auth: { chap: { user: 'a', secret: 'another-long-secret' }, mutual: { user: 'b', secret: { env: 'GOOD' } } } }] }, 'targets[0].auth.mutual.secret: must differ from every initiator (chap) secret (RFC 7143 12.1.3)'],
    ['a CHAP algorithm', { targets: [{ name: NAME, auth: { algorithms: ['SHA512'] } }] }, 'targets[0].auth.algorithms[0]: Invalid option: expected one of "MD5"|"SHA1"|"SHA-256"|"SHA3-256"'],
    ['a segment length', { targets: [{ name: NAME }], limits: { maxRecvDataSegmentLength: 256 } }, 'limits.maxRecvDataSegmentLength: must be 512 to 16777215 bytes (RFC 7143 13.12)'],
    ['a burst order', { targets: [{ name: NAME }], limits: { firstBurstLength: '1M', maxBurstLength: '512K' } }, 'limits.firstBurstLength: must not exceed maxBurstLength (RFC 7143 13.14)'],
    ['an R2T count', { targets: [{ name: NAME }], limits: { maxOutstandingR2T: 0 } }, 'limits.maxOutstandingR2T: expected an integer from 1 to 65535'],
    ['a digest', { targets: [{ name: NAME }], limits: { headerDigest: ['CRC32C', 'MD5'] } }, 'limits.headerDigest: expected CRC32C, None, or a list of them in preference order'],
    ['a duration', { targets: [{ name: NAME }], timers: { loginTimeout: 'soon' } }, 'timers.loginTimeout: expected a duration like 15s, 500ms or 2m'],
    ['a too short timer', { targets: [{ name: NAME }], timers: { nopInTimeout: '10ms' } }, 'timers.nopInTimeout: must be at least 1000 ms'],
    ['a log level', { targets: [{ name: NAME }], logLevel: 'loud' }, 'logLevel: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"'],
    ['a metrics address', { targets: [{ name: NAME }], metrics: '127.0.0.1' }, 'metrics: expected HOST:PORT like 127.0.0.1:9100 (expected HOST:PORT)'],
    ['an unknown top-level key', { targets: [{ name: NAME }], listen: '0.0.0.0' }, 'listen: unknown key'],
  ])('%s', (_kind, input, expected) => {
    expect(issuesOf(input)).toContain(expected)
  })

  it('reports two LUNs on one file', () => {
    const input = { targets: [{ name: NAME, luns: [{ path: 'a.img', size: '1G' }] }, { name: `${NAME}2`, luns: [{ path: '/etc/iscsi/a.img' }] }] }
    expect(issuesOf(input)).toEqual(['targets[1].luns[0].path: same file as targets[0].luns[0]'])
  })

  it('reports every problem at once, each on its own line of the message', () => {
    const input = { targets: [{ name: 'bad', luns: [{ backstore: 'memory', size: 'x' }] }], limits: { maxConnections: 0 } }
    expect(() => parseConfig(input, context, 'test.yaml')).toThrow(
      'invalid test.yaml:\n  targets[0].name: expected an iSCSI name like iqn.2026-11.com.example:disk1 (or eui./naa. form)\n  targets[0].luns[0].size: expected a size like 10G\n  limits.maxConnections: expected an integer from 1 to 65535',
    )
  })

  it('never repeats a secret in an error', () => {
    const secret = 'hunter2'
    const input = { targets: [{ name: NAME, auth: { chap: { user: 'u', secret }, mutual: { user: 'u', secret: 7 } } }] }
    try {
      parseConfig(input, context)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).message).not.toContain(secret)
      expect(JSON.stringify((error as ConfigError).issues)).not.toContain(secret)
      expect((error as ConfigError).exitCode).toBe(2)
    }
  })
})

describe('secrets', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iscsi-target-config-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('come inline, from the environment or from a file (trailing newline dropped)', async () => {
    await writeFile(join(dir, 'mutual.secret'), 'secret-from-a-file\n')
    const config = parseConfig(
      {
        targets: [{ name: NAME, auth: { chap: { user: 'i', secret: { env: 'CHAP_SECRET' } }, mutual: { user: 't', secret: { file: 'mutual.secret' } } } }],
        discoveryAuth: { chap: { user: 'd', secret: 'inline-secret-value' } },
      },
      { baseDir: dir, env: { CHAP_SECRET: 'secret-from-the-env' }, defaultDataDir: dir },
    )
    expect(config.targets[0]?.auth).toEqual({
      chap: { user: 'i', secret: 'secret-from-the-env' },
      mutual: { user: 't', secret: 'secret-from-a-file' },
    })
    expect(config.discoveryAuth?.chap?.secret).toBe('inline-secret-value')
  })

  it('an empty environment variable counts as unset', () => {
    expect(issuesOf({ targets: [{ name: NAME, auth: { chap: { user: 'u', secret: { env: 'EMPTY' } } } }] }, { ...context, env: { EMPTY: '' } })).toEqual([
      'targets[0].auth.chap.secret: environment variable EMPTY is not set',
    ])
  })
})

describe('loadConfig', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iscsi-target-load-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads JSON, resolving paths against the file and $ISCSI_TS_DATA against the cwd', async () => {
    const file = join(dir, 'target.json')
    await writeFile(file, JSON.stringify({ targets: [{ name: DEFAULT_IQN, luns: [{ path: 'images/a.img', size: '64M' }] }] }))
    const config = await loadConfig(file, { env: { ISCSI_TS_DATA: 'state' }, cwd: '/srv' })
    expect(config.targets[0]?.luns[0]).toMatchObject({ path: join(dir, 'images/a.img'), size: 64 * 2 ** 20 })
    expect(config.dataDir).toBe('/srv/state')
  })

  it('applies an override before validating', async () => {
    const file = join(dir, 'override.yaml')
    await writeFile(file, `portalGroups: [{ tag: 5, portals: ["0.0.0.0:3260"] }]\ntargets: [{ name: ${NAME}, portalGroups: [5] }]\n`)
    const config = await loadConfig(file, {
      env: {},
      cwd: dir,
      override: (input) => ({ ...input, portalGroups: [{ tag: 5, portals: ['127.0.0.1:0'] }] }),
    })
    expect(config.portalGroups).toEqual([{ tag: 5, portals: [{ host: '127.0.0.1', port: 0 }] }])
  })

  it.each<[string, string, string]>([
    ['bad.yaml', 'not valid YAML', 'targets: [\n'],
    ['dup.yaml', 'not valid YAML: Map keys must be unique', 'logLevel: info\nlogLevel: debug\ntargets: []\n'],
    ['bad.json', 'not valid JSON', '{ "targets": '],
    ['list.yaml', 'expected a mapping of settings at the top level', '- a\n- b\n'],
    ['empty.yaml', 'targets: Invalid input: expected array, received undefined', ''],
  ])('%s is a ConfigError: %s', async (name, message, text) => {
    const file = join(dir, name)
    await writeFile(file, text)
    const error = await loadConfig(file, { env: {}, cwd: dir }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toContain(message)
    expect((error as ConfigError).message).toContain(file)
  })

  it('a missing file is a ConfigError naming the file', async () => {
    const error = await loadConfig(join(dir, 'nope.yaml'), { env: {}, cwd: dir }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toContain('cannot read the file (ENOENT)')
  })

  it('parseConfigText treats YAML as a superset of JSON for other extensions', () => {
    expect(parseConfigText('{"a": 1}', 'x.conf')).toEqual({ a: 1 })
    expect(parseConfigText('a: 1\n', 'x.yml')).toEqual({ a: 1 })
  })
})
