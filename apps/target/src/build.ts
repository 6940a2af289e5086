// From a validated ServerConfig to what @iscsi-ts/target wants: backstores and logical units (from @iscsi-ts/scsi),
// and IscsiTargetOptions. Units live in a pool keyed by what makes them the same device, so a reload reuses every unit
// whose settings did not change: the sessions using it keep their device, its reservations and unit attentions.
import { createHash } from 'node:crypto'
import { mkdir, stat, truncate } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Backstore, FileBackstore, LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import type { AclConfig, AuthConfig, IscsiTargetOptions, Limits, TargetConfig } from '@iscsi-ts/target'
import type { AuthSettings, FileLunConfig, LunConfig, ServerConfig } from './config.js'
import { ConfigError, StartupError } from './errors.js'
import { FileReservationStore } from './reservation-store.js'
import { formatSize } from './units.js'

/** A stable unit serial number (VPD page 80h) from the target name and LUN: the same across restarts and hosts. */
export function serialFor(targetName: string, lun: number): string {
  return createHash('sha256').update(`${targetName}/${lun}`).digest('hex').slice(0, 16)
}

/** What opening a file LUN does to its image: create it (sparse), grow it, or use it as it is. */
export type ImageAction = 'created' | 'grown' | 'existing'

/**
 * Get a file LUN's image ready to open: a missing one may be created (its folders are made here; FileBackstore creates
 * the file itself, sparse, so it knows every block starts unallocated), a smaller one is grown, a larger one is never
 * shrunk. `location` (`targets[0].luns[1]`) names the LUN in errors. Resolves to what opening will do.
 */
export async function ensureImage(lun: FileLunConfig, location: string): Promise<ImageAction> {
  let info
  try {
    info = await stat(lun.path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(lun, location, error)
  }
  if (info === undefined) {
    if (lun.readOnly) throw new ConfigError([{ path: `${location}.path`, message: `${lun.path} does not exist (a read-only LUN is never created)` }])
    if (lun.size === undefined) throw new ConfigError([{ path: `${location}.size`, message: `required to create ${lun.path}, which does not exist` }])
    try {
      await mkdir(dirname(lun.path), { recursive: true })
    } catch (error) {
      throw openError(lun, location, error)
    }
    return 'created'
  }
  if (info.isBlockDevice()) return 'existing'
  if (!info.isFile()) throw new ConfigError([{ path: `${location}.path`, message: `${lun.path} is not a regular file or block device` }])
  if (lun.size === undefined || info.size === lun.size) return 'existing'
  if (info.size > lun.size) {
    throw new ConfigError([{ path: `${location}.size`, message: `${lun.path} is already ${formatSize(info.size)}; refusing to shrink it to ${formatSize(lun.size)}` }])
  }
  if (lun.readOnly) throw new ConfigError([{ path: `${location}.size`, message: `${lun.path} is ${formatSize(info.size)}, smaller than size, and the LUN is read-only` }])
  await truncate(lun.path, lun.size)
  return 'grown'
}

function openError(lun: FileLunConfig, location: string, error: unknown): StartupError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
  return new StartupError(`${location}: cannot open ${lun.path} (${code})`, { cause: error })
}

/** A unit the pool opened, and what it was opened from. */
export interface PooledUnit {
  readonly key: string
  readonly unit: LogicalUnit
  readonly backstore: Backstore
  /** Loggable description (no secrets): target, LUN, backstore, path, size. */
  readonly description: Readonly<Record<string, string | number | boolean>>
}

/** Where a LUN is in the config, for errors and logs. */
export interface UnitSite {
  readonly targetName: string
  readonly location: string
  readonly dataDir: string
}

/** Opens the backstore and logical unit of one LUN (replaceable in tests). */
export type UnitOpener = (lun: LunConfig, site: UnitSite) => Promise<{ unit: LogicalUnit; backstore: Backstore; action?: ImageAction }>

