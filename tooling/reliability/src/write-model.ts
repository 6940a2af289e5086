// What a block may hold after a crash, given the writes issued to it. Writes to one block never overlap in time
// (the caller locks blocks), so each block sees a sequence of generations. A generation is *stable* once a write
// with FUA completed with GOOD, or once a SYNCHRONIZE CACHE that started after its GOOD completed (SBC-3 4.11,
// 5.22). After a crash a block must hold its newest stable generation or a later one that was issued (acknowledged
// or not): never an older one, never a torn or foreign one.

interface BlockModel {
  /** Newest generation known stable (0: the initial contents). */
  stable: number
  /** Newest generation acknowledged with GOOD. */
  acked: number
  /** Generations the block may hold: the stable one and every one issued after it. */
  possible: Set<number>
}

export class WriteModel {
  readonly #blocks: BlockModel[]
  readonly #locked: Uint8Array
  #generation = 0
  /** Writes acknowledged as stable (FUA GOOD, or covered by a completed SYNCHRONIZE CACHE). */
  stableWrites = 0

  constructor(blocks: number) {
    this.#blocks = Array.from({ length: blocks }, () => ({ stable: 0, acked: 0, possible: new Set([0]) }))
    this.#locked = new Uint8Array(blocks)
  }

  get blocks(): number {
    return this.#blocks.length
  }

  #block(lba: number): BlockModel {
    const block = this.#blocks[lba]
    if (block === undefined) throw new RangeError(`LBA ${lba} outside the model`)
    return block
  }

  /** True when none of the blocks has a write in flight. */
  free(lba: number, count: number): boolean {
    for (let i = lba; i < lba + count; i++) if (this.#locked[i] !== 0) return false
    return true
  }

  /** A write of `count` blocks is issued: returns its generation. */
  issue(lba: number, count: number): number {
    const generation = ++this.#generation
    for (let i = lba; i < lba + count; i++) {
      this.#locked[i] = 1
      this.#block(i).possible.add(generation)
    }
    return generation
  }

  /** The write ended: GOOD (`acked`, stable with FUA) or not (its data may or may not be there). */
  complete(lba: number, count: number, generation: number, outcome: { acked: boolean; fua: boolean }): void {
    for (let i = lba; i < lba + count; i++) {
      this.#locked[i] = 0
      const block = this.#block(i)
      if (!outcome.acked) continue
      block.acked = generation
      if (outcome.fua) this.#settle(block, generation)
    }
    if (outcome.acked && outcome.fua) this.stableWrites++
  }

  /** A SYNCHRONIZE CACHE starts: what it will make stable when it completes. */
  snapshot(): Map<number, number> {
    const out = new Map<number, number>()
    this.#blocks.forEach((block, lba) => {
      if (block.acked > block.stable) out.set(lba, block.acked)
    })
    return out
  }

  /** The SYNCHRONIZE CACHE completed with GOOD. */
  synced(snapshot: ReadonlyMap<number, number>): void {
    const generations = new Set<number>()
    for (const [lba, generation] of snapshot) {
      this.#settle(this.#block(lba), generation)
      generations.add(generation)
    }
    this.stableWrites += generations.size
  }

  #settle(block: BlockModel, generation: number): void {
    if (generation <= block.stable) return
    block.stable = generation
    for (const g of block.possible) if (g < generation) block.possible.delete(g)
  }

  /** Check what a block holds after a restart; returns a problem description or undefined. */
  check(lba: number, found: number): string | undefined {
    const block = this.#block(lba)
    if (block.possible.has(found)) return undefined
    if (found < block.stable) return `LBA ${lba} holds generation ${found}, older than its stable generation ${block.stable} (a stable write was lost)`
    return `LBA ${lba} holds generation ${found}, which was never written there (possible: ${[...block.possible].join(',')})`
  }

  /** After verification the contents are known: they become the new baseline. */
  observe(lba: number, found: number): void {
    const block = this.#block(lba)
    block.stable = found
    block.acked = found
    block.possible = new Set([found])
    this.#locked[lba] = 0
  }
}
