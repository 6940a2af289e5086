import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Backstore, type LogicalUnit, ScsiTargetDevice, buildReadCapacity16 } from '@iscsi-ts/scsi'
import { CommandRunner } from '@iscsi-ts/scsi/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type UnitOpener, UnitPool, ensureImage, openUnit, serialFor, toTargetOptions, unitKey } from './build.js'
import { parseCommandLine } from './cli.js'
import { type ConfigContext, type FileLunConfig, type ServerConfig, parseConfig } from './config.js'
import { ConfigError } from './errors.js'
import { FileReservationStore } from './reservation-store.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-target-build-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const fileLun = (path: string, extra: Partial<FileLunConfig> = {}): FileLunConfig => ({
  lun: 0,
  backstore: 'file',
  path,
  blockSize: 512,
  readOnly: false,
  thinProvisioning: true,
  removable: false,
  ...extra,
})

describe('serialFor', () => {
  it('is 16 hex digits, stable, and differs per target and LUN', () => {
    const serial = serialFor('iqn.2026-11.io.iscsi-ts:default', 0)
    expect(serial).toMatch(/^[0-9a-f]{16}$/)
    expect(serialFor('iqn.2026-11.io.iscsi-ts:default', 0)).toBe(serial)
    expect(serialFor('iqn.2026-11.io.iscsi-ts:default', 1)).not.toBe(serial)
    expect(serialFor('iqn.2026-11.io.iscsi-ts:other', 0)).not.toBe(serial)
  })
})

describe('ensureImage', () => {
  it('makes the folders of a missing image and says it is to be created', async () => {
    const path = join(dir, 'new', 'deep', 'disk.img')
    expect(await ensureImage(fileLun(path, { size: 2 ** 30 }), 'targets[0].luns[0]')).toBe('created')
    expect((await stat(join(dir, 'new', 'deep'))).isDirectory()).toBe(true)
    await expect(stat(path)).rejects.toThrow('ENOENT')
  })

  it('leaves an existing image alone, grows a smaller one, refuses to shrink a larger one', async () => {
    const path = join(dir, 'existing.img')
    await writeFile(path, Buffer.alloc(4096, 7))
    expect(await ensureImage(fileLun(path), 'targets[0].luns[0]')).toBe('existing')
    expect(await ensureImage(fileLun(path, { size: 4096 }), 'targets[0].luns[0]')).toBe('existing')
    expect(await ensureImage(fileLun(path, { size: 8192 }), 'targets[0].luns[0]')).toBe('grown')
    expect((await stat(path)).size).toBe(8192)
    const error = await ensureImage(fileLun(path, { size: 4096 }), 'targets[1].luns[2]').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues).toEqual([{ path: 'targets[1].luns[2].size', message: `${path} is already 8K; refusing to shrink it to 4K` }])
    expect((await stat(path)).size).toBe(8192)
  })

  it.each<[string, Partial<FileLunConfig>, string, string]>([
    ['a missing image without a size', {}, 'targets[0].luns[3].size', 'required to create'],
    ['a missing read-only image', { readOnly: true, size: 4096 }, 'targets[0].luns[3].path', 'a read-only LUN is never created'],
  ])('%s is a ConfigError naming the field', async (_name, extra, path, message) => {
    const file = join(dir, `missing-${Math.random()}.img`)
    const error = await ensureImage(fileLun(file, extra), 'targets[0].luns[3]').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues[0]?.path).toBe(path)
    expect((error as ConfigError).issues[0]?.message).toContain(message)
    await expect(stat(file)).rejects.toThrow()
  })

  it('refuses a folder', async () => {
    await mkdir(join(dir, 'folder.img'))
    await expect(ensureImage(fileLun(join(dir, 'folder.img')), 'targets[0].luns[0]')).rejects.toThrow('is not a regular file or block device')
  })
})

const context: ConfigContext = { baseDir: '/srv', env: { TARGET_SECRET: 'target-secret-123' }, defaultDataDir: '/var/lib/iscsi-ts' }

