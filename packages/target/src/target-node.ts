// One configured iSCSI target node at run time: its configuration, the SCSI target device that holds its logical
// units, and the access decisions of its ACLs.
import { ScsiTargetDevice } from '@iscsi-ts/scsi'
import type { LogicalUnit } from '@iscsi-ts/scsi'
import type { AccessDecision } from './acl.js'
import { decideAccess } from './acl.js'
import type { TargetConfig } from './config.js'
import { normalizeName } from './config.js'

export class TargetNode {
  #config: TargetConfig
  readonly key: string
  readonly device: ScsiTargetDevice
  #closed = false

  constructor(config: TargetConfig) {
    this.#config = config
    this.key = normalizeName(config.name)
    this.device = new ScsiTargetDevice()
    for (const [lun, unit] of config.luns) this.device.addLogicalUnit(lun, unit)
  }

  get config(): TargetConfig {
    return this.#config
  }

  get name(): string {
    return this.#config.name
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * First half of a reload: detach the logical units the new configuration drops or replaces (a logical unit
   * belongs to one device at a time, so a unit moving to another target must leave this one first). Returns them.
   */
  detachChanged(config: TargetConfig | undefined): LogicalUnit[] {
    const detached: LogicalUnit[] = []
    for (const [lun, unit] of this.device.logicalUnits()) {
      if (config?.luns.get(lun) !== unit) {
        this.device.removeLogicalUnit(lun)
        detached.push(unit)
      }
    }
    return detached
  }

  /** Second half of a reload: attach the new configuration's units and take its ACLs and auth. */
  attach(config: TargetConfig): void {
    const current = this.device.logicalUnits()
    for (const [lun, unit] of config.luns) {
      if (current.get(lun) !== unit) this.device.addLogicalUnit(lun, unit)
    }
    this.#config = config
  }

  access(initiatorName: string): AccessDecision {
    return decideAccess(this.#config, initiatorName)
  }

  reachableThrough(tag: number): boolean {
    return this.#config.portalGroups.includes(tag)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.device.close()
  }
}
