// Progress on stderr for long commands (cp, bench). Drawn only when stderr is a terminal and output is for people;
// otherwise every call is a no-op, so piped and `--json` runs print nothing but their result. cli-progress is
// loaded on the first bar drawn: a run without a terminal (scripts, `--json`, benchmarks) never pays its start-up
// (about 14 ms of CPU and its share of the heap).
import { createRequire } from 'node:module'
import type CliProgress from 'cli-progress'
import type { Context } from './context.js'
import { formatBytes, formatRate } from './sizes.js'

export interface Progress {
  /** Set the amount done (bytes, or milliseconds for time-based bars) and any extra status text. */
  update(done: number, status?: string): void
  stop(): void
}

const NONE: Progress = { update: () => undefined, stop: () => undefined }

let cliProgressModule: typeof CliProgress | undefined

function loadCliProgress(): typeof CliProgress {
  // cli-progress is CommonJS: require() loads it synchronously, so createProgress stays synchronous.
  cliProgressModule ??= createRequire(import.meta.url)('cli-progress') as typeof CliProgress
  return cliProgressModule
}

export interface ProgressOptions {
  readonly label: string
  readonly total: number
  /** `bytes`: done/total as sizes with a transfer rate; `time`: milliseconds as seconds. */
  readonly unit: 'bytes' | 'time'
}

/** A progress bar for `context`, or a no-op one when stderr is not an interactive terminal. */
export function createProgress(context: Context, options: ProgressOptions): Progress {
  if (!context.interactive) return NONE
  const cliProgress = loadCliProgress()
  const started = Date.now()
  const bar = new cliProgress.SingleBar(
    {
      stream: context.io.stderr,
      format: `${options.label} [{bar}] {percentage}% | {amount}{status}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      gracefulExit: false,
      fps: 8,
      linewrap: true,
    },
    cliProgress.Presets.shades_classic,
  )
  const amount = (done: number): string =>
    options.unit === 'bytes'
      ? `${formatBytes(done)}/${formatBytes(options.total)} ${formatRate(done / Math.max(0.001, (Date.now() - started) / 1000))}`
      : `${(done / 1000).toFixed(0)}s/${(options.total / 1000).toFixed(0)}s`
  bar.start(Math.max(1, options.total), 0, { amount: amount(0), status: '' })
  return {
    update: (done, status = '') => bar.update(Math.min(done, options.total), { amount: amount(done), status: status === '' ? '' : ` | ${status}` }),
    stop: () => bar.stop(),
  }
}
