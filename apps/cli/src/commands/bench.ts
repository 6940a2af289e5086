// `iscsi bench URL`: IOPS, bandwidth and latency percentiles at a queue depth, comparable to libiscsi's iscsi-perf
// and fio. `qd` workers each keep one command in flight for the whole run; latencies go into a log-bucket
// histogram. Writes destroy data, so they need --force. The loop itself must cost next to nothing per I/O (it is
// measured along with the initiator): buffers and options are made once per worker, and the only promise per I/O
// is the session's.
import { randomFillSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { type Register, examples } from '../action.js'
import { CliError, StepError, UsageError, step } from '../errors.js'
import { Histogram } from '../histogram.js'
import { pairs } from '../output.js'
import { createProgress } from '../progress.js'
import { formatBytes, formatMicros, formatRate, parseCount, parseDuration, parseSize } from '../sizes.js'

export const BENCH_MODES = ['read', 'write', 'randread', 'randwrite'] as const
export type BenchMode = (typeof BENCH_MODES)[number]

interface BenchOptions {
  rw?: string
  bs?: string
  qd?: string
  time?: string
  size?: string
  force?: boolean
}

export interface BenchResult {
  readonly rw: BenchMode
  readonly blockSize: number
  readonly ioSize: number
  readonly queueDepth: number
  readonly regionBytes: number
  readonly seconds: number
  readonly ios: number
  readonly bytes: number
  readonly iops: number
  readonly bytesPerSecond: number
  readonly latencyUs: {
    readonly min: number
    readonly mean: number
    readonly max: number
    readonly stddev: number
    readonly p50: number
    readonly p90: number
    readonly p99: number
    readonly 'p99.9': number
  }
}

/** xorshift32: a fast PRNG for offsets; reproducible per worker, no crypto needed. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x1_0000_0000
  }
}

interface WorkerHooks {
  /** An I/O of the worker started at `startedAt` finished at `now` (performance.now()); true: yield before the next. */
  done: (startedAt: number, now: number) => boolean
  /** An I/O failed: the error that ends the run, or undefined to just stop this worker. */
  failed: (error: unknown) => Error | undefined
}

/**
 * `depth` workers, each issuing the I/Os its `issue(now)` starts one after another until it returns undefined
 * (time is up) or one fails. Plain callbacks rather than an async loop per worker: the only promise per I/O is the
 * session's own. Rejects with the first error `failed` returns, once every worker has stopped.
 */
function runWorkers(depth: number, makeWorker: (worker: number) => (now: number) => Promise<unknown> | undefined, hooks: WorkerHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    let running = depth
    let failure: { error: Error } | undefined
    const stop = (): void => {
      if (--running > 0) return
      if (failure === undefined) resolve()
      else reject(failure.error)
    }
    for (let worker = 0; worker < depth; worker++) {
      const issue = makeWorker(worker)
      let startedAt = 0
      // `now`: when the previous I/O ended, which is when this one starts (one clock read per I/O, not two).
      const start = (now: number): void => {
        if (failure !== undefined) {
          stop()
          return
        }
        startedAt = now
        const io = issue(now)
        if (io === undefined) stop()
        else io.then(onDone, onFailed)
      }
      const onDone = (): void => {
        const now = performance.now()
        if (hooks.done(startedAt, now)) setImmediate(() => start(performance.now()))
        else start(now)
      }
      const onFailed = (error: unknown): void => {
        const fatal = hooks.failed(error)
        if (fatal !== undefined) failure ??= { error: fatal }
        stop()
      }
      start(performance.now())
    }
  })
}

export function formatBench(result: BenchResult): string {
  const l = result.latencyUs
  return [
    `${result.rw}: bs=${formatBytes(result.ioSize)} qd=${result.queueDepth} time=${result.seconds.toFixed(2)}s region=${formatBytes(result.regionBytes)}`,
    pairs([
      ['IOPS', Math.round(result.iops).toString()],
      ['bandwidth', `${formatRate(result.bytesPerSecond)} (${formatBytes(Math.round(result.bytesPerSecond))}/s)`],
      ['I/Os', `${result.ios} (${formatBytes(result.bytes)})`],
      ['latency', `min ${formatMicros(l.min)}, avg ${formatMicros(l.mean)}, max ${formatMicros(l.max)}, stddev ${formatMicros(l.stddev)}`],
      ['  p50', formatMicros(l.p50)],
      ['  p90', formatMicros(l.p90)],
      ['  p99', formatMicros(l.p99)],
      ['  p99.9', formatMicros(l['p99.9'])],
    ]),
  ].join('\n')
}

