// A backstore view of a logical unit for other device servers of the same target (the EXTENDED COPY copy
// manager): writes and unmaps take the LU's range lock, so a copy is atomic against COMPARE AND WRITE and ordered
// with every other writer, and writes honour the caching mode page (WCE=0 writes through).
import type { AllocationExtent, Backstore } from '../backstore/backstore.js'
import type { UnitState } from './unit-state.js'

export class LockedBackstore implements Backstore {
  readonly #unit: UnitState

  constructor(unit: UnitState) {
    this.#unit = unit
  }

  get blockSize(): number {
    return this.#unit.blockSize
  }
  get blockCount(): number {
    return this.#unit.blockCount
  }
  get readOnly(): boolean {
    return this.#unit.writeProtection !== undefined
  }

  read(lba: number, blocks: number, into: Buffer): Promise<void> {
    return this.#unit.backstore.read(lba, blocks, into)
  }

  write(lba: number, data: Buffer, options: { fua?: boolean } = {}): Promise<void> {
    const unit = this.#unit
    return unit.lock.run(lba, data.length / unit.blockSize, () => unit.backstore.write(lba, data, { fua: unit.writeThrough(options.fua === true) }))
  }

  flush(): Promise<void> {
    return this.#unit.backstore.flush()
  }

  unmap(lba: number, blocks: number): Promise<void> {
    const unit = this.#unit
    const unmap = unit.backstore.unmap?.bind(unit.backstore)
    if (unmap === undefined) return Promise.reject(new Error('the backstore cannot unmap'))
    return unit.lock.run(lba, blocks, () => unmap(lba, blocks))
  }

  allocationStatus(lba: number, blocks: number): Promise<AllocationExtent[]> {
    const status = this.#unit.backstore.allocationStatus?.bind(this.#unit.backstore)
    return status === undefined ? Promise.resolve([{ lba, blocks, mapped: true }]) : status(lba, blocks)
  }

  /** The LU owns its backstore: a view never closes it. */
  close(): Promise<void> {
    return Promise.resolve()
  }
}
