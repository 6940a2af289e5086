import { describe, expect, it } from 'vitest'
import type { AllocationExtent, Backstore } from '../backstore/backstore.js'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import { buildCompareAndWrite, buildRead10, buildWrite10 } from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, memoryUnit, testDevice, testNexus } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'

const block = (value: number, blocks = 1) => Buffer.alloc(512 * blocks, value)

async function setup(options: Parameters<typeof memoryUnit>[0] = {}) {
  const runner = new CommandRunner(testDevice({ 0: memoryUnit({ blocks: 64, ...options }) }))
  await runner.clearUnitAttentions(0)
  return runner
}

describe('COMPARE AND WRITE (SBC-3 5.2)', () => {
  it('writes when the verify instance matches', async () => {
    const runner = await setup()
    await runner.run(0, buildWrite10({ lba: 5, blocks: 2 }), { dataOut: block(1, 2) })
    const result = await runner.run(0, buildCompareAndWrite({ lba: 5, blocks: 2 }), { dataOut: Buffer.concat([block(1, 2), block(2, 2)]) })
    expect(result).toMatchObject({ status: ScsiStatus.GOOD, dataOutLength: 2048 })
    expect((await runner.run(0, buildRead10({ lba: 5, blocks: 2 }))).dataIn).toEqual(block(2, 2))
  })

  it('reports a miscompare with the offset of the first differing byte in INFORMATION, and writes nothing', async () => {
    const runner = await setup()
    const current = block(7, 2)
    current[512 + 100] = 8
    await runner.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: current })
    const result = await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 2 }), { dataOut: Buffer.concat([block(7, 2), block(9, 2)]) })
    expect(result.status).toBe(ScsiStatus.CHECK_CONDITION)
    expect(result.senseData).toMatchObject({ keyName: 'MISCOMPARE', asc: 0x1d, ascq: 0x00, information: 612n })
    // Fixed format: VALID set, INFORMATION in bytes 3-6.
    expect(result.sense!.subarray(0, 7)).toEqual(Buffer.from([0xf0, 0x00, 0x0e, 0x00, 0x00, 0x02, 0x64]))
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn).toEqual(current)
  })

  it('does nothing for 0 blocks, and checks length, range, data-out and write protection', async () => {
    const runner = await setup({ limits: { maxCompareAndWriteLength: 4 } })
    expect((await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 0 }))).status).toBe(ScsiStatus.GOOD)
    expect((await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 5 }), { dataOut: block(0, 10) })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 13 } })
    expect((await runner.run(0, buildCompareAndWrite({ lba: 63, blocks: 2 }), { dataOut: block(0, 4) })).senseData).toMatchObject({ asc: 0x21 })
    expect((await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 1 }), { dataOut: block(0, 1) })).senseData).toMatchObject({ asc: 0x24, fieldPointer: { byte: 13 } })
    const readOnly = await setup({ readOnly: true })
    expect((await readOnly.run(0, buildCompareAndWrite({ lba: 0, blocks: 1 }), { dataOut: block(0, 2) })).senseData).toMatchObject({ keyName: 'DATA_PROTECT', asc: 0x27 })
  })

  it('refuses a data-out transfer that is not exactly the verify and write instances, writing nothing', async () => {
    const runner = await setup()
    await runner.run(0, buildWrite10({ lba: 0, blocks: 4 }), { dataOut: block(0xa6, 4) })
    const cases: Array<[number, number]> = [
      [1, 4 * 512], // NUMBER OF LOGICAL BLOCKS 1 with 4 blocks announced (the transport passed only the first 2)
      [3, 4 * 512], // NUMBER OF LOGICAL BLOCKS 3 needs 6 blocks
      [0, 512 * 512], // 256 blocks meant: the one-byte field wrapped to 0, yet 512 blocks of data were announced
    ]
    for (const [blocks, announced] of cases) {
      const cdb = buildCompareAndWrite({ lba: 0, blocks })
      const dataOut = Buffer.concat([block(0xa6, 1), block(0x11, 1)]).subarray(0, Math.min(announced, 2 * blocks * 512))
      const result = await runner.device.execute({ nexus: runner.nexus, lun: 0, cdb, tag: 100 + blocks, attribute: 'simple', dataOut, expectedDataOutLength: announced, expectedDataInLength: 0 })
      expect(result.status).toBe(ScsiStatus.CHECK_CONDITION)
      // Fixed sense: ILLEGAL REQUEST, INVALID FIELD IN CDB, SKSV with C/D=1 pointing at byte 13 (NUMBER OF LOGICAL BLOCKS).
      expect([result.sense![2]! & 0x0f, result.sense![12], result.sense![13]]).toEqual([0x05, 0x24, 0x00])
      expect(result.sense!.subarray(15, 18)).toEqual(Buffer.from([0xc0, 0x00, 0x0d]))
    }
    expect((await runner.run(0, buildRead10({ lba: 0, blocks: 4 }))).dataIn).toEqual(block(0xa6, 4))
    // Without an announced length the data-out received stands in for it: an exact one passes.
    expect((await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 1 }), { dataOut: Buffer.concat([block(0xa6), block(0x11)]) })).status).toBe(ScsiStatus.GOOD)
  })
})

