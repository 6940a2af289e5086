// SANITIZE (SBC-3 5.30, 4.11): OVERWRITE writes the initialization pattern over every block (OVERWRITE COUNT
// passes, inverted between passes when INVERT); BLOCK ERASE and CRYPTOGRAPHIC ERASE deallocate every block (a
// backstore without unmap gets zeros written); EXIT FAILURE MODE leaves the failure state of a failed sanitize.
// While a sanitize runs, every command but INQUIRY, REPORT LUNS and REQUEST SENSE gets NOT READY, SANITIZE IN
// PROGRESS with its progress (execute.ts); with IMMED it runs after GOOD is returned. Once started it runs to the end:
// ABORT TASK, the resets and I_T nexus loss do not stop it (SBC-3 4.11.2), and it may be paced (sanitizeThroughput).
import { invalidField } from '../cdb/cdb.js'
import { CheckCondition } from '../errors.js'
import { type CommandContext, GOOD, type Outcome, untilAborted } from './context.js'
import type { UnitState } from './unit-state.js'

/** SANITIZE service actions (SBC-3 5.30.1 table 89). */
export const SanitizeAction = { OVERWRITE: 0x01, BLOCK_ERASE: 0x02, CRYPTOGRAPHIC_ERASE: 0x03, EXIT_FAILURE_MODE: 0x1f } as const

/** Bytes written per backstore call while sanitizing. */
const CHUNK_BYTES = 1024 * 1024

interface OverwriteParameters {
  readonly invert: boolean
  readonly passes: number
  readonly pattern: Buffer
}

const invalidParameter = (byte: number, bit: number | undefined, message: string) =>
  new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: bit === undefined ? { inCdb: false, byte } : { inCdb: false, byte, bit }, message })

/** The OVERWRITE parameter list (SBC-3 5.30.2.2 table 90). */
function overwriteParameters(context: CommandContext<'SANITIZE'>): OverwriteParameters {
  const { cdb, unit } = context
  const length = cdb.parameterListLength
  if (length < 5 || length > unit.blockSize + 4) throw invalidField('SANITIZE', 'parameterListLength', `PARAMETER LIST LENGTH ${length} does not fit an initialization pattern`)
  if (context.dataOut.length < length) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: `${context.dataOut.length} bytes of data-out for a ${length}-byte parameter list` })
  }
  const list = context.dataOut.subarray(0, length)
  const first = list[0]!
  if ((first & 0x60) !== 0) throw invalidParameter(0, 6, 'TEST is vendor specific and not supported')
  const passes = first & 0x1f
  if (passes === 0) throw invalidParameter(0, 4, 'OVERWRITE COUNT 0')
  const patternLength = list.readUInt16BE(2)
  if (patternLength === 0 || patternLength > unit.blockSize || patternLength + 4 !== length) {
    throw invalidParameter(2, undefined, `INITIALIZATION PATTERN LENGTH ${patternLength} does not match the parameter list`)
  }
  return { invert: (first & 0x80) !== 0, passes, pattern: Buffer.from(list.subarray(4, 4 + patternLength)) }
}

/** Resolve after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Holds sanitize writes to the LU's sanitizeThroughput: waits until `bytes` written since `started` are within it. */
class Pacer {
  readonly #unit: UnitState
  readonly #started = performance.now()
  #bytes = 0

  constructor(unit: UnitState) {
    this.#unit = unit
  }

