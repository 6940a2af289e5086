// Test helpers for this package and the transports built on it: I_T nexuses, in-memory logical units, a target
// device with LUs, and a command runner that numbers task tags and decodes sense.
import { MemoryBackstore } from './backstore/memory-backstore.js'
import { LogicalUnit } from './device/logical-unit.js'
import type { Nexus, ScsiResult, TaskAttribute } from './device/nexus.js'
import { ScsiTargetDevice, type ScsiTargetDeviceOptions } from './device/target-device.js'
import type { LogicalUnitOptions } from './device/unit-state.js'
import { encodeIscsiTransportId } from './reservations/transport-id.js'
import { type DecodedSense, decodeSense } from './sense/sense-data.js'

export interface TestNexusOptions {
  /** Target name (default "iqn.2024-01.org.iscsi-ts:target"). */
  readonly target?: string
  /** Target portal group tag (default 1). */
  readonly tpgt?: number
  /** ISID as 12 hex digits (default derived from the name). */
  readonly isid?: string
  readonly relativeTargetPortId?: number
  readonly targetPortGroup?: number
}

/** An iSCSI-style I_T nexus for an initiator named `name` ("iqn.2024-01.org.iscsi-ts:<name>"). */
export function testNexus(name = 'initiator', options: TestNexusOptions = {}): Nexus {
  const initiator = name.includes(':') ? name : `iqn.2024-01.org.iscsi-ts:${name}`
  const isid = options.isid ?? '23d000000001'
  const tpgt = options.tpgt ?? 1
  const target = options.target ?? 'iqn.2024-01.org.iscsi-ts:target'
  const initiatorPort = `${initiator},i,0x${isid}`
  const targetPort = `${target},t,0x${tpgt.toString(16).padStart(4, '0')}`
  return {
    id: `${initiatorPort}|${targetPort}`,
    initiatorPort,
    targetPort,
    relativeTargetPortId: options.relativeTargetPortId ?? tpgt,
    ...(options.targetPortGroup === undefined ? {} : { targetPortGroup: options.targetPortGroup }),
    transportId: encodeIscsiTransportId(initiator, isid),
  }
}

export interface MemoryUnitOptions extends Omit<LogicalUnitOptions, 'backstore'> {
  /** Number of blocks (default 2048). */
  readonly blocks?: number
  /** Block size (default 512). */
  readonly blockSize?: number
  /** Allocation chunk of the memory backstore (default 64 KiB). */
  readonly chunkSize?: number
}

/** A logical unit over a fresh MemoryBackstore. */
export function memoryUnit(options: MemoryUnitOptions = {}): LogicalUnit {
  const { blocks = 2048, blockSize = 512, chunkSize, ...rest } = options
  const backstore = new MemoryBackstore({ size: blocks * blockSize, blockSize, ...(chunkSize === undefined ? {} : { chunkSize }) })
  return new LogicalUnit({ ...rest, backstore })
}

/** A target device with LUs: a count of default memory LUs (LUN 0..n-1) or a map of LUN to LU. */
export function testDevice(units: number | Readonly<Record<number, LogicalUnit>> = 1, options: ScsiTargetDeviceOptions = {}): ScsiTargetDevice {
  const device = new ScsiTargetDevice(options)
  if (typeof units === 'number') for (let lun = 0; lun < units; lun++) device.addLogicalUnit(lun, memoryUnit())
  else for (const [lun, unit] of Object.entries(units)) device.addLogicalUnit(Number(lun), unit)
  return device
}

export interface RunOptions {
  readonly dataOut?: Buffer
  /** Expected data-in length (default 65536, or the data-out size for writes). */
  readonly expected?: number
  readonly attribute?: TaskAttribute
  readonly tag?: number
  readonly signal?: AbortSignal
}

/** A command result with its sense decoded. */
export interface RunResult extends ScsiResult {
  readonly senseData: DecodedSense | undefined
}

/** Sends commands for one I_T nexus, with fresh task tags. */
export class CommandRunner {
  readonly device: ScsiTargetDevice
  readonly nexus: Nexus
  private nextTag = 1

  constructor(device: ScsiTargetDevice, nexus: Nexus = testNexus()) {
    this.device = device
    this.nexus = nexus
  }

  /** Run a CDB on a LUN. */
  async run(lun: number, cdb: Buffer, options: RunOptions = {}): Promise<RunResult> {
    const tag = options.tag ?? this.nextTag++
    const result = await this.device.execute({
      nexus: this.nexus,
      lun,
      cdb,
      tag,
      attribute: options.attribute ?? 'simple',
      ...(options.dataOut === undefined ? {} : { dataOut: options.dataOut }),
      expectedDataInLength: options.expected ?? 65536,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    return { ...result, senseData: result.sense === undefined ? undefined : decodeSense(result.sense) }
  }

  /** Run a CDB, first clearing pending unit attentions with TEST UNIT READY until it stops reporting them. */
  async runReady(lun: number, cdb: Buffer, options: RunOptions = {}): Promise<RunResult> {
    await this.clearUnitAttentions(lun)
    return this.run(lun, cdb, options)
  }

  /** Consume pending unit attentions of this nexus on a LUN (at most 32). */
  async clearUnitAttentions(lun: number): Promise<void> {
    for (let i = 0; i < 32; i++) {
      const result = await this.run(lun, Buffer.from([0x00, 0, 0, 0, 0, 0]))
      if (result.senseData?.keyName !== 'UNIT_ATTENTION') return
    }
  }
}
