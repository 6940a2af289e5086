// The state of one logical unit's device server: its backstore and identity, mode pages, task set, range lock, unit
// attentions, reservations, medium and power condition, and sanitize progress. Command handlers work on it; the
// public LogicalUnit wraps it.
import type { Backstore } from '../backstore/backstore.js'
import type { CommandFeature } from '../cdb/commands.js'
import { CheckCondition } from '../errors.js'
import { Reservations, type ReservationStore } from '../reservations/reservations.js'
import type { AscName } from '../sense/asc.js'
import type { SenseFormat } from '../sense/sense-data.js'
import { backstoreFailure } from './backstore-failure.js'
import type { UnitIdentity } from './identity.js'
import { type BlockLimits, naaDesignator } from './inquiry-data.js'
import { ModeParameters } from './mode-pages.js'
import { RangeLock } from './range-lock.js'
import { TaskSet } from './task-set.js'
import { UnitAttentions } from './unit-attention.js'

/** Tunable limits of a LU, in logical blocks (VPD B0h, SBC-3 6.5.3). */
export interface UnitLimits {
  /** Most blocks a READ/WRITE/VERIFY moves (default 8 MiB worth). */
  readonly maxTransferLength?: number
  /** Preferred transfer size (default 1 MiB worth). */
  readonly optimalTransferLength?: number
  /** Most blocks one UNMAP deallocates in total (thin LUs; default 1 GiB worth, at most 2^20 blocks). */
  readonly maxUnmapLbaCount?: number
  /** Most UNMAP block descriptors in one parameter list (thin LUs; default 256). */
  readonly maxUnmapDescriptorCount?: number
  /** Most blocks one WRITE SAME writes (default 65535, LIO's MAXIMUM WRITE SAME LENGTH). */
  readonly maxWriteSameLength?: number
  /** Most blocks one COMPARE AND WRITE compares and writes (default 64, at most 255). */
  readonly maxCompareAndWriteLength?: number
}

export interface LogicalUnitOptions {
  readonly backstore: Backstore
  /** VPD 80h unit serial number; stable across restarts. Default: derived from the backstore name, vendor, product and LUN. */
  readonly serial?: string
  /** NAA designator of VPD 83h (64-bit NAA 2h/3h/5h or 128-bit NAA 6h); default: NAA 3h derived from the serial. */
  readonly naa?: bigint
  readonly readOnly?: boolean
  /** Removable medium (RMB): START STOP UNIT LOEJ ejects and loads, PREVENT ALLOW MEDIUM REMOVAL is supported. */
  readonly removable?: boolean
  /** Thin provisioning: LBPME=1, UNMAP, WRITE SAME with UNMAP, GET LBA STATUS. Needs backstore.unmap. */
  readonly thinProvisioned?: boolean
  /** Persistence for APTPL (persistent reservations). */
  readonly reservationStore?: ReservationStore
  readonly vendor?: string
  readonly product?: string
  readonly revision?: string
  /** Most tasks in the task set; past it commands get TASK SET FULL (default 128). */
  readonly queueDepth?: number
  /** Initial caching mode page WCE (default true). With WCE=0 every write is written through (FUA). */
  readonly writeCache?: boolean
  /** LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT of READ CAPACITY(16) (default 0). */
  readonly physicalBlockExponent?: number
  /**
   * Bytes per second a sanitize writes at most (SANITIZE OVERWRITE, and the zero fill of a backstore without unmap);
   * default unbounded. A sanitize is a background operation of the LU (SBC-3 4.11) that may run long, as on a real
   * medium; bounding it keeps it from starving the other LUs of the host's storage. Closing the LU lifts the bound.
   */
  readonly sanitizeThroughput?: number
  readonly limits?: UnitLimits
}

export type PowerCondition = 'active' | 'idle' | 'standby' | 'stopped'

export interface SanitizeState {
  /** Progress of a running sanitize, 0-65535 (SPC-4 4.5.2.4.4). */
  progress: number
}

const MiB = 1024 * 1024

