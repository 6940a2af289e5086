// The small state file of `iscsi cp --resume`: which copy it is, and how far every chunk is known to be done.
// Chunks finish out of order with several in flight; the state records the watermark below which all are done,
// written atomically (temp file + rename) so a crash never leaves a half-written state.
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { CliError, ExitCode } from './errors.js'

export interface CopyIdentity {
  readonly source: string
  readonly destination: string
  readonly size: number
  readonly chunkBytes: number
}

export interface CopyState extends CopyIdentity {
  readonly version: 1
  /** Every byte below this offset has been copied. */
  readonly done: number
  readonly updated: string
}

/** Load a state file; undefined when there is none. A state of another copy is a usage error. */
export async function loadState(path: string, identity: CopyIdentity): Promise<CopyState | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CliError('ISCSI_CLI_STATE', `cannot read state file ${path}: ${(error as Error).message}`, ExitCode.FAILURE)
  }
  let state: Partial<CopyState>
  try {
    state = JSON.parse(text) as Partial<CopyState>
  } catch {
    throw new CliError('ISCSI_CLI_STATE', `state file ${path} is not valid JSON: delete it to start over`, ExitCode.USAGE)
  }
  const fields: Array<keyof CopyIdentity> = ['source', 'destination', 'size', 'chunkBytes']
  const different = fields.filter((field) => state[field] !== identity[field])
  if (state.version !== 1 || different.length > 0 || typeof state.done !== 'number' || state.done < 0 || state.done > identity.size) {
    throw new CliError(
      'ISCSI_CLI_STATE',
      `state file ${path} belongs to another copy (${different.join(', ') || 'version'} differ): delete it or pass --state`,
      ExitCode.USAGE,
    )
  }
  return state as CopyState
}

export async function saveState(path: string, identity: CopyIdentity, done: number): Promise<void> {
  const state: CopyState = { version: 1, ...identity, done, updated: new Date().toISOString() }
  const temp = `${path}.tmp`
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`)
  await rename(temp, path)
}

export async function removeState(path: string): Promise<void> {
  await rm(path, { force: true })
}

/** Tracks completed chunks and the contiguous watermark below which all are done. */
export class Watermark {
  readonly #chunkBytes: number
  readonly #size: number
  readonly #finished = new Set<number>()
  #next: number

  constructor(chunkBytes: number, size: number, startChunk: number) {
    this.#chunkBytes = chunkBytes
    this.#size = size
    this.#next = startChunk
  }

  complete(chunk: number): void {
    this.#finished.add(chunk)
    while (this.#finished.delete(this.#next)) this.#next++
  }

  /** Bytes known copied from offset 0. */
  get done(): number {
    return Math.min(this.#size, this.#next * this.#chunkBytes)
  }
}
