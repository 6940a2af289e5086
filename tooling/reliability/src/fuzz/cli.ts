// `pnpm fuzz:target [--pdus N] [--seconds S] [--seed N] [--concurrency N] [--deadline-ms N] [--max-rss-mb N]
// [--packages dist|src] [--long]`: runs the network fuzzer and prints its report; exit code 0 when nothing was found.
import { parseArgs } from 'node:util'
import { isLong } from '../budget.js'
import { seedFrom } from '../random.js'
import { formatReport, runFuzz } from './fuzzer.js'
import type { FuzzOptions } from './fuzzer.js'

const USAGE = `usage: pnpm fuzz:target [options]
  --pdus N          PDUs to send (default 100000; 2000000 with --long or RELIABILITY_LONG=1)
  --seconds S       stop after S seconds even if PDUs remain (default: no limit)
  --seed N          replay a run (default: time-based, printed)
  --concurrency N   fuzz connections at a time (default 12)
  --deadline-ms N   the target must close a connection this long after our FIN (default 10000)
  --max-rss-mb N    bound on the target's RSS (default 512)
  --packages P      dist (default: the built packages) or src (the workspace sources)
  --long            the long budget
`

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`--${name} must be a non-negative number, got ${value}`)
  return n
}

export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): FuzzOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pdus: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'deadline-ms': { type: 'string' },
      'max-rss-mb': { type: 'string' },
      packages: { type: 'string' },
      long: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help === true) return undefined
  const long = values.long === true || isLong(env)
  const packages = values.packages ?? env.ISCSI_TS_PACKAGES ?? 'dist'
  if (packages !== 'dist' && packages !== 'src') throw new RangeError(`--packages must be dist or src, got ${packages}`)
  return {
    pdus: positive('pdus', values.pdus, long ? 2_000_000 : 100_000),
    seconds: positive('seconds', values.seconds, 0),
    seed: seedFrom(values.seed ?? env.FUZZ_SEED),
    concurrency: Math.max(1, Math.floor(positive('concurrency', values.concurrency, 12))),
    deadlineMs: positive('deadline-ms', values['deadline-ms'], 10_000),
    maxRssBytes: positive('max-rss-mb', values['max-rss-mb'], 512) * 1024 * 1024,
    maxHeapGrowthBytes: 64 * 1024 * 1024,
    packages,
  }
}

async function main(): Promise<number> {
  let options: FuzzOptions | undefined
  try {
    options = parseCli(process.argv.slice(2), process.env)
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
    return 2
  }
  if (options === undefined) {
    process.stdout.write(USAGE)
    return 0
  }
  process.stdout.write(`fuzzing the target (${options.packages}): ${options.pdus} PDUs${options.seconds > 0 ? ` or ${options.seconds} s` : ''}, seed ${options.seed}, ${options.concurrency} connections at a time\n`)
  const report = await runFuzz({ ...options, progress: (line) => process.stdout.write(`  ${line}\n`) })
  for (const line of formatReport(report)) process.stdout.write(`${line}\n`)
  return report.ok ? 0 : 1
}

process.exitCode = await main()
