import { describe, expect, it } from 'vitest'
import { MemoryBackstore } from '../backstore/memory-backstore.js'
import { buildRead10, buildTestUnitReady, buildWrite10 } from '../cdb/builders.js'
import { ScsiStatus } from '../status.js'
import { CommandRunner, testDevice, testNexus } from '../testing.js'
import { LogicalUnit } from './logical-unit.js'
import { TaskAbortedError, TaskSet } from './task-set.js'

/** A memory backstore whose reads and writes of chosen LBAs wait until released. */
class GatedStore extends MemoryBackstore {
  private readonly gates = new Map<number, { promise: Promise<void>; open: () => void }>()
  readonly writes: number[] = []
  constructor() {
    super({ size: 64 * 512 })
  }
  gate(lba: number): () => void {
    let open!: () => void
    const promise = new Promise<void>((resolve) => (open = resolve))
    this.gates.set(lba, { promise, open })
    return () => {
      this.gates.delete(lba)
      open()
    }
  }
  override async read(lba: number, blocks: number, into: Buffer): Promise<void> {
    await this.gates.get(lba)?.promise
    return super.read(lba, blocks, into)
  }
  override async write(lba: number, data: Buffer, options?: { fua?: boolean }): Promise<void> {
    await this.gates.get(lba)?.promise
    this.writes.push(lba)
    return super.write(lba, data, options)
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

async function setup(queueDepth?: number) {
  const store = new GatedStore()
  const device = testDevice({ 0: new LogicalUnit({ backstore: store, ...(queueDepth === undefined ? {} : { queueDepth }) }) })
  const a = new CommandRunner(device, testNexus('a'))
  const b = new CommandRunner(device, testNexus('b'))
  await a.clearUnitAttentions(0)
  await b.clearUnitAttentions(0)
  return { store, device, a, b }
}

/** Start a command and record when it completes. */
function track(order: string[], name: string, promise: Promise<{ status: number }>) {
  return promise.then((result) => {
    order.push(name)
    return result
  })
}

describe('task attributes (SAM-5 8.6)', () => {
  it('SIMPLE tasks run concurrently', async () => {
    const { store, a } = await setup()
    const order: string[] = []
    const open = store.gate(1)
    const slow = track(order, 'slow', a.run(0, buildRead10({ lba: 1, blocks: 1 })))
    const fast = track(order, 'fast', a.run(0, buildRead10({ lba: 2, blocks: 1 })))
    await fast
    expect(order).toEqual(['fast'])
    open()
    await slow
    expect(order).toEqual(['fast', 'slow'])
  })

  it('an ORDERED task waits for every older task, and newer SIMPLE tasks wait for it', async () => {
    const { store, a } = await setup()
    const order: string[] = []
    const open = store.gate(1)
    const first = track(order, 'simple-older', a.run(0, buildRead10({ lba: 1, blocks: 1 })))
    const ordered = track(order, 'ordered', a.run(0, buildRead10({ lba: 2, blocks: 1 }), { attribute: 'ordered' }))
    const newer = track(order, 'simple-newer', a.run(0, buildRead10({ lba: 3, blocks: 1 })))
    await tick()
    expect(order).toEqual([])
    open()
    await Promise.all([first, ordered, newer])
    expect(order).toEqual(['simple-older', 'ordered', 'simple-newer'])
  })

  it('a HEAD OF QUEUE task runs at once, past an ORDERED task that waits', async () => {
    const { store, a } = await setup()
    const order: string[] = []
    const open = store.gate(1)
    const first = track(order, 'simple', a.run(0, buildRead10({ lba: 1, blocks: 1 })))
    const ordered = track(order, 'ordered', a.run(0, buildTestUnitReady(), { attribute: 'ordered' }))
    const head = track(order, 'head', a.run(0, buildRead10({ lba: 2, blocks: 1 }), { attribute: 'head-of-queue' }))
    await head
    expect(order).toEqual(['head'])
    open()
    await Promise.all([first, ordered])
    expect(order).toEqual(['head', 'simple', 'ordered'])
  })

  it('refuses ACA tasks and NACA=1 (ACA is not supported)', async () => {
    const { a } = await setup()
    expect((await a.run(0, buildTestUnitReady(), { attribute: 'aca' })).senseData).toMatchObject({ keyName: 'ILLEGAL_REQUEST', asc: 0x24 })
    expect((await a.run(0, buildRead10({ lba: 0, blocks: 1, control: 0x04 }))).senseData).toMatchObject({ asc: 0x24, fieldPointer: { inCdb: true, byte: 9, bit: 2 } })
  })
})

describe('task set limits', () => {
  it('answers TASK SET FULL past the queue depth', async () => {
    const { store, a } = await setup(2)
    const open = store.gate(1)
    const held = [a.run(0, buildRead10({ lba: 1, blocks: 1 })), a.run(0, buildRead10({ lba: 1, blocks: 1 }))]
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.TASK_SET_FULL)
    open()
    await Promise.all(held)
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
  })

  it('answers OVERLAPPED COMMANDS ATTEMPTED for a tag already in use on the nexus', async () => {
    const { store, a, b } = await setup()
    const open = store.gate(1)
    const held = a.run(0, buildRead10({ lba: 1, blocks: 1 }), { tag: 77 })
    expect((await a.run(0, buildTestUnitReady(), { tag: 77 })).senseData).toMatchObject({ keyName: 'ABORTED_COMMAND', asc: 0x4e, ascq: 0 })
    expect((await b.run(0, buildTestUnitReady(), { tag: 77 })).status).toBe(ScsiStatus.GOOD)
    open()
    expect((await held).status).toBe(ScsiStatus.GOOD)
  })
})

describe('task management (SAM-5 7)', () => {
  it('ABORT TASK: a running task finishes its backstore work, then reports TASK ABORTED', async () => {
    const { store, a, device } = await setup()
    const open = store.gate(4)
    const write = a.run(0, buildWrite10({ lba: 4, blocks: 1 }), { dataOut: Buffer.alloc(512, 1), tag: 9 })
    await tick()
    expect(device.abortTask(a.nexus, 0, 9)).toBe('aborted')
    expect(device.abortTask(a.nexus, 0, 10)).toBe('not-found')
    open()
    expect((await write).status).toBe(ScsiStatus.TASK_ABORTED)
    // The write that had been issued is whole on the medium, not half done.
    expect(store.writes).toEqual([4])
  })

  it('an aborted task that has not started yet never touches the medium', async () => {
    const { store, a, device } = await setup()
    const open = store.gate(1)
    const blocker = a.run(0, buildRead10({ lba: 1, blocks: 1 }), { attribute: 'ordered' })
    const write = a.run(0, buildWrite10({ lba: 5, blocks: 1 }), { dataOut: Buffer.alloc(512, 1), tag: 50 })
    await tick()
    device.abortTask(a.nexus, 0, 50)
    expect((await write).status).toBe(ScsiStatus.TASK_ABORTED)
    open()
    await blocker
    expect(store.writes).toEqual([])
  })

  it("the command's own signal aborts it", async () => {
    const { store, a } = await setup()
    const open = store.gate(1)
    const controller = new AbortController()
    const blocker = a.run(0, buildRead10({ lba: 1, blocks: 1 }), { attribute: 'ordered' })
    const read = a.run(0, buildRead10({ lba: 2, blocks: 1 }), { signal: controller.signal })
    controller.abort()
    expect((await read).status).toBe(ScsiStatus.TASK_ABORTED)
    open()
    await blocker
  })

  it('ABORT TASK SET aborts the tasks of one nexus only', async () => {
    const { store, a, b, device } = await setup()
    const open = store.gate(1)
    const mine = a.run(0, buildRead10({ lba: 1, blocks: 1 }))
    const theirs = b.run(0, buildRead10({ lba: 1, blocks: 1 }))
    await tick()
    device.abortTaskSet(a.nexus, 0)
    open()
    expect((await mine).status).toBe(ScsiStatus.TASK_ABORTED)
    expect((await theirs).status).toBe(ScsiStatus.GOOD)
  })

  it('CLEAR TASK SET aborts every task; the other nexus learns COMMANDS CLEARED BY ANOTHER INITIATOR', async () => {
    const { store, a, b, device } = await setup()
    const open = store.gate(1)
    const mine = a.run(0, buildRead10({ lba: 1, blocks: 1 }))
    const theirs = b.run(0, buildRead10({ lba: 1, blocks: 1 }))
    await tick()
    device.clearTaskSet(a.nexus, 0)
    open()
    expect((await mine).status).toBe(ScsiStatus.TASK_ABORTED)
    expect((await theirs).status).toBe(ScsiStatus.TASK_ABORTED)
    expect((await b.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x2f, ascq: 0x00 })
    expect((await a.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
  })

  it('LOGICAL UNIT RESET aborts every task and establishes 29/03 for every nexus', async () => {
    const { store, a, b, device } = await setup()
    const open = store.gate(1)
    const running = a.run(0, buildRead10({ lba: 1, blocks: 1 }))
    await tick()
    device.lunReset(a.nexus, 0)
    open()
    expect((await running).status).toBe(ScsiStatus.TASK_ABORTED)
    for (const runner of [a, b]) expect((await runner.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x29, ascq: 0x03 })
  })

  it('I_T nexus loss aborts its tasks and establishes 29/07 for it', async () => {
    const { store, a, b, device } = await setup()
    const open = store.gate(1)
    const running = a.run(0, buildRead10({ lba: 1, blocks: 1 }))
    await tick()
    device.nexusLoss(a.nexus)
    open()
    expect((await running).status).toBe(ScsiStatus.TASK_ABORTED)
    expect((await a.run(0, buildTestUnitReady())).senseData).toMatchObject({ keyName: 'UNIT_ATTENTION', asc: 0x29, ascq: 0x07 })
    expect((await b.run(0, buildTestUnitReady())).status).toBe(ScsiStatus.GOOD)
  })

  it('target warm (29/03) and cold reset (29/01) reach every LU and every nexus; a nexus formed later gets 29/00', async () => {
    const device = testDevice(2)
    const a = new CommandRunner(device, testNexus('a'))
    const b = new CommandRunner(device, testNexus('b'))
    for (const lun of [0, 1]) for (const runner of [a, b]) await runner.clearUnitAttentions(lun)
    device.targetReset(a.nexus, 'warm')
    for (const lun of [0, 1]) for (const runner of [a, b]) expect((await runner.run(lun, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x29, ascq: 0x03 })
    const late = new CommandRunner(device, testNexus('late'))
    expect((await late.run(0, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x29, ascq: 0x00 })
    device.targetReset(a.nexus, 'cold')
    for (const lun of [0, 1]) expect((await a.run(lun, buildTestUnitReady())).senseData).toMatchObject({ asc: 0x29, ascq: 0x01 })
  })
})

describe('TaskSet bookkeeping', () => {
  it('a SIMPLE task with no ORDERED or HEAD OF QUEUE task in the set is enabled at once, without a promise', () => {
    const set = new TaskSet(8)
    const first = set.admit('n', 1, 'simple')
    const second = set.admit('n', 2, 'untagged')
    if (!('task' in first) || !('task' in second)) throw new Error('refused')
    expect(set.enabled(first.task)).toBeUndefined()
    expect(set.enabled(second.task)).toBeUndefined()
    expect(set.size).toBe(2)
  })

  it('an abort before anyone asked for the signal still shows on the signal made afterwards', async () => {
    const set = new TaskSet(8)
    const admission = set.admit('n', 1, 'simple')
    if (!('task' in admission)) throw new Error('refused')
    const { task } = admission
    expect(set.abort((t) => t.tag === 1)).toEqual([task])
    expect(task.aborted).toBe(true)
    expect(task.signal.aborted).toBe(true)
    expect(task.signal.reason).toBeInstanceOf(TaskAbortedError)
    await expect(set.enabled(task)).rejects.toBeInstanceOf(TaskAbortedError)
    // Aborting again finds nothing new to abort.
    expect(set.abort(() => true)).toEqual([])
  })

  it('a signal made before the abort is aborted by it', () => {
    const set = new TaskSet(8)
    const admission = set.admit('n', 1, 'simple')
    if (!('task' in admission)) throw new Error('refused')
    const { signal } = admission.task
    expect(signal.aborted).toBe(false)
    set.abort(() => true)
    expect(signal.aborted).toBe(true)
  })

  it('removes tasks from anywhere in the set, keeps arrival order, and frees their tags', async () => {
    const set = new TaskSet(8)
    const tasks = [1, 2, 3, 4].map((tag) => {
      const admission = set.admit('n', tag, 'simple')
      if (!('task' in admission)) throw new Error('refused')
      return admission.task
    })
    expect(set.admit('n', 3, 'simple')).toEqual({ refused: 'overlapped' })
    expect('task' in set.admit('other', 3, 'simple')).toBe(true)
    const done = tasks[2]!.done
    set.complete(tasks[2]!)
    set.complete(tasks[0]!)
    await done
    expect(set.list().map((task) => `${task.nexusId}/${task.tag}`)).toEqual(['n/2', 'n/4', 'other/3'])
    expect('task' in set.admit('n', 3, 'simple')).toBe(true)
    // Completing twice changes nothing.
    set.complete(tasks[2]!)
    expect(set.size).toBe(4)
    await tasks[2]!.done
  })

  it('an ORDERED task waits for the older tasks, and a SIMPLE one for the ORDERED until it completes', async () => {
    const set = new TaskSet(8)
    const take = (tag: number, attribute: 'simple' | 'ordered' | 'head-of-queue') => {
      const admission = set.admit('n', tag, attribute)
      if (!('task' in admission)) throw new Error('refused')
      return admission.task
    }
    const older = take(1, 'simple')
    const ordered = take(2, 'ordered')
    const newer = take(3, 'simple')
    const head = take(4, 'head-of-queue')
    expect(set.enabled(head)).toBeUndefined()
    const events: string[] = []
    const orderedEnabled = set.enabled(ordered)?.then(() => events.push('ordered'))
    const newerEnabled = set.enabled(newer)?.then(() => events.push('newer'))
    expect(orderedEnabled).toBeDefined()
    expect(newerEnabled).toBeDefined()
    set.complete(head)
    set.complete(older)
    await orderedEnabled
    expect(events).toEqual(['ordered'])
    set.complete(ordered)
    await newerEnabled
    expect(events).toEqual(['ordered', 'newer'])
    set.complete(newer)
    // With the ORDERED task gone, SIMPLE tasks wait for nothing again.
    expect(set.enabled(take(5, 'simple'))).toBeUndefined()
  })
})