describe('toTargetOptions', () => {
  it('maps a configuration onto IscsiTargetOptions', () => {
    const config = parseConfig(
      {
        portalGroups: [
          { tag: 1, portals: ['0.0.0.0:3260'] },
          { tag: 2, portals: ['[::1]:3261'] },
        ],
        targets: [
          {
            name: 'iqn.2026-11.com.example:a',
            alias: 'disk a',
            portalGroups: [2],
            luns: [
              { path: 'a.img', size: '1G' },
              { backstore: 'memory', size: '64M', lun: 5 },
            ],
            acls: [
              { initiator: 'iqn.1994-05.com.redhat:client', luns: { 0: 5 } },
              { initiator: '*', auth: { chap: { user: 'guest', secret: 'guest-secret-12' } } },
            ],
            auth: { chap: { user: 'a', secret: { env: 'TARGET_SECRET' } }, mutual: { user: 't', secret: 'mutual-secret-1' }, algorithms: ['SHA-256'] },
          },
          { name: 'iqn.2026-11.com.example:b' },
        ],
        discoveryAuth: { chap: { user: 'd', secret: 'discovery-secret' } },
        limits: { maxBurstLength: '1M', dataDigest: ['CRC32C'], queueDepth: 32 },
        timers: { loginTimeout: '5s', nopInInterval: 0, nopInTimeout: '10s', shutdownTimeout: '3s' },
      },
      context,
    )
    const units = new Map<string, LogicalUnit>()
    const options = toTargetOptions(config, (t, lun) => {
      const unit = { id: `${t}/${lun.lun}` } as unknown as LogicalUnit
      units.set(`${t}/${lun.lun}`, unit)
      return unit
    })
    expect(options.portalGroups).toEqual([
      { tag: 1, portals: [{ host: '0.0.0.0', port: 3260 }] },
      { tag: 2, portals: [{ host: '::1', port: 3261 }] },
    ])
    const [a, b] = options.targets
    expect(a?.name).toBe('iqn.2026-11.com.example:a')
    expect(a?.alias).toBe('disk a')
    expect(a?.portalGroups).toEqual([2])
    expect([...(a?.luns.keys() ?? [])]).toEqual([0, 5])
    expect(a?.luns.get(5)).toBe(units.get('0/5'))
    expect(a?.acls).toEqual([
      { initiator: 'iqn.1994-05.com.redhat:client', luns: { 0: 5 } },
      { initiator: '*', auth: { chap: { user: 'guest', secret: 'guest-secret-12' } } },
    ])
    expect(a?.auth).toEqual({ chap: { user: 'a', secret: 'target-secret-123' }, mutual: { user: 't', secret: 'mutual-secret-1' }, algorithms: ['SHA-256'] })
    expect(b).toEqual({ name: 'iqn.2026-11.com.example:b', portalGroups: [1, 2], luns: new Map(), acls: [] })
    expect(options.discoveryAuth).toEqual({ chap: { user: 'd', secret: 'discovery-secret' } })
    expect(options.limits).toEqual({ maxBurstLength: 2 ** 20, dataDigest: ['CRC32C'], queueDepth: 32, loginTimeoutMs: 5000, nopInIntervalMs: 0, nopInTimeoutMs: 10_000 })
  })
})

describe('flags -> IscsiTargetOptions', () => {
  it('the quick-use flags end up as the options of one target', async () => {
    const invocation = parseCommandLine(
      ['--listen', '[::]:3261', '--iqn', 'iqn.2026-11.com.example:quick', '--memory', '8M', '--acl', 'iqn.1994-05.com.redhat:c', '--data-digest'],
      { env: { ISCSI_TARGET_CHAP: 'alice:a-long-enough-secret' }, cwd: '/w', stdout: () => undefined },
    )
    if (invocation.kind !== 'run') throw new Error('expected run')
    const unit = {} as LogicalUnit
    const options = toTargetOptions(await invocation.load(), () => unit)
    const auth = { chap: { user: 'alice', secret: 'a-long-enough-secret' } }
    expect(options).toEqual({
      portalGroups: [{ tag: 1, portals: [{ host: '::', port: 3261 }] }],
      targets: [{ name: 'iqn.2026-11.com.example:quick', portalGroups: [1], luns: new Map([[0, unit]]), acls: [{ initiator: 'iqn.1994-05.com.redhat:c' }], auth }],
      discoveryAuth: auth,
      limits: { dataDigest: ['CRC32C'] },
    })
  })
})

interface FakeBackstore extends Backstore {
  closed: number
  readonly name: string
}

/** An opener that records what it opens; `failOn` makes the open of that path/size fail. */
function fakeOpener(failOn?: string) {
  const opened: FakeBackstore[] = []
  const opener: UnitOpener = (lun, site) => {
    const name = `${site.targetName}/${lun.lun}/${lun.backstore === 'file' ? lun.path : lun.size}`
    if (failOn !== undefined && name.includes(failOn)) return Promise.reject(new Error(`cannot open ${name}`))
    const backstore: FakeBackstore = {
      name,
      closed: 0,
      blockSize: lun.blockSize,
      blockCount: 1,
      read: () => Promise.resolve(),
      write: () => Promise.resolve(),
      flush: () => Promise.resolve(),
      close() {
        this.closed += 1
        return Promise.resolve()
      },
    }
    opened.push(backstore)
    const unit = { name, close: () => backstore.close() } as unknown as LogicalUnit
    return Promise.resolve({ unit, backstore })
  }
  return { opener, opened }
}

function config(luns: unknown[], extra: Record<string, unknown> = {}): ServerConfig {
  return parseConfig({ targets: [{ name: 'iqn.2026-11.com.example:t', luns }], ...extra }, context)
}

