// A backstore that wraps another and injects faults from a plan: latency, errors (EIO, ENOSPC, ...) and torn
// writes, chosen by operation, LBA range, count and probability. Deterministic: the same seed and the same sequence
// of calls fire the same faults. For testing how the device server and the layers above survive a bad disk.
import { type AllocationExtent, type Backstore, backstoreErrno } from './backstore.js'

export type FaultOperation = 'read' | 'write' | 'flush' | 'unmap' | 'allocationStatus' | 'resize'

export type Fault =
  /** Delay the operation by ms milliseconds, then run it. */
  | { readonly kind: 'latency'; readonly ms: number }
  /** Fail the operation with a Node-style error of this code (EIO, ENOSPC, EROFS, ...) without running it. */
  | { readonly kind: 'error'; readonly code: string }
  /**
   * Write only the first `blocks` blocks (default: a seeded random prefix shorter than the write), then fail with
   * `code` (default EIO): the medium holds part of the write, as after a power cut in the middle of it.
   */
  | { readonly kind: 'torn'; readonly blocks?: number; readonly code?: string }

export interface FaultRule {
  /** Operations the rule applies to (one or several); absent: all. */
  readonly op?: FaultOperation | readonly FaultOperation[]
  /** LBA range the operation must overlap: [lba, lba+blocks). Operations without a range (flush) match only when absent. */
  readonly lba?: number
  readonly blocks?: number
  /** Chance the rule fires on a matching operation (default 1). */
  readonly probability?: number
  /** Matching operations to let pass before the rule may fire (default 0). */
  readonly after?: number
  /** Most times the rule fires (default unlimited). */
  readonly times?: number
  readonly fault: Fault
}

export interface FaultPlan {
  /** Seed of the deterministic random source (default 1). */
  readonly seed?: number
  readonly rules: readonly FaultRule[]
}

/** A fault that fired, for assertions and logs. */
export interface FaultEvent {
  readonly rule: number
  readonly op: FaultOperation
  readonly lba: number | undefined
  readonly blocks: number | undefined
  readonly fault: Fault
}

/** mulberry32: a small, fast, seedable PRNG with a full 2^32 period. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class FaultInjectingBackstore implements Backstore {
  readonly inner: Backstore
  /** Faults fired so far, oldest first. */
  readonly events: FaultEvent[] = []
  private plan: FaultPlan
  private random: () => number
  private matched: number[] = []
  private fired: number[] = []

  constructor(inner: Backstore, faults: FaultPlan = { rules: [] }) {
    this.inner = inner
    this.plan = faults
    this.random = mulberry32(faults.seed ?? 1)
    this.reset()
  }

  get blockSize(): number {
    return this.inner.blockSize
  }
  get blockCount(): number {
    return this.inner.blockCount
  }
  get readOnly(): boolean | undefined {
    return this.inner.readOnly
  }
  get name(): string | undefined {
    return this.inner.name
  }
  get unmapGranularity(): number | undefined {
    return this.inner.unmapGranularity
  }
  get atomicWriteBlocks(): number | undefined {
    return this.inner.atomicWriteBlocks
  }

  /** Replace the plan (and restart its random source and counters). */
  setPlan(plan: FaultPlan): void {
    this.plan = plan
    this.random = mulberry32(plan.seed ?? 1)
    this.reset()
  }

  /** Remove every rule. */
  clear(): void {
    this.setPlan({ rules: [] })
  }

  private reset(): void {
    this.matched = this.plan.rules.map(() => 0)
    this.fired = this.plan.rules.map(() => 0)
    this.events.length = 0
  }

  /** The faults that fire for this operation, in rule order (at most one error or torn write: the first). */
  private select(op: FaultOperation, lba?: number, blocks?: number): FaultEvent[] {
    const out: FaultEvent[] = []
    this.plan.rules.forEach((rule, index) => {
      const ops = rule.op === undefined ? undefined : typeof rule.op === 'string' ? [rule.op] : rule.op
      if (ops !== undefined && !ops.includes(op)) return
      if (rule.lba !== undefined) {
        if (lba === undefined || blocks === undefined) return
        const ruleEnd = rule.lba + (rule.blocks ?? 1)
        if (!(lba < ruleEnd && rule.lba < lba + Math.max(blocks, 1))) return
      }
      const matched = (this.matched[index] ?? 0) + 1
      this.matched[index] = matched
      if (matched <= (rule.after ?? 0)) return
      if (rule.times !== undefined && this.fired[index]! >= rule.times) return
      // The random source advances on every eligible match, so the firing pattern depends only on the call sequence.
      if (this.random() >= (rule.probability ?? 1)) return
      this.fired[index] = this.fired[index]! + 1
      out.push({ rule: index, op, lba, blocks, fault: rule.fault })
    })
    return out
  }

  /** Apply latencies, then the first failing fault if any; returns the torn fault for writes. */
  private async inject(op: FaultOperation, lba?: number, blocks?: number): Promise<Extract<Fault, { kind: 'torn' }> | undefined> {
    const events = this.select(op, lba, blocks)
    let failure: FaultEvent | undefined
    for (const event of events) {
      if (event.fault.kind === 'latency') {
        this.events.push(event)
        await sleep(event.fault.ms)
      } else if (failure === undefined && (event.fault.kind === 'error' || op === 'write')) {
        failure = event
      }
    }
    if (failure === undefined) return undefined
    this.events.push(failure)
    if (failure.fault.kind === 'error') throw backstoreErrno(failure.fault.code, `injected fault on ${op}${lba === undefined ? '' : ` at LBA ${lba}`}`)
    return failure.fault.kind === 'torn' ? failure.fault : undefined
  }

  async read(lba: number, blocks: number, into: Buffer): Promise<void> {
    await this.inject('read', lba, blocks)
    await this.inner.read(lba, blocks, into)
  }

  async write(lba: number, data: Buffer, options?: { fua?: boolean }): Promise<void> {
    const blocks = Math.floor(data.length / this.inner.blockSize)
    const torn = await this.inject('write', lba, blocks)
    if (torn === undefined) {
      await this.inner.write(lba, data, options)
      return
    }
    const kept = Math.min(torn.blocks ?? Math.floor(this.random() * blocks), Math.max(blocks - 1, 0))
    if (kept > 0) await this.inner.write(lba, data.subarray(0, kept * this.inner.blockSize), options)
    throw backstoreErrno(torn.code ?? 'EIO', `injected torn write at LBA ${lba}: ${kept} of ${blocks} blocks written`)
  }

  async flush(): Promise<void> {
    await this.inject('flush')
    await this.inner.flush()
  }

  async unmap(lba: number, blocks: number): Promise<void> {
    if (this.inner.unmap === undefined) throw backstoreErrno('EOPNOTSUPP', 'the wrapped backstore cannot unmap')
    await this.inject('unmap', lba, blocks)
    await this.inner.unmap(lba, blocks)
  }

  async allocationStatus(lba: number, blocks: number): Promise<AllocationExtent[]> {
    if (this.inner.allocationStatus === undefined) return [{ lba, blocks, mapped: true }]
    await this.inject('allocationStatus', lba, blocks)
    return this.inner.allocationStatus(lba, blocks)
  }

  async resize(blockCount: number): Promise<void> {
    if (this.inner.resize === undefined) throw backstoreErrno('EOPNOTSUPP', 'the wrapped backstore cannot resize')
    await this.inject('resize')
    await this.inner.resize(blockCount)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