/** The default opener: FileBackstore (creating the image when needed) or MemoryBackstore, wrapped in a LogicalUnit. */
export const openUnit: UnitOpener = async (lun, site) => {
  const serial = lun.serial ?? serialFor(site.targetName, lun.lun)
  let backstore: Backstore
  let action: ImageAction | undefined
  if (lun.backstore === 'file') {
    action = await ensureImage(lun, site.location)
    try {
      backstore = await FileBackstore.open(lun.path, {
        blockSize: lun.blockSize,
        readOnly: lun.readOnly,
        ...(action === 'created' && lun.size !== undefined ? { size: lun.size } : {}),
      })
    } catch (error) {
      throw openError(lun, site.location, error)
    }
  } else {
    backstore = new MemoryBackstore({ size: lun.size, blockSize: lun.blockSize })
  }
  const unit = new LogicalUnit({
    backstore,
    serial,
    readOnly: lun.readOnly,
    removable: lun.removable,
    // Thin provisioning (SBC-3 4.7) needs a backstore that can deallocate.
    thinProvisioned: lun.thinProvisioning && typeof backstore.unmap === 'function',
    ...(lun.physicalBlockExponent === undefined ? {} : { physicalBlockExponent: lun.physicalBlockExponent }),
    ...(lun.sanitizeThroughput === undefined ? {} : { sanitizeThroughput: lun.sanitizeThroughput }),
    // A RAM disk forgets its data at exit; its reservations need not outlive it either.
    ...(lun.backstore === 'file'
      ? { reservationStore: new FileReservationStore(join(site.dataDir, 'reservations', `${serial.replace(/[^\w.-]/g, '_')}.bin`)) }
      : {}),
  })
  return { unit, backstore, ...(action === undefined ? {} : { action }) }
}

/**
 * The identity of a unit within its target: a file LUN is its file plus its settings (so a LUN renumbered keeps its
 * device); a RAM disk is its LUN number plus its settings, since it has no other name. A unit never moves between
 * targets: a logical unit belongs to one SCSI target device at a time.
 */
export function unitKey(targetName: string, lun: LunConfig): string {
  const serial = lun.serial ?? serialFor(targetName, lun.lun)
  const settings = [lun.size ?? '', lun.blockSize, lun.readOnly, lun.thinProvisioning, lun.removable, serial, lun.physicalBlockExponent ?? 0, lun.sanitizeThroughput ?? '']
  const identity = lun.backstore === 'file' ? ['file', lun.path] : ['memory', lun.lun]
  return JSON.stringify([targetName, ...identity, ...settings])
}

function describe(targetName: string, lun: LunConfig): Record<string, string | number | boolean> {
  return {
    target: targetName,
    lun: lun.lun,
    backstore: lun.backstore,
    ...(lun.backstore === 'file' ? { path: lun.path } : {}),
    ...(lun.size === undefined ? {} : { size: formatSize(lun.size) }),
    ...(lun.readOnly ? { readOnly: true } : {}),
  }
}

function toAuth(auth: AuthSettings | undefined): AuthConfig | undefined {
  if (auth === undefined) return undefined
  return {
    ...(auth.chap === undefined ? {} : { chap: { user: auth.chap.user, secret: auth.chap.secret } }),
    ...(auth.mutual === undefined ? {} : { mutual: { user: auth.mutual.user, secret: auth.mutual.secret } }),
    ...(auth.algorithms === undefined ? {} : { algorithms: [...auth.algorithms] }),
  }
}

/** The library's Limits from the config's limits and timers (only what the config sets; the library defaults the rest). */
export function toLimits(config: ServerConfig): Limits {
  const { loginTimeoutMs, nopInIntervalMs, nopInTimeoutMs } = config.timers
  return {
    ...config.limits,
    ...(config.limits.headerDigest === undefined ? {} : { headerDigest: [...config.limits.headerDigest] }),
    ...(config.limits.dataDigest === undefined ? {} : { dataDigest: [...config.limits.dataDigest] }),
    ...(loginTimeoutMs === undefined ? {} : { loginTimeoutMs }),
    ...(nopInIntervalMs === undefined ? {} : { nopInIntervalMs }),
    ...(nopInTimeoutMs === undefined ? {} : { nopInTimeoutMs }),
  }
}