describe('UnitPool', () => {
  it('reuses units whose settings did not change and closes the ones dropped, on commit', async () => {
    const { opener, opened } = fakeOpener()
    const pool = new UnitPool(opener)
    const first = await pool.prepare(config([{ path: 'a.img' }, { backstore: 'memory', size: '1M' }]))
    await first.commit()
    expect(opened).toHaveLength(2)
    const unitA = first.options.targets[0]?.luns.get(0)

    // a.img moves to LUN 3 (same file, same settings, same serial) and keeps its unit; the RAM disk changes size.
    const second = await pool.prepare(config([{ backstore: 'memory', size: '2M' }, { path: 'a.img', lun: 3, serial: serialFor('iqn.2026-11.com.example:t', 0) }]))
    expect(second.options.targets[0]?.luns.get(3)).toBe(unitA)
    expect(second.opened.map((unit) => unit.description)).toEqual([{ target: 'iqn.2026-11.com.example:t', lun: 0, backstore: 'memory', size: '2M' }])
    expect(second.retired.map((unit) => unit.description)).toEqual([{ target: 'iqn.2026-11.com.example:t', lun: 1, backstore: 'memory', size: '1M' }])
    expect(opened[1]?.closed).toBe(0)
    await second.commit()
    expect(opened[1]?.closed).toBe(1)
    expect(opened[0]?.closed).toBe(0)
    expect(pool.units.size).toBe(2)

    await pool.close()
    expect(opened.map((backstore) => backstore.closed)).toEqual([1, 1, 1])
  })

  it('discard() closes only what the rejected config opened; the running units stay', async () => {
    const { opener, opened } = fakeOpener()
    const pool = new UnitPool(opener)
    await (await pool.prepare(config([{ path: 'a.img' }]))).commit()
    const rejected = await pool.prepare(config([{ path: 'a.img' }, { path: 'b.img' }]))
    await rejected.discard()
    expect(opened.map((backstore) => [backstore.name, backstore.closed])).toEqual([
      ['iqn.2026-11.com.example:t/0//srv/a.img', 0],
      ['iqn.2026-11.com.example:t/1//srv/b.img', 1],
    ])
    expect([...pool.units.values()].map((unit) => unit.backstore)).toEqual([opened[0]])
  })

  it('a failed open closes what the same prepare() opened and keeps the pool as it was', async () => {
    const { opener, opened } = fakeOpener('bad.img')
    const pool = new UnitPool(opener)
    await expect(pool.prepare(config([{ path: 'good.img' }, { path: 'bad.img' }]))).rejects.toThrow('cannot open')
    expect(opened).toHaveLength(1)
    expect(opened[0]?.closed).toBe(1)
    expect(pool.units.size).toBe(0)
  })

  it('keys a RAM disk by its target and LUN, a file by its target and path, and both by their settings', () => {
    const memory = config([{ backstore: 'memory', size: '1M' }]).targets[0]!.luns[0]!
    const file = config([{ path: 'x.img', serial: 'fixed' }]).targets[0]!.luns[0]!
    expect(unitKey('iqn.a', memory)).not.toBe(unitKey('iqn.b', memory))
    expect(unitKey('iqn.a', memory)).not.toBe(unitKey('iqn.a', { ...memory, lun: 1, serial: serialFor('iqn.a', 0) }))
    expect(unitKey('iqn.a', memory)).toBe(unitKey('iqn.a', { ...memory }))
    expect(unitKey('iqn.a', file)).toBe(unitKey('iqn.a', { ...file, lun: 7 }))
    expect(unitKey('iqn.a', file)).not.toBe(unitKey('iqn.b', file))
    expect(unitKey('iqn.a', file)).not.toBe(unitKey('iqn.a', { ...file, readOnly: true }))
    expect(unitKey('iqn.a', file)).not.toBe(unitKey('iqn.a', { ...file, physicalBlockExponent: 3 }))
    expect(unitKey('iqn.a', file)).not.toBe(unitKey('iqn.a', { ...file, sanitizeThroughput: 1 << 20 }))
  })
})

describe('openUnit', () => {
  it('gives the logical unit its physical block exponent (READ CAPACITY(16) byte 13) and sanitize throughput', async () => {
    const lun = config([{ backstore: 'memory', size: '1M', physicalBlockExponent: 3, sanitizeThroughput: '64M' }]).targets[0]!.luns[0]!
    expect(lun).toMatchObject({ physicalBlockExponent: 3, sanitizeThroughput: 64 * 2 ** 20 })
    const { unit } = await openUnit(lun, { targetName: 'iqn.2026-11.io.iscsi-ts:t', location: 'targets[0].luns[0]', dataDir: dir })
    const device = new ScsiTargetDevice()
    device.addLogicalUnit(0, unit)
    const runner = new CommandRunner(device)
    const capacity = await runner.runReady(0, buildReadCapacity16({ allocationLength: 32 }))
    expect(capacity.dataIn![13]).toBe(3) // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: 8 x 512-byte blocks per 4 KiB
    await device.close()
  })
})

describe('FileReservationStore', () => {
  it('loads nothing before the first save, then what was saved, replacing the file atomically', async () => {
    const store = new FileReservationStore(join(dir, 'pr', 'serial.bin'))
    expect(await store.load()).toBeUndefined()
    await store.save(Buffer.from('first state'))
    await store.save(Buffer.from('second state'))
    expect((await store.load())?.toString()).toBe('second state')
    expect(await readdir(join(dir, 'pr'))).toEqual(['serial.bin'])
    expect((await stat(join(dir, 'pr', 'serial.bin'))).mode & 0o777).toBe(0o600)
  })
})