export const registerBench: Register = (program, run) => {
  program
    .command('bench')
    .summary('IOPS, bandwidth and latency percentiles')
    .description('Benchmark a LUN: IOPS, MB/s and latency p50/p90/p99/p99.9 at a queue depth. Writes need --force.')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .option('--rw <mode>', `${BENCH_MODES.join(', ')}`, 'randread')
    .option('--bs <bytes>', 'bytes per I/O (a multiple of the block size)', '4k')
    .option('--qd <n>', 'commands in flight', '32')
    .option('--time <duration>', 'how long to run', '10s')
    .option('--size <bytes>', 'use only the first SIZE bytes of the LUN (default: all of it)')
    .option('--force', 'allow write and randwrite (they overwrite the LUN\'s data)')
    .addHelpText(
      'after',
      examples([
        ['iscsi bench iscsi://san1/iqn.2004-04.com.example:disk1/1', '4k random reads, qd 32, 10 s'],
        ['iscsi bench iscsi://san1/iqn.2004-04.com.example:disk1/1 --rw read --bs 1M --qd 8', 'sequential throughput'],
        ['iscsi bench iscsi://san1/iqn.2004-04.com.example:disk1/1 --rw randwrite --force --time 30s', 'destroys data'],
      ]),
    )
    .action(
      run<BenchOptions>(async (context, [arg = ''], options) => {
        const rw = BENCH_MODES.find((m) => m === (options.rw ?? 'randread'))
        if (rw === undefined) throw new UsageError(`invalid --rw '${options.rw ?? ''}' (${BENCH_MODES.join(', ')})`)
        const writing = rw === 'write' || rw === 'randwrite'
        if (writing && options.force !== true) throw new UsageError(`--rw ${rw} overwrites data on the LUN: add --force to do it`)
        const ioSize = parseSize(options.bs ?? '4k', '--bs')
        const queueDepth = parseCount(options.qd ?? '32', '--qd', { max: 1024 })
        const durationMs = parseDuration(options.time ?? '10s', '--time')
        if (durationMs === 0) throw new UsageError('--time must be more than 0')
        const sizeLimit = options.size === undefined ? undefined : parseSize(options.size, '--size')
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        const signal = context.signal
        const aborted = (): boolean => signal?.aborted === true

        const result = await context.withSession(url, async (session) => {
          const capacity = await step('read capacity', () => session.readCapacity(lun))
          const blockSize = capacity.blockSize
          if (ioSize === 0 || ioSize % blockSize !== 0) throw new UsageError(`--bs must be a multiple of the LUN's block size (${blockSize})`)
          const lunBytes = Number(capacity.blockCount) * blockSize
          const regionBytes = Math.min(sizeLimit ?? lunBytes, lunBytes)
          if (sizeLimit !== undefined && sizeLimit > lunBytes) context.warn(`--size is larger than the LUN; using all ${lunBytes} bytes`)
          const ioBlocks = ioSize / blockSize
          const slots = Math.floor(regionBytes / ioSize)
          if (slots < 1) throw new UsageError(`the region (${regionBytes} bytes) is smaller than one I/O (${ioSize} bytes)`)

          const histogram = new Histogram()
          const random = rw === 'randread' || rw === 'randwrite'
          let cursor = 0
          let ios = 0
          const progress = createProgress(context, { label: rw, total: durationMs, unit: 'time' })
          const started = performance.now()
          const deadline = started + durationMs
          const elapsedMs = (): number => performance.now() - started
          // No bar to draw (not a terminal, --json, --quiet): no timer either.
          const ticker = context.interactive
            ? setInterval(() => {
                const seconds = Math.max(elapsedMs() / 1000, 0.001)
                progress.update(elapsedMs(), `${Math.round(ios / seconds)} IOPS ${formatRate((ios * ioSize) / seconds)}`)
              }, 250)
            : undefined
          // One buffer for every worker: the random data every write sends, or the place every read lands. Like
          // libiscsi's iscsi-perf, the bench never looks at what it read, and one buffer stays in the CPU cache where
          // queueDepth of them would not (iscsi-perf's reads land in blocks malloc hands back warm): at 128 KiB and
          // qd 16 the kernel's copy into cold buffers alone cost about 10 us per I/O on the reference machine.
          const buffer = writing ? randomFillSync(Buffer.alloc(ioSize)) : Buffer.allocUnsafe(ioSize)
          const options = signal ? { signal, into: buffer } : { into: buffer }
          try {
            await runWorkers(queueDepth, (worker) => {
              const next = xorshift(0x2545f491 * (worker + 1))
              return (now) => {
                if (now >= deadline || (signal !== undefined && signal.aborted)) return undefined
                const slot = random ? Math.floor(next() * slots) : cursor++ % slots
                // A number, not a BigInt: the session takes either, and the LBAs of any LUN below 2^53 bytes fit.
                const lba = slot * ioBlocks
                return writing ? session.write(lun, lba, buffer, options) : session.read(lun, lba, ioBlocks, options)
              }
            }, {
              done: (startedAt, now) => {
                histogram.record((now - startedAt) * 1e6)
                // A device that answers from memory never lets the event loop turn: every 1024 I/Os the next one
                // waits for setImmediate, so the progress timer gets its chance.
                return (++ios & 1023) === 0
              },
              // Ctrl-C aborts the commands in flight; the run ends with what was measured so far.
              failed: (error) => (aborted() ? undefined : error instanceof CliError ? error : new StepError(writing ? 'write' : 'read', error)),
            })
          } finally {
            clearInterval(ticker)
            progress.stop()
          }
          const seconds = elapsedMs() / 1000
          const snapshot = histogram.snapshot([50, 90, 99, 99.9])
          const at = (p: number): number => (snapshot.percentiles.find((x) => x.percentile === p)?.value ?? 0) / 1000
          const bench: BenchResult = {
            rw,
            blockSize,
            ioSize,
            queueDepth,
            regionBytes,
            seconds,
            ios,
            bytes: ios * ioSize,
            iops: ios / seconds,
            bytesPerSecond: (ios * ioSize) / seconds,
            latencyUs: {
              min: snapshot.min / 1000,
              mean: snapshot.mean / 1000,
              max: snapshot.max / 1000,
              stddev: snapshot.stddev / 1000,
              p50: at(50),
              p90: at(90),
              p99: at(99),
              'p99.9': at(99.9),
            },
          }
          return bench
        })
        context.result(result, () => formatBench(result))
      }),
    )
}
