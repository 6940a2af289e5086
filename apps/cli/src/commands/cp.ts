// `iscsi cp SRC DST`: image upload, download and LUN-to-LUN copy, pipelined (`--qd` chunks in flight) and
// sparse-aware: deallocated source ranges are not read, zero runs become WRITE SAME with UNMAP on a thin LUN or
// holes in a file. `--verify` reads both sides back and compares SHA-256; `--resume` keeps a state file so an
// interrupted copy continues where it stopped.
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { type Register, examples } from '../action.js'
import { DEFAULT_CHUNK, isZero } from '../block-io.js'
import { type Context, isUrl } from '../context.js'
import { type CopyDestination, type CopySource, FileDestination, FileSource, LunDestination, LunSource } from '../copy-endpoints.js'
import { type CopyIdentity, Watermark, loadState, removeState, saveState } from '../copy-state.js'
import { CliError, ExitCode, UsageError, step } from '../errors.js'
import { ordered, workers } from '../pipeline.js'
import { createProgress } from '../progress.js'
import type { CliSession, TargetUrl } from '../session.js'
import { formatBytes, formatRate, parseCount, parseSize } from '../sizes.js'

interface CpOptions {
  bs?: string
  qd?: string
  verify?: boolean
  resume?: boolean
  state?: string
  sparse?: boolean
}

/** Granularity of zero detection inside a chunk. */
const ZERO_GRANULARITY = 64 * 1024

export interface CopyResult {
  readonly source: string
  readonly destination: string
  readonly bytes: number
  readonly seconds: number
  readonly bytesPerSecond: number
  /** Bytes sent as data. */
  readonly dataBytes: number
  /** Bytes that were zero and went out as holes, WRITE SAME or UNMAP. */
  readonly zeroBytes: number
  /** Of the zero bytes, those the source reported deallocated and were never read. */
  readonly deallocatedBytes: number
  readonly resumedFrom: number
  readonly verified?: { readonly sha256: string }
}