function positive(name: string, value: number | undefined, fallback: number, max = 0xffffffff): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value} is not an integer in 0..${max}`)
  return value
}

export class UnitState {
  readonly backstore: Backstore
  readonly options: LogicalUnitOptions
  readonly readOnly: boolean
  readonly removable: boolean
  readonly thin: boolean
  readonly physicalBlockExponent: number
  /** Bytes per second of sanitize writes (undefined: unbounded). */
  readonly sanitizeThroughput: number | undefined
  /** Aborted when the LU closes: background work stops pacing itself and finishes as fast as it can. */
  readonly closing = new AbortController()
  readonly limits: BlockLimits
  readonly modes: ModeParameters
  readonly lock = new RangeLock()
  readonly attentions = new UnitAttentions()
  readonly tasks: TaskSet
  readonly reservations: Reservations
  /** Resolves once the persistent reservation state is loaded; `loadFailure` holds why it could not be. */
  readonly loaded: Promise<void>
  /** `loaded` has settled: commands need not wait for it (an await per command otherwise). */
  ready = false
  loadFailure: CheckCondition | undefined
  /** Medium present (always, unless a removable medium was ejected). */
  medium: 'present' | 'ejected' = 'present'
  power: PowerCondition = 'active'
  /** I_T nexuses that hold PREVENT MEDIUM REMOVAL (SBC-3 5.12). */
  readonly preventers = new Set<string>()
  /** A sanitize in progress. */
  sanitize: SanitizeState | undefined
  /** The last sanitize failed; medium access fails until a sanitize completes or EXIT FAILURE MODE (SBC-3 4.11). */
  sanitizeFailed: { readonly ause: boolean } | undefined
  private attachedIdentity: UnitIdentity | undefined
  private readonly running = new Set<Promise<void>>()
  /** Abort the tasks of these nexuses (set by the LU: PREEMPT AND ABORT). */
  abortNexusTasks: (nexusIds: string[]) => void = () => undefined

  constructor(options: LogicalUnitOptions) {
    const { backstore } = options
    if (backstore === undefined || typeof backstore.read !== 'function') throw new TypeError('a LogicalUnit needs a backstore')
    if (!Number.isInteger(backstore.blockSize) || backstore.blockSize < 512 || (backstore.blockSize & (backstore.blockSize - 1)) !== 0) {
      throw new RangeError(`backstore block size ${backstore.blockSize} is not a power of two of at least 512`)
    }
    // Refuse a bad NAA designator now rather than when the LU is added to a device.
    if (options.naa !== undefined) naaDesignator('', options.naa)
    if (options.thinProvisioned === true && backstore.unmap === undefined) throw new TypeError('a thin provisioned LU needs a backstore with unmap')
    this.backstore = backstore
    this.options = options
    this.readOnly = options.readOnly === true || backstore.readOnly === true
    this.removable = options.removable === true
    this.thin = options.thinProvisioned === true
    this.physicalBlockExponent = positive('physicalBlockExponent', options.physicalBlockExponent, 0, 15)
    const throughput = options.sanitizeThroughput
    if (throughput !== undefined && !(Number.isFinite(throughput) && throughput > 0)) throw new RangeError(`sanitizeThroughput ${throughput} is not a positive number of bytes per second`)
    this.sanitizeThroughput = throughput
    this.modes = new ModeParameters({ writeCache: options.writeCache ?? true })
    this.tasks = new TaskSet(positive('queueDepth', options.queueDepth, 128, 65535) || 1)
    const blockSize = backstore.blockSize
    const limits = options.limits ?? {}
    const maxTransferLength = positive('maxTransferLength', limits.maxTransferLength, Math.floor((8 * MiB) / blockSize)) || 1
    const atomic = Math.min(backstore.atomicWriteBlocks ?? 0, maxTransferLength)
    this.limits = {
      maxCompareAndWriteLength: positive('maxCompareAndWriteLength', limits.maxCompareAndWriteLength, 64, 255),
      optimalTransferLengthGranularity: 1 << this.physicalBlockExponent,
      maxTransferLength,
      optimalTransferLength: Math.min(maxTransferLength, positive('optimalTransferLength', limits.optimalTransferLength, Math.max(1, Math.floor(MiB / blockSize)))),
      maxPrefetchLength: maxTransferLength,
      // 2^20 blocks at most by default: initiators (libiscsi's Inquiry.BlockLimits) take a larger explicit limit for
      // a bogus one; FFFFFFFFh would mean no limit at all, which one command should not have.
      maxUnmapLbaCount: this.thin ? positive('maxUnmapLbaCount', limits.maxUnmapLbaCount, Math.min(Math.floor((1024 * MiB) / blockSize), 1 << 20)) : 0,
      maxUnmapDescriptorCount: this.thin ? positive('maxUnmapDescriptorCount', limits.maxUnmapDescriptorCount, 256) : 0,
      optimalUnmapGranularity: this.thin ? Math.max(1, backstore.unmapGranularity ?? 1) : 0,
      ...(this.thin && (backstore.unmapGranularity ?? 1) > 1 ? { unmapGranularityAlignment: 0 } : {}),
      // One WRITE SAME holds the LU's range lock while it writes every block: 65535 blocks (LIO's default) bounds it.
      maxWriteSameLength: positive('maxWriteSameLength', limits.maxWriteSameLength, 0xffff),
      maxAtomicTransferLength: atomic,
      atomicAlignment: atomic > 0 ? 1 : 0,
      atomicTransferLengthGranularity: atomic > 0 ? 1 : 0,
    }
    this.reservations = new Reservations({
      ...(options.reservationStore === undefined ? {} : { store: options.reservationStore }),
      unitAttention: (nexusId, asc) => this.attentions.establish(nexusId, asc),
      abortTasks: (nexusIds) => this.abortNexusTasks(nexusIds),
    })
    this.loaded = this.reservations
      .load()
      .catch((error: unknown) => {
        this.loadFailure =
          error instanceof CheckCondition
            ? error
            : new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { message: 'persistent reservation state failed to load', cause: error })
      })
      .finally(() => {
        this.ready = true
      })
  }

  /** Serial number and designators; known once the LU is added to a target device. */
  get identity(): UnitIdentity {
    if (this.attachedIdentity === undefined) throw new Error('the logical unit is not attached to a target device')
    return this.attachedIdentity
  }

  get attached(): boolean {
    return this.attachedIdentity !== undefined
  }

  attach(identity: UnitIdentity | undefined): void {
    this.attachedIdentity = identity
  }

  get blockSize(): number {
    return this.backstore.blockSize
  }

  get blockCount(): number {
    return this.backstore.blockCount
  }

  /** WRITE ATOMIC is supported (the backstore stores some writes atomically). */
  get atomic(): boolean {
    return this.limits.maxAtomicTransferLength > 0
  }

  /** Whether the LU has a capability a command depends on (opcode table `feature`). */
  supports(feature: CommandFeature): boolean {
    switch (feature) {
      case 'removable':
        return this.removable
      case 'thin':
        return this.thin
      case 'atomic':
        return this.atomic
      case 'copy':
        return true
    }
  }

  /** Sense format for CHECK CONDITION (control mode page D_SENSE). */
  get senseFormat(): SenseFormat {
    return this.modes.descriptorSense ? 'descriptor' : 'fixed'
  }

  /** Why writes are refused, if they are: read-only LU or store (27/00), software write protect (27/02). */
  get writeProtection(): AscName | undefined {
    if (this.readOnly) return 'WRITE_PROTECTED'
    if (this.modes.softwareWriteProtect) return 'LOGICAL_UNIT_SOFTWARE_WRITE_PROTECTED'
    return undefined
  }

  /** DATA PROTECT when the medium may not be written (SBC-3 4.x write protection). */
  checkWritable(): void {
    const asc = this.writeProtection
    if (asc !== undefined) throw new CheckCondition('DATA_PROTECT', asc)
  }

  /** LOGICAL BLOCK ADDRESS OUT OF RANGE unless [lba, lba+blocks) lies on the medium (SBC-3 4.5). */
  checkRange(lba: number, blocks: number): void {
    if (lba + blocks > this.blockCount || lba > this.blockCount) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE', { message: `LBA ${lba} + ${blocks} blocks is beyond the ${this.blockCount}-block medium` })
    }
  }

  /** NOT READY (or the sanitize failure) unless the medium is ready for a command of this access kind. */
  checkReady(access: 'medium' | 'present'): void {
    if (this.sanitize !== undefined) {
      throw new CheckCondition('NOT_READY', 'LOGICAL_UNIT_NOT_READY_SANITIZE_IN_PROGRESS', { progress: this.sanitize.progress })
    }
    if (this.medium === 'ejected') throw new CheckCondition('NOT_READY', 'MEDIUM_NOT_PRESENT_TRAY_OPEN')
    if (access === 'medium') {
      if (this.sanitizeFailed !== undefined) throw new CheckCondition('MEDIUM_ERROR', 'SANITIZE_COMMAND_FAILED')
      // A stopped, idle or standby LU returns to active on medium access (SBC-3 4.19: the device server may).
      this.power = 'active'
    }
  }

  /** Run a backstore operation, turning its failures into the CHECK CONDITION they mean. */
  async io<T>(operation: Parameters<typeof backstoreFailure>[1], work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw backstoreFailure(error, operation)
    }
  }

  /** Whether a write must reach stable storage before status: FUA asked, or the write cache disabled (WCE=0). */
  writeThrough(fua: boolean): boolean {
    return fua || !this.modes.writeCache
  }

  /** Work that outlives its command (SANITIZE with IMMED); its failure is recorded elsewhere. */
  background(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.running.delete(tracked))
    this.running.add(tracked)
  }

  /** Resolves when background work has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.running])
  }

  /** Logical unit reset effects on this LU's state (SAM-5 6.3.3, SPC-4 7.5.1, SBC-3 5.12). */
  resetState(): void {
    this.modes.reset()
    this.preventers.clear()
    this.power = 'active'
    this.reservations.reset()
  }
}
