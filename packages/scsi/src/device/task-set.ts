// The task set of a logical unit (SAM-5 8.6, one task set shared by every I_T nexus: TST 000b). A task enters
// enabled state by its attribute:
// - HEAD OF QUEUE: at once;
// - SIMPLE (and untagged): once every older HEAD OF QUEUE and ORDERED task has completed;
// - ORDERED: once every older task has completed; newer SIMPLE and ORDERED tasks wait for it in turn.
// Aborting a task (task management, the transport's signal, a reset) marks it aborted and aborts its signal; the
// device server checks it before it modifies the medium and resolves the command with TASK ABORTED.
//
// Every command passes through here, so the common case costs little: a SIMPLE task with no ORDERED or HEAD OF
// QUEUE task in the set waits for nothing, and its AbortSignal and `done` promise are made only when something asks
// for them (a handler that waits on the signal, a newer task that waits for it, a drain). Tasks are a doubly linked
// list in arrival order: O(1) removal, and the overlapped-tag check walks at most the queue depth without allocating
// (cheaper than keeping a map by tag up to date for every command).
import { abortable } from './range-lock.js'
import type { TaskAttribute } from './nexus.js'

export class TaskAbortedError extends Error {
  override readonly name = 'TaskAbortedError'
  constructor(message = 'task aborted') {
    super(message)
  }
}

export interface Task {
  readonly nexusId: string
  readonly tag: number
  readonly attribute: TaskAttribute
  /** True once aborted by task management or by the command's own signal. */
  readonly aborted: boolean
  /** Aborted by task management or by the command's own signal. */
  readonly signal: AbortSignal
  /** Resolves once the task has completed (whatever its status). */
  readonly done: Promise<void>
}

class TaskEntry implements Task {
  readonly nexusId: string
  readonly tag: number
  readonly attribute: TaskAttribute
  aborted = false
  completed = false
  /** What the task waits for before it is enabled; undefined when it may run at once. */
  blockers: Array<Promise<void>> | undefined
  /** Neighbours in arrival order. */
  older: TaskEntry | undefined
  newer: TaskEntry | undefined
  /** Removes the listener on the transport's signal. */
  detach: (() => void) | undefined
  #controller: AbortController | undefined
  #done: Promise<void> | undefined
  #resolve: (() => void) | undefined

  constructor(nexusId: string, tag: number, attribute: TaskAttribute) {
    this.nexusId = nexusId
    this.tag = tag
    this.attribute = attribute
  }

  get signal(): AbortSignal {
    let controller = this.#controller
    if (controller === undefined) {
      controller = new AbortController()
      this.#controller = controller
      if (this.aborted) controller.abort(new TaskAbortedError())
    }
    return controller.signal
  }

  get done(): Promise<void> {
    if (this.#done === undefined) {
      this.#done = this.completed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#resolve = resolve
          })
    }
    return this.#done
  }

  /** Abort the task; false when it already was. */
  abort(): boolean {
    if (this.aborted) return false
    this.aborted = true
    this.#controller?.abort(new TaskAbortedError())
    return true
  }

  finish(): void {
    this.completed = true
    this.detach?.()
    this.detach = undefined
    this.#resolve?.()
  }
}

export type Admission = { readonly task: Task } | { readonly refused: 'task-set-full' | 'overlapped' }

const FULL: Admission = { refused: 'task-set-full' }
const OVERLAPPED: Admission = { refused: 'overlapped' }

export class TaskSet {
  #oldest: TaskEntry | undefined
  #newest: TaskEntry | undefined
  #size = 0
  /** Live ORDERED and HEAD OF QUEUE tasks: while there are none, a SIMPLE task waits for nothing. */
  #barriers = 0
  /** Most tasks the set holds (queue depth); past it new tasks get TASK SET FULL. */
  readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  get size(): number {
    return this.#size
  }

  /** Admit a task; refused when the set is full or the nexus already has a live task with this tag (SAM-5 5.10.2). */
  admit(nexusId: string, tag: number, attribute: TaskAttribute, signal?: AbortSignal): Admission {
    if (this.#size >= this.limit) return FULL
    if (attribute !== 'untagged') {
      for (let other = this.#oldest; other !== undefined; other = other.newer) {
        if (other.tag === tag && other.nexusId === nexusId && other.attribute !== 'untagged') return OVERLAPPED
      }
    }
    const entry = new TaskEntry(nexusId, tag, attribute)
    if (attribute === 'ordered') {
      if (this.#size > 0) entry.blockers = this.#doneOf(() => true)
    } else if (attribute !== 'head-of-queue' && this.#barriers > 0) {
      entry.blockers = this.#doneOf((older) => older.attribute === 'ordered' || older.attribute === 'head-of-queue')
    }
    if (attribute === 'ordered' || attribute === 'head-of-queue') this.#barriers++
    if (signal !== undefined) {
      if (signal.aborted) {
        entry.abort()
      } else {
        const onAbort = (): void => void entry.abort()
        signal.addEventListener('abort', onAbort, { once: true })
        entry.detach = () => signal.removeEventListener('abort', onAbort)
      }
    }
    entry.older = this.#newest
    if (this.#newest === undefined) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
    this.#size++
    return { task: entry }
  }

  #doneOf(match: (older: TaskEntry) => boolean): Array<Promise<void>> | undefined {
    const done: Array<Promise<void>> = []
    for (let older = this.#oldest; older !== undefined; older = older.newer) if (match(older)) done.push(older.done)
    return done.length > 0 ? done : undefined
  }

  /**
   * Wait until the task may run; rejects with TaskAbortedError when it is aborted first. Undefined (nothing to wait
   * for) when the task is enabled already: the common case, which costs no promise.
   */
  enabled(task: Task): Promise<void> | undefined {
    const entry = task as TaskEntry
    if (entry.blockers === undefined) {
      if (entry.aborted) return Promise.reject(new TaskAbortedError())
      return undefined
    }
    return this.#waitEnabled(entry)
  }

  async #waitEnabled(entry: TaskEntry): Promise<void> {
    if (entry.blockers !== undefined) await abortable(Promise.all(entry.blockers), entry.signal)
    if (entry.aborted) throw new TaskAbortedError()
  }

  /** The task has completed: remove it and release the tasks waiting for it. */
  complete(task: Task): void {
    const entry = task as TaskEntry
    if (entry.completed) return
    const { older, newer } = entry
    if (older === undefined) this.#oldest = newer
    else older.newer = newer
    if (newer === undefined) this.#newest = older
    else newer.older = older
    entry.older = undefined
    entry.newer = undefined
    this.#size--
    if (entry.attribute === 'ordered' || entry.attribute === 'head-of-queue') this.#barriers--
    entry.finish()
  }

  /** Abort the tasks that match; returns them. */
  abort(match: (task: Task) => boolean): Task[] {
    const aborted: TaskEntry[] = []
    for (let task = this.#oldest; task !== undefined; task = task.newer) if (!task.aborted && match(task)) aborted.push(task)
    for (const task of aborted) task.abort()
    return aborted
  }

  /** Live tasks, oldest first. */
  list(): readonly Task[] {
    const tasks: Task[] = []
    for (let task = this.#oldest; task !== undefined; task = task.newer) tasks.push(task)
    return tasks
  }

  /** Resolves when every task now in the set has completed. */
  async drain(): Promise<void> {
    await Promise.all(this.list().map((task) => task.done))
  }
}
