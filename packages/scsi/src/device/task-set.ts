// The task set of a logical unit (SAM-5 8.6, one task set shared by every I_T nexus: TST 000b). A task enters
// enabled state by its attribute:
// - HEAD OF QUEUE: at once;
// - SIMPLE (and untagged): once every older HEAD OF QUEUE and ORDERED task has completed;
// - ORDERED: once every older task has completed; newer SIMPLE and ORDERED tasks wait for it in turn.
// Aborting a task (task management, the transport's signal, a reset) aborts its signal; the device server checks it
// before it modifies the medium and resolves the command with TASK ABORTED.
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
  /** Aborted by task management or by the command's own signal. */
  readonly signal: AbortSignal
  /** Resolves once the task has completed (whatever its status). */
  readonly done: Promise<void>
}

interface TaskEntry extends Task {
  readonly controller: AbortController
  readonly blockers: ReadonlyArray<Promise<void>>
  finish(): void
  detach(): void
}

export type Admission = { readonly task: Task } | { readonly refused: 'task-set-full' | 'overlapped' }

export class TaskSet {
  private readonly tasks: TaskEntry[] = []
  /** Most tasks the set holds (queue depth); past it new tasks get TASK SET FULL. */
  readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  get size(): number {
    return this.tasks.length
  }

  /** Admit a task; refused when the set is full or the nexus already has a live task with this tag (SAM-5 5.10.2). */
  admit(nexusId: string, tag: number, attribute: TaskAttribute, signal?: AbortSignal): Admission {
    if (this.tasks.length >= this.limit) return { refused: 'task-set-full' }
    if (attribute !== 'untagged' && this.tasks.some((task) => task.nexusId === nexusId && task.tag === tag && task.attribute !== 'untagged')) {
      return { refused: 'overlapped' }
    }
    const blockers =
      attribute === 'head-of-queue'
        ? []
        : this.tasks.filter((older) => attribute === 'ordered' || older.attribute === 'ordered' || older.attribute === 'head-of-queue').map((older) => older.done)
    const controller = new AbortController()
    let finish!: () => void
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    const onAbort = () => controller.abort(new TaskAbortedError())
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const entry: TaskEntry = {
      nexusId,
      tag,
      attribute,
      signal: controller.signal,
      done,
      controller,
      blockers,
      finish,
      detach: () => signal?.removeEventListener('abort', onAbort),
    }
    this.tasks.push(entry)
    return { task: entry }
  }

  /** Wait until the task may run; rejects with TaskAbortedError when it is aborted first. */
  async enabled(task: Task): Promise<void> {
    const entry = task as TaskEntry
    if (entry.blockers.length > 0) await abortable(Promise.all(entry.blockers), entry.signal)
    if (entry.signal.aborted) throw new TaskAbortedError()
  }

  /** The task has completed: remove it and release the tasks waiting for it. */
  complete(task: Task): void {
    const entry = task as TaskEntry
    const index = this.tasks.indexOf(entry)
    if (index >= 0) this.tasks.splice(index, 1)
    entry.detach()
    entry.finish()
  }

  /** Abort the tasks that match; returns them. */
  abort(match: (task: Task) => boolean): Task[] {
    const aborted = this.tasks.filter((task) => !task.signal.aborted && match(task))
    for (const task of aborted) task.controller.abort(new TaskAbortedError())
    return aborted
  }

  /** Live tasks, oldest first. */
  list(): readonly Task[] {
    return [...this.tasks]
  }

  /** Resolves when every task now in the set has completed. */
  async drain(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task.done))
  }
}
