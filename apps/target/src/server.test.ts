import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileBackstore, LogicalUnit } from '@iscsi-ts/scsi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type UnitOpener, openUnit } from './build.js'
import { type ConfigContext, type ServerConfig, parseConfig } from './config.js'
import { ConfigError, StartupError } from './errors.js'
import { createLogger } from './logging.js'
import { connectUrls, exposureWarnings, runServer } from './server.js'

const context: ConfigContext = { baseDir: '/srv', env: {}, defaultDataDir: '/srv/data' }
const SECRET = { user: 'u', secret: 'long-enough-secret' }

describe('exposureWarnings', () => {
  const config = parseConfig(
    {
      portalGroups: [
        { tag: 1, portals: ['127.0.0.1:3260', '[::1]:3260'] },
        { tag: 2, portals: ['0.0.0.0:3260'] },
        { tag: 3, portals: ['[::]:3261'] },
      ],
      targets: [
        { name: 'iqn.2026-11.com.example:local', portalGroups: [1] },
        { name: 'iqn.2026-11.com.example:open', portalGroups: [1, 2] },
        { name: 'iqn.2026-11.com.example:chap', portalGroups: [2, 3], auth: { chap: SECRET } },
        { name: 'iqn.2026-11.com.example:acl-only', portalGroups: [3], acls: [{ initiator: 'iqn.1994-05.com.redhat:a' }] },
        { name: 'iqn.2026-11.com.example:acl-chap', portalGroups: [3], acls: [{ initiator: 'iqn.1994-05.com.redhat:a', auth: { chap: SECRET } }] },
      ],
    },
    context,
  )
  const bound = config.portalGroups.flatMap((group) => group.portals.map((portal) => ({ ...portal, tag: group.tag })))

  it('names each target reachable beyond loopback without CHAP, with the open portals', () => {
    expect(exposureWarnings(config, bound)).toEqual([
      { target: 'iqn.2026-11.com.example:open', portals: ['0.0.0.0:3260'] },
      { target: 'iqn.2026-11.com.example:acl-only', portals: ['[::]:3261'] },
    ])
  })

  it('is silent on loopback only', () => {
    expect(exposureWarnings(config, bound.filter((portal) => portal.tag === 1))).toEqual([])
  })
})

describe('connectUrls', () => {
  it('gives a libiscsi URL per LUN through the first portal, with a discovery hint', () => {
    const config = parseConfig(
      {
        portalGroups: [
          { tag: 1, portals: ['0.0.0.0:3260'] },
          { tag: 2, portals: ['[::]:3270'] },
        ],
        targets: [
          { name: 'iqn.2026-11.com.example:a', luns: [{ backstore: 'memory', size: '1M' }, { backstore: 'memory', size: '1M', lun: 4 }] },
          { name: 'iqn.2026-11.com.example:b', portalGroups: [2], auth: { chap: { user: 'bob', secret: 'long-enough-secret' } }, luns: [{ backstore: 'memory', size: '1M' }] },
        ],
      },
      context,
    )
    const bound = [
      { host: '0.0.0.0', port: 3260, tag: 1 },
      { host: '::', port: 3270, tag: 2 },
    ]
    const urls = connectUrls(config, bound)
    expect(urls).toEqual([
      {
        target: 'iqn.2026-11.com.example:a',
        urls: ['iscsi://127.0.0.1:3260/iqn.2026-11.com.example:a/0', 'iscsi://127.0.0.1:3260/iqn.2026-11.com.example:a/4'],
        discover: 'iscsi-ls -s iscsi://127.0.0.1',
      },
      {
        target: 'iqn.2026-11.com.example:b',
        urls: ['iscsi://bob%<secret>@[::1]:3270/iqn.2026-11.com.example:b/0'],
        discover: 'iscsi-ls -s iscsi://bob%<secret>@[::1]:3270',
      },
    ])
    expect(JSON.stringify(urls)).not.toContain('long-enough-secret')
  })
})

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-target-server-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function capture() {
  const lines: string[] = []
  const logger = createLogger({ level: 'info', format: 'json', sink: { write: (line: string) => lines.push(line) } })
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string })
  return { logger, records }
}

const IQN = 'iqn.2026-11.com.example:server'
function serverConfig(input: Record<string, unknown>): ServerConfig {
  return parseConfig({ portals: ['127.0.0.1:0'], ...input }, { baseDir: dir, env: {}, defaultDataDir: join(dir, 'data') })
}

/** The default opener, recording which units were closed (the library and the pool may both close one: harmless). */
function trackingOpener() {
  const closed = new Set<string>()
  const opener: UnitOpener = async (lun, site) => {
    const opened = await openUnit(lun, site)
    const close = opened.unit.close.bind(opened.unit)
    opened.unit.close = async () => {
      closed.add(`${site.targetName}/${lun.lun}`)
      await close()
    }
    return opened
  }
  return { opener, closed }
}