/** A URL as it may be written to a state file or printed: no secrets. */
export function redactUrl(text: string): string {
  return text.replace(/^(iscsi:\/\/[^@/]*?)%[^@/]*@/i, '$1@').replace(/([?&](?:target_)?password=)[^&]*/gi, '$1***')
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

export function formatCopy(result: CopyResult): string {
  const lines = [
    `copied ${formatBytes(result.bytes)} (${result.bytes} bytes) in ${result.seconds.toFixed(2)} s, ${formatRate(result.bytesPerSecond)}`,
    `  data ${formatBytes(result.dataBytes)}, zeros ${formatBytes(result.zeroBytes)}${result.deallocatedBytes > 0 ? ` (${formatBytes(result.deallocatedBytes)} deallocated on the source, not read)` : ''}`,
  ]
  if (result.resumedFrom > 0) lines.push(`  resumed at ${formatBytes(result.resumedFrom)} (${result.resumedFrom} bytes)`)
  if (result.verified) lines.push(`  verified: sha256 ${result.verified.sha256}`)
  return lines.join('\n')
}

interface Side {
  readonly text: string
  readonly url?: TargetUrl
}

function sameTarget(a: TargetUrl, b: TargetUrl): boolean {
  return a.host === b.host && a.port === b.port && a.targetName === b.targetName
}

async function hashRange(
  read: (offset: number, length: number) => Promise<Buffer>,
  size: number,
  chunkBytes: number,
  depth: number,
  onData: (bytes: number) => void,
): Promise<string> {
  const hash = createHash('sha256')
  const chunks = Math.ceil(size / chunkBytes)
  for await (const data of ordered(chunks, depth, (i) => read(i * chunkBytes, Math.min(chunkBytes, size - i * chunkBytes)))) {
    hash.update(data)
    onData(data.length)
  }
  return hash.digest('hex')
}

async function copy(context: Context, src: Side, dst: Side, options: CpOptions, sessions: Map<TargetUrl, CliSession>): Promise<CopyResult> {
  const sparse = options.sparse !== false
  const requestedChunk = parseSize(options.bs ?? String(DEFAULT_CHUNK), '--bs')
  const depth = parseCount(options.qd ?? '8', '--qd', { max: 1024 })
  const signal = context.signal
  let source: CopySource | undefined
  let destination: CopyDestination | undefined
  try {
    if (src.url) {
      const session = sessions.get(src.url)!
      const lun = src.url.lun ?? 0
      source = new LunSource(session, lun, await step('read capacity', () => session.readCapacity(lun)), { sparse })
    } else {
      source = await FileSource.open(src.text)
    }
    const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b
    let dstBlock = 1
    let dstCapacity: number | undefined
    let lunDestination: (() => LunDestination) | undefined
    if (dst.url) {
      const session = sessions.get(dst.url)!
      const lun = dst.url.lun ?? 0
      const capacity = await step('read capacity', () => session.readCapacity(lun))
      dstBlock = capacity.blockSize
      lunDestination = () => new LunDestination(session, lun, capacity)
      dstCapacity = Number(capacity.blockCount * BigInt(capacity.blockSize))
    }
    const alignment = lcm(source.blockSize, dstBlock)
    if (requestedChunk === 0 || requestedChunk % alignment !== 0) throw new UsageError(`--bs must be a multiple of the block size (${alignment} bytes)`)
    const chunkBytes = requestedChunk
    const size = source.size
    if (dstCapacity !== undefined && size > dstCapacity) {
      throw new CliError('ISCSI_CLI_NO_SPACE', `source (${size} bytes) is larger than the destination LUN (${dstCapacity} bytes)`, ExitCode.FAILURE)
    }

    const identity: CopyIdentity = {
      source: src.url ? redactUrl(src.text) : resolve(src.text),
      destination: dst.url ? redactUrl(dst.text) : resolve(dst.text),
      size,
      chunkBytes,
    }
    const statePath =
      options.state ??
      (dst.url ? resolve(`.iscsi-cp-${createHash('sha256').update(`${identity.source}\n${identity.destination}`).digest('hex').slice(0, 16)}.state`) : `${resolve(dst.text)}.iscsi-cp-state`)
    const resume = options.resume === true
    const state = resume ? await loadState(statePath, identity) : undefined
    const startChunk = state ? Math.floor(state.done / chunkBytes) : 0
    const resumedFrom = startChunk * chunkBytes
    if (state && resumedFrom > 0) context.note(`resuming at ${formatBytes(resumedFrom)} of ${formatBytes(size)} (state ${statePath})`)
    destination = lunDestination ? lunDestination() : await FileDestination.open(dst.text, { resume: state !== undefined })
    const target = destination

    const chunks = Math.ceil(size / chunkBytes)
    const watermark = new Watermark(chunkBytes, size, startChunk)
    let nextChunk = startChunk
    let dataBytes = 0
    let zeroBytes = 0
    let copied = 0
    const progress = createProgress(context, { label: 'cp', total: size, unit: 'bytes' })
    const started = process.hrtime.bigint()
    let saving: Promise<void> = Promise.resolve()
    const persist = (): Promise<void> => {
      if (!resume) return Promise.resolve()
      const done = watermark.done
      saving = saving.then(() => saveState(statePath, identity, done)).catch((error: unknown) => context.warn(`cannot save ${statePath}: ${(error as Error).message}`))
      return saving
    }
    const saver = resume ? setInterval(() => void persist(), 1000) : undefined
    if (resume) await persist()
    const interrupted = (): CliError =>
      new CliError('ISCSI_CLI_INTERRUPTED', resume ? `interrupted at ${formatBytes(watermark.done)}: run the same command with --resume to continue` : 'interrupted', ExitCode.FAILURE)
    const granularity = Math.max(alignment, Math.floor(ZERO_GRANULARITY / alignment) * alignment)

    const copyChunk = async (index: number): Promise<void> => {
      const offset = index * chunkBytes
      const length = Math.min(chunkBytes, size - offset)
      if (sparse && (await source!.isHole(offset, length))) {
        await target.writeZeros(offset, length, signal)
        zeroBytes += length
        return
      }
      const data = await source!.read(offset, length, signal)
      if (!sparse) {
        await target.write(offset, data, signal)
        dataBytes += length
        return
      }
      // Split the chunk into runs of zero and non-zero segments and send each run the cheap way.
      const segments = Math.ceil(length / granularity)
      const segmentIsZero = (i: number): boolean => isZero(data.subarray(i * granularity, Math.min((i + 1) * granularity, length)))
      let runStart = 0
      let runZero = segmentIsZero(0)
      for (let i = 1; i <= segments; i++) {
        const zero = i < segments ? segmentIsZero(i) : !runZero
        if (zero === runZero) continue
        const end = Math.min(i * granularity, length)
        if (runZero) {
          await target.writeZeros(offset + runStart, end - runStart, signal)
          zeroBytes += end - runStart
        } else {
          await target.write(offset + runStart, data.subarray(runStart, end), signal)
          dataBytes += end - runStart
        }
        runStart = end
        runZero = zero
      }
    }

    try {
      await workers(depth, async () => {
        if (signal?.aborted === true || nextChunk >= chunks) return false
        const index = nextChunk++
        await copyChunk(index)
        copied += Math.min(chunkBytes, size - index * chunkBytes)
        watermark.complete(index)
        progress.update(resumedFrom + copied)
        return true
      })
    } catch (error) {
      if (saver) clearInterval(saver)
      progress.stop()
      await persist()
      // Ctrl-C aborts the commands in flight: report the interruption, not the aborted command.
      if (signal?.aborted === true) throw interrupted()
      if (resume) context.note(`state saved in ${statePath}: run the same command with --resume to continue`)
      throw error
    }
    if (saver) clearInterval(saver)
    progress.stop()
    if (signal?.aborted === true) {
      await persist()
      throw interrupted()
    }
    await target.finish(size)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    await saving
    await removeState(statePath)

    let verified: { sha256: string } | undefined
    if (options.verify === true) {
      // Both sides are read at once; the bar counts the bytes of both.
      const verifyProgress = createProgress(context, { label: 'verify', total: 2 * size, unit: 'bytes' })
      let hashed = 0
      const onData = (bytes: number): void => {
        hashed += bytes
        verifyProgress.update(hashed)
      }
      try {
        const [sourceHash, destinationHash] = await Promise.all([
          hashRange((o, l) => source!.read(o, l, signal), size, chunkBytes, depth, onData),
          hashRange((o, l) => target.read(o, l, signal), size, chunkBytes, depth, onData),
        ])
        if (sourceHash !== destinationHash) {
          throw new CliError('ISCSI_CLI_VERIFY', `verification failed: source sha256 ${sourceHash}, destination sha256 ${destinationHash}`, ExitCode.FAILURE)
        }
        verified = { sha256: sourceHash }
      } finally {
        verifyProgress.stop()
      }
    }
    const deallocatedBytes = source instanceof LunSource ? source.deallocatedBytes : 0
    return {
      source: identity.source,
      destination: identity.destination,
      bytes: size,
      seconds,
      bytesPerSecond: (size - resumedFrom) / Math.max(seconds, 1e-6),
      dataBytes,
      zeroBytes,
      deallocatedBytes,
      resumedFrom,
      ...(verified ? { verified } : {}),
    }
  } finally {
    await source?.close()
    await destination?.close()
  }
}

export const registerCp: Register = (program, run) => {
  program
    .command('cp')
    .summary('copy images between files and LUNs, sparse-aware')
    .description(
      'Copy a file to a LUN, a LUN to a file, or a LUN to a LUN. Zero ranges are not sent: deallocated source ranges are skipped, zeros become WRITE SAME with UNMAP on a thin LUN and holes in a file.',
    )
    .argument('<src>', 'file or iscsi://host[:port]/target-iqn/lun')
    .argument('<dst>', 'file or iscsi://host[:port]/target-iqn/lun')
    .option('--bs <bytes>', 'bytes per chunk (a multiple of the block size)', '1MiB')
    .option('--qd <n>', 'chunks in flight', '8')
    .option('--verify', 'read both sides back afterwards and compare SHA-256')
    .option('--resume', 'keep a state file; continue from it if an earlier run was interrupted')
    .option('--state <file>', 'state file for --resume (default: DST.iscsi-cp-state, or .iscsi-cp-HASH.state for a LUN)')
    .option('--no-sparse', 'send every byte (no GET LBA STATUS, no zero detection)')
    .addHelpText(
      'after',
      examples([
        ['iscsi cp disk.img iscsi://san1/iqn.2004-04.com.example:disk1/1 --verify', 'upload an image'],
        ['iscsi cp iscsi://san1/iqn.2004-04.com.example:disk1/1 backup.img --resume', 'download, resumable'],
        ['iscsi cp iscsi://san1/iqn.2004-04.com.example:a/1 iscsi://san2/iqn.2004-04.com.example:b/1', 'LUN to LUN'],
      ]),
    )
    .action(
      run<CpOptions>(async (context, [srcArg = '', dstArg = ''], options) => {
        const src: Side = isUrl(srcArg) ? { text: srcArg, url: context.parseUrl(srcArg) } : { text: srcArg }
        const dst: Side = isUrl(dstArg) ? { text: dstArg, url: context.parseUrl(dstArg) } : { text: dstArg }
        if (!src.url && !dst.url) throw new UsageError('one side of cp must be an iscsi:// URL (use cp(1) for files)')
        if (src.text === '-' || dst.text === '-') throw new UsageError('cp needs seekable files, not stdin/stdout (see iscsi read / iscsi write)')
        if (src.url && dst.url && sameTarget(src.url, dst.url) && src.url.lun === dst.url.lun) throw new UsageError('source and destination are the same LUN')
        // One session per target: two logins with one ISID to the same target would reinstate each other.
        const sessions = new Map<TargetUrl, CliSession>()
        try {
          for (const url of [src.url, dst.url]) {
            if (!url) continue
            const shared = [...sessions.entries()].find(([other]) => sameTarget(other, url))
            sessions.set(url, shared ? shared[1] : await context.connect(url))
          }
          const result = await copy(context, src, dst, options, sessions)
          for (const session of new Set(sessions.values())) await step('logout', () => session.logout())
          sessions.clear()
          context.result(result, () => formatCopy(result))
        } finally {
          for (const session of new Set(sessions.values())) await session.logout().catch(() => undefined)
        }
      }),
    )
}