/**
 * A slow backstore: every read and every block of every write waits a random 0-2 ms, so that without the range lock
 * a compare could be followed by another writer's write before its own. It checks that writes to a block never
 * overlap in time and logs, for each write, the id of the last completed write when it started.
 */
class SlowStore implements Backstore {
  readonly inner = new MemoryBackstore({ size: 8 * 512 })
  readonly blockSize = 512
  readonly blockCount = 8
  readonly atomicWriteBlocks = 0
  inFlight = 0
  maxInFlight = 0
  lastCompleted = 0
  readonly log: Array<{ id: number; after: number }> = []
  private seed = 7
  private delay(): Promise<void> {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31
    return new Promise((resolve) => setTimeout(resolve, this.seed % 3))
  }
  async read(lba: number, blocks: number, into: Buffer): Promise<void> {
    await this.delay()
    await this.inner.read(lba, blocks, into)
  }
  async write(lba: number, data: Buffer): Promise<void> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    const id = data.readUInt32BE(0)
    this.log.push({ id, after: this.lastCompleted })
    for (let i = 0; i < data.length / 512; i++) {
      await this.delay()
      await this.inner.write(lba + i, data.subarray(i * 512, (i + 1) * 512))
    }
    this.lastCompleted = id
    this.inFlight--
  }
  flush(): Promise<void> {
    return Promise.resolve()
  }
  allocationStatus(lba: number, blocks: number): Promise<AllocationExtent[]> {
    return this.inner.allocationStatus(lba, blocks)
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** Two blocks, both stamped with an id (and a counter in bytes 4-7). */
const stamp = (id: number, counter = 0) => {
  const data = Buffer.alloc(1024)
  for (const offset of [0, 512]) {
    data.writeUInt32BE(id, offset)
    data.writeUInt32BE(counter, offset + 4)
  }
  return data
}

describe('COMPARE AND WRITE under concurrent writers', () => {
  it('loses no increment: concurrent read-CAW loops count exactly', async () => {
    const store = new SlowStore()
    const device = testDevice({ 0: new LogicalUnit({ backstore: store }) })
    const runners = Array.from({ length: 6 }, (_, i) => new CommandRunner(device, testNexus(`host${i}`)))
    for (const runner of runners) await runner.clearUnitAttentions(0)
    await runners[0]!.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: stamp(0, 0) })
    let successes = 0
    let miscompares = 0
    let nextId = 1
    await Promise.all(
      runners.map(async (runner) => {
        for (let done = 0; done < 8; ) {
          const current = (await runner.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn!
          const counter = current.readUInt32BE(4)
          const result = await runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 2 }), { dataOut: Buffer.concat([current, stamp(nextId++, counter + 1)]) })
          if (result.status === ScsiStatus.GOOD) {
            successes++
            done++
          } else {
            expect(result.senseData).toMatchObject({ keyName: 'MISCOMPARE' })
            miscompares++
          }
        }
      }),
    )
    const final = (await runners[0]!.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn!
    expect(successes).toBe(48)
    expect(final.readUInt32BE(4)).toBe(48)
    expect(final.readUInt32BE(516)).toBe(48)
    expect(miscompares).toBeGreaterThan(0)
    expect(store.maxInFlight).toBe(1)
  }, 30_000)

  it('mixes CAW with plain writes: every success compared against the write serialized just before it, none torn', async () => {
    const store = new SlowStore()
    const device = testDevice({ 0: new LogicalUnit({ backstore: store }) })
    const runner = new CommandRunner(device)
    await runner.clearUnitAttentions(0)
    await runner.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: stamp(1) })
    const expectations = new Map<number, number>()
    let id = 2
    const operations: Array<Promise<unknown>> = []
    for (let i = 0; i < 120; i++) {
      const mine = id++
      if (i % 3 === 0) {
        operations.push(runner.run(0, buildWrite10({ lba: 0, blocks: 2 }), { dataOut: stamp(mine) }))
      } else {
        // Guess the current content: a recent id. Some guesses are right, most are not.
        const guess = Math.max(1, mine - 1 - (i % 4))
        expectations.set(mine, guess)
        operations.push(runner.run(0, buildCompareAndWrite({ lba: 0, blocks: 2 }), { dataOut: Buffer.concat([stamp(guess), stamp(mine)]) }))
      }
    }
    const results = (await Promise.all(operations)) as Array<{ status: number }>
    expect(results.every((result) => result.status === ScsiStatus.GOOD || result.status === ScsiStatus.CHECK_CONDITION)).toBe(true)
    expect(store.maxInFlight).toBe(1)
    let casSuccesses = 0
    for (const { id: written, after } of store.log) {
      const expected = expectations.get(written)
      if (expected === undefined) continue
      casSuccesses++
      expect(after, `CAW ${written} expected ${expected}`).toBe(expected)
    }
    expect(casSuccesses).toBeGreaterThan(0)
    const final = (await runner.run(0, buildRead10({ lba: 0, blocks: 2 }))).dataIn!
    expect(final.readUInt32BE(0)).toBe(final.readUInt32BE(512))
    expect(final.readUInt32BE(0)).toBe(store.lastCompleted)
  }, 30_000)
})