describe('openUnit', () => {
  it('creates a file LUN\'s image sparse through FileBackstore, with a stable serial and thin provisioning', async () => {
    const config = serverConfig({ targets: [{ name: IQN, luns: [{ path: 'images/disk.img', size: '1G', blockSize: 4096 }] }] })
    const lun = config.targets[0]!.luns[0]!
    const { unit, backstore, action } = await openUnit(lun, { targetName: IQN, location: 'targets[0].luns[0]', dataDir: config.dataDir })
    try {
      expect(action).toBe('created')
      expect(unit).toBeInstanceOf(LogicalUnit)
      expect(backstore).toBeInstanceOf(FileBackstore)
      expect(unit.blockSize).toBe(4096)
      expect(unit.blockCount).toBe(2 ** 30 / 4096)
      expect(unit.thinProvisioned).toBe(true)
      expect(unit.writeProtected).toBe(false)
      const info = await stat(join(dir, 'images/disk.img'))
      expect(info.size).toBe(2 ** 30)
      expect(info.blocks * 512).toBeLessThan(2 ** 20)
    } finally {
      await unit.close()
    }
  })

  it('opens a RAM disk read-only when asked', async () => {
    const config = serverConfig({ targets: [{ name: IQN, luns: [{ backstore: 'memory', size: '4M', readOnly: true, removable: true, thinProvisioning: false }] }] })
    const { unit } = await openUnit(config.targets[0]!.luns[0]!, { targetName: IQN, location: 'targets[0].luns[0]', dataDir: config.dataDir })
    expect(unit.blockCount).toBe(8192)
    expect(unit.writeProtected).toBe(true)
    expect(unit.removable).toBe(true)
    expect(unit.thinProvisioned).toBe(false)
    await unit.close()
  })
})

describe('runServer', () => {
  it('serves, reloads (keeping unchanged units, refusing a bad config) and shuts down with exit code 0', async () => {
    const { logger, records } = capture()
    const { opener, closed } = trackingOpener()
    let next: () => ServerConfig = () => serverConfig({ targets: [{ name: IQN, luns: [{ backstore: 'memory', size: '1M' }, { backstore: 'memory', size: '2M' }] }] })
    const server = await runServer({
      config: serverConfig({ targets: [{ name: IQN, luns: [{ backstore: 'memory', size: '1M' }] }], metrics: '127.0.0.1:0' }),
      reloadConfig: () => Promise.resolve(next()),
      logger,
      handleSignals: false,
      openUnit: opener,
    })
    expect(server.portals).toHaveLength(1)
    expect(server.portals[0]?.port).toBeGreaterThan(0)
    expect(server.metricsAddress?.port).toBeGreaterThan(0)
    expect(records().map((record) => record.msg)).toEqual([
      'listening',
      'connect',
      'metrics listening',
    ])
    expect(records()[1]).toMatchObject({
      target: IQN,
      urls: [`iscsi://127.0.0.1:${server.portals[0]?.port}/${IQN}/0`],
      discover: `iscsi-ls -s iscsi://127.0.0.1:${server.portals[0]?.port}`,
    })

    expect(await server.reload()).toBe(true)
    const reloaded = records().at(-1)
    expect(reloaded).toMatchObject({ msg: 'configuration reloaded', targets: 1, added: [{ target: IQN, lun: 1, backstore: 'memory', size: '2M' }], removed: [] })
    expect(server.config.targets[0]?.luns).toHaveLength(2)
    expect([...closed]).toEqual([])

    next = () => {
      throw new ConfigError([{ path: 'targets[0].luns[0].size', message: 'expected a size like 10G' }], 'target.yaml')
    }
    expect(await server.reload()).toBe(false)
    expect(records().at(-1)).toMatchObject({ msg: 'reload failed; the running configuration stays', stage: 'config', issues: ['targets[0].luns[0].size: expected a size like 10G'] })
    expect(server.config.targets[0]?.luns).toHaveLength(2)

    // Removing LUN 1 closes its unit once the target took the new config.
    next = () => serverConfig({ targets: [{ name: IQN, luns: [{ backstore: 'memory', size: '1M' }] }], logLevel: 'warn' })
    expect(await server.reload()).toBe(true)
    expect([...closed]).toEqual([`${IQN}/1`])
    expect(server.logger.level).toBe('warn')
    expect(await server.metrics.registry.getSingleMetricAsString('iscsi_config_reloads_total')).toContain('iscsi_config_reloads_total{result="failure"} 1')

    await server.shutdown()
    expect(await server.done).toBe(0)
    expect(closed.has(`${IQN}/0`)).toBe(true)
  })

  it('without a config file a reload does nothing', async () => {
    const { logger, records } = capture()
    const server = await runServer({ config: serverConfig({ targets: [{ name: IQN }] }), logger, handleSignals: false })
    expect(await server.reload()).toBe(false)
    expect(records().at(-1)?.msg).toContain('nothing to reload')
    await server.shutdown({ graceful: false })
    expect(await server.done).toBe(0)
  })

  it('warns when a target is reachable beyond loopback without CHAP', async () => {
    const { logger, records } = capture()
    const server = await runServer({ config: serverConfig({ portals: ['0.0.0.0:0'], targets: [{ name: IQN }] }), logger, handleSignals: false })
    try {
      const warning = records().find((record) => record.level === 40)
      expect(warning?.msg).toContain(`target ${IQN} is reachable beyond this machine without authentication`)
      expect(warning?.portals).toEqual([`0.0.0.0:${server.portals[0]?.port}`])
    } finally {
      await server.shutdown({ graceful: false })
    }
  })

  it('a portal in use is a StartupError (exit code 1) and the opened units are closed again', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const { opener, closed } = trackingOpener()
    try {
      const error = await runServer({
        config: serverConfig({ portals: [`127.0.0.1:${port}`], targets: [{ name: IQN, luns: [{ backstore: 'memory', size: '1M' }] }] }),
        logger: capture().logger,
        handleSignals: false,
        openUnit: opener,
      }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(StartupError)
      expect((error as StartupError).exitCode).toBe(1)
      expect((error as StartupError).message).toBe(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`)
      expect([...closed]).toEqual([`${IQN}/0`])
    } finally {
      blocker.close()
    }
  })

  it('a file LUN that cannot be created is a ConfigError naming the field', async () => {
    const error = await runServer({
      config: serverConfig({ targets: [{ name: IQN, luns: [{ path: 'missing.img' }] }] }),
      logger: capture().logger,
      handleSignals: false,
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues[0]?.path).toBe('targets[0].luns[0].size')
  })
})