  async wrote(bytes: number): Promise<void> {
    this.#bytes += bytes
    const throughput = this.#unit.sanitizeThroughput
    if (throughput === undefined) return
    const due = (this.#bytes / throughput) * 1000
    await pause(due - (performance.now() - this.#started), this.#unit.closing.signal)
  }
}

/** Write `block` over every block of the LU, reporting progress (done/total of the whole sanitize). */
async function fill(unit: UnitState, block: Buffer, pacer: Pacer, onProgress: (blocks: number) => void): Promise<void> {
  const chunkBlocks = Math.max(1, Math.floor(CHUNK_BYTES / unit.blockSize))
  const chunk = Buffer.allocUnsafe(Math.min(chunkBlocks, Math.max(unit.blockCount, 1)) * unit.blockSize)
  for (let offset = 0; offset < chunk.length; offset += block.length) block.copy(chunk, offset)
  for (let done = 0; done < unit.blockCount; ) {
    const take = Math.min(chunkBlocks, unit.blockCount - done)
    await unit.io('write', () => unit.backstore.write(done, chunk.subarray(0, take * unit.blockSize), { fua: false }))
    done += take
    onProgress(take)
    await pacer.wrote(take * unit.blockSize)
  }
  await unit.io('flush', () => unit.backstore.flush())
}

/** Run the sanitize itself, holding the whole LU, tracking progress; a failure leaves the LU in failure mode. */
async function run(unit: UnitState, overwrite: OverwriteParameters | undefined, ause: boolean): Promise<void> {
  // In progress from now on (before waiting for the writers ahead of it), so later commands see NOT READY.
  const state = { progress: 0 }
  unit.sanitize = state
  let release: (() => void) | undefined
  try {
    release = await unit.lock.acquire(0, Infinity)
    const total = Math.max(unit.blockCount, 1) * (overwrite?.passes ?? 1)
    let done = 0
    const advance = (blocks: number) => {
      done += blocks
      state.progress = Math.min(0xffff, Math.floor((done / total) * 0x10000))
    }
    const pacer = new Pacer(unit)
    if (overwrite !== undefined) {
      const block = Buffer.allocUnsafe(unit.blockSize)
      for (let offset = 0; offset < block.length; offset += overwrite.pattern.length) overwrite.pattern.copy(block, offset)
      const inverted = Buffer.from(block.map((byte) => ~byte & 0xff))
      for (let pass = 0; pass < overwrite.passes; pass++) {
        // SBC-3 5.30.2.2: with INVERT the pattern is inverted between consecutive passes.
        await fill(unit, overwrite.invert && pass % 2 === 1 ? inverted : block, pacer, advance)
      }
    } else if (unit.backstore.unmap !== undefined && unit.blockCount > 0) {
      await unit.io('unmap', () => unit.backstore.unmap!(0, unit.blockCount))
      await unit.io('flush', () => unit.backstore.flush())
    } else {
      await fill(unit, Buffer.alloc(unit.blockSize), pacer, advance)
    }
    unit.sanitizeFailed = undefined
  } catch (error) {
    unit.sanitizeFailed = { ause }
    throw error
  } finally {
    unit.sanitize = undefined
    release?.()
  }
}

export async function sanitize(context: CommandContext<'SANITIZE'>): Promise<Outcome> {
  const { unit, cdb } = context
  unit.checkReady('present')
  unit.checkWritable()
  const action = cdb.serviceAction
  if (action === SanitizeAction.EXIT_FAILURE_MODE) {
    if (cdb.parameterListLength !== 0) throw invalidField('SANITIZE', 'parameterListLength', 'EXIT FAILURE MODE takes no parameter list')
    // SBC-3 4.11.4: leaving failure mode needs the failed sanitize to have allowed it (AUSE=1).
    if (unit.sanitizeFailed !== undefined && !unit.sanitizeFailed.ause) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'COMMAND_SEQUENCE_ERROR', { message: 'the failed sanitize did not allow EXIT FAILURE MODE (AUSE=0)' })
    }
    unit.sanitizeFailed = undefined
    return GOOD
  }
  let overwrite: OverwriteParameters | undefined
  if (action === SanitizeAction.OVERWRITE) overwrite = overwriteParameters(context)
  else if (cdb.parameterListLength !== 0) throw invalidField('SANITIZE', 'parameterListLength', 'BLOCK ERASE and CRYPTOGRAPHIC ERASE take no parameter list')
  const running = run(unit, overwrite, cdb.ause)
  // The LU tracks the sanitize as background work either way: with IMMED the outcome is reported by REQUEST SENSE
  // and the failure state, not by this command; without it the command waits for the sanitize, but ABORT TASK, a
  // reset or the loss of the I_T nexus only end the command (TASK ABORTED at once, so the task management function
  // completes): the sanitize operation itself goes on to the end (SBC-3 4.11.2).
  unit.background(running)
  if (cdb.immed) return GOOD
  await untilAborted(running, context.signal)
  return GOOD
}