/** IscsiTargetOptions for a config, given the logical unit of each (target index, LUN). */
export function toTargetOptions(config: ServerConfig, unitOf: (target: number, lun: LunConfig) => LogicalUnit): IscsiTargetOptions {
  const discoveryAuth = toAuth(config.discoveryAuth)
  return {
    portalGroups: config.portalGroups.map((group) => ({ tag: group.tag, portals: group.portals.map(({ host, port }) => ({ host, port })) })),
    targets: config.targets.map((target, t): TargetConfig => {
      const auth = toAuth(target.auth)
      return {
        name: target.name,
        ...(target.alias === undefined ? {} : { alias: target.alias }),
        portalGroups: [...target.portalGroups],
        luns: new Map(target.luns.map((lun) => [lun.lun, unitOf(t, lun)])),
        acls: target.acls.map((acl): AclConfig => {
          const aclAuth = toAuth(acl.auth)
          return {
            initiator: acl.initiator,
            ...(acl.luns === undefined ? {} : { luns: { ...acl.luns } }),
            ...(aclAuth === undefined ? {} : { auth: aclAuth }),
          }
        }),
        ...(auth === undefined ? {} : { auth }),
      }
    }),
    ...(discoveryAuth === undefined ? {} : { discoveryAuth }),
    limits: toLimits(config),
  }
}

/** A set of units ready for one config: apply it with `commit()` once the target took it, or `discard()` it. */
export interface PreparedUnits {
  readonly options: IscsiTargetOptions
  /** Units opened for this config (not in use before). */
  readonly opened: readonly PooledUnit[]
  /** Units in use before that this config no longer has; closed by commit(). */
  readonly retired: readonly PooledUnit[]
  /** Images created or grown while opening. */
  readonly images: ReadonlyArray<{ readonly path: string; readonly action: ImageAction; readonly size?: number }>
  commit(): Promise<void>
  discard(): Promise<void>
}

/** The logical units in use, across reloads. */
export class UnitPool {
  readonly #open: UnitOpener
  #units = new Map<string, PooledUnit>()

  constructor(opener: UnitOpener = openUnit) {
    this.#open = opener
  }

  /** Units in use now. */
  get units(): ReadonlyMap<string, PooledUnit> {
    return this.#units
  }

  /** Open what `config` needs beyond the units in use; on any failure close what this call opened and throw. */
  async prepare(config: ServerConfig): Promise<PreparedUnits> {
    const next = new Map<string, PooledUnit>()
    const opened: PooledUnit[] = []
    const images: Array<{ path: string; action: ImageAction; size?: number }> = []
    const byPlace = new Map<string, LogicalUnit>()
    try {
      for (const [t, target] of config.targets.entries()) {
        for (const [l, lun] of target.luns.entries()) {
          const key = unitKey(target.name, lun)
          let pooled = this.#units.get(key) ?? next.get(key)
          if (pooled === undefined) {
            const site = { targetName: target.name, location: `targets[${t}].luns[${l}]`, dataDir: config.dataDir }
            const { unit, backstore, action } = await this.#open(lun, site)
            pooled = { key, unit, backstore, description: describe(target.name, lun) }
            opened.push(pooled)
            if (action !== undefined && action !== 'existing' && lun.backstore === 'file') {
              images.push({ path: lun.path, action, ...(lun.size === undefined ? {} : { size: lun.size }) })
            }
          }
          next.set(key, pooled)
          byPlace.set(`${t}/${lun.lun}`, pooled.unit)
        }
      }
    } catch (error) {
      await closeAll(opened)
      throw error
    }
    const retired = [...this.#units.values()].filter((unit) => !next.has(unit.key))
    const options = toTargetOptions(config, (t, lun) => {
      const unit = byPlace.get(`${t}/${lun.lun}`)
      if (unit === undefined) throw new Error(`no unit opened for targets[${t}] LUN ${lun.lun}`)
      return unit
    })
    let settled = false
    return {
      options,
      opened,
      retired,
      images,
      commit: async () => {
        if (settled) return
        settled = true
        this.#units = next
        await closeAll(retired)
      },
      discard: async () => {
        if (settled) return
        settled = true
        await closeAll(opened)
      },
    }
  }

  /** Close every unit (after the target stopped). */
  async close(): Promise<void> {
    const units = [...this.#units.values()]
    this.#units = new Map()
    await closeAll(units)
  }
}

/** Close units: LogicalUnit.close() lets their tasks finish, then closes the backstore (closing twice is harmless). */
async function closeAll(units: readonly PooledUnit[]): Promise<void> {
  const results = await Promise.allSettled(units.map((pooled) => pooled.unit.close()))
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failed !== undefined) throw new StartupError(`closing a backstore failed: ${String(failed.reason)}`, { cause: failed.reason })
}
