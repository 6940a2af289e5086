// `iscsi ping URL [--count N] [--interval D]`: NOP-Out/NOP-In round trips (RFC 7143 11.18, 11.19) with min/avg/max,
// the way ping(8) reports them.
import { setTimeout as sleep } from 'node:timers/promises'
import { type Register, examples } from '../action.js'
import { describeCause, ExitCode } from '../errors.js'
import { formatPortal } from '../portal.js'
import { parseCount, parseDuration } from '../sizes.js'

interface PingOptions {
  count?: string
  interval?: string
}

export interface PingSummary {
  readonly sent: number
  readonly received: number
  readonly lost: number
  readonly minMs: number
  readonly avgMs: number
  readonly maxMs: number
  readonly mdevMs: number
}

export function summarize(times: readonly number[], sent: number): PingSummary {
  const received = times.length
  const avg = received === 0 ? 0 : times.reduce((a, b) => a + b, 0) / received
  const mdev = received === 0 ? 0 : Math.sqrt(times.reduce((a, t) => a + (t - avg) ** 2, 0) / received)
  return {
    sent,
    received,
    lost: sent - received,
    minMs: received === 0 ? 0 : Math.min(...times),
    avgMs: avg,
    maxMs: received === 0 ? 0 : Math.max(...times),
    mdevMs: mdev,
  }
}

export function formatSummary(summary: PingSummary, target: string): string {
  const loss = summary.sent === 0 ? 0 : (summary.lost / summary.sent) * 100
  return [
    `--- ${target} ping statistics ---`,
    `${summary.sent} NOPs sent, ${summary.received} answered, ${loss.toFixed(0)}% lost`,
    ...(summary.received > 0
      ? [`rtt min/avg/max/mdev = ${[summary.minMs, summary.avgMs, summary.maxMs, summary.mdevMs].map((v) => v.toFixed(3)).join('/')} ms`]
      : []),
  ].join('\n')
}

export const registerPing: Register = (program, run) => {
  program
    .command('ping')
    .summary('NOP-Out round trips with min/avg/max')
    .description('Log in and measure NOP-Out/NOP-In round trips.')
    .argument('<url>', 'iscsi://host[:port]/target-iqn[/lun]')
    .option('-c, --count <n>', 'how many NOP-Outs', '4')
    .option('-i, --interval <duration>', 'time between them (e.g. 1s, 200ms)', '1s')
    .addHelpText(
      'after',
      examples([
        ['iscsi ping iscsi://san1/iqn.2004-04.com.example:disk1', 'four round trips, a second apart'],
        ['iscsi ping iscsi://san1/iqn.2004-04.com.example:disk1 -c 100 -i 10ms -q', 'just the summary'],
      ]),
    )
    .action(
      run<PingOptions>(async (context, [arg = ''], options) => {
        const count = parseCount(options.count ?? '4', '--count', { max: 1_000_000 })
        const interval = parseDuration(options.interval ?? '1s', '--interval')
        const url = context.parseUrl(arg, { needLun: false })
        const target = url.targetName ?? ''
        const times: number[] = []
        let sent = 0
        const aborted = (): boolean => context.signal?.aborted === true
        await context.withSession(url, async (session) => {
          if (!context.options.json && !context.options.quiet) context.io.stdout.write(`PING ${target} (${formatPortal(url)})\n`)
          for (let i = 0; i < count && !aborted(); i++) {
            if (i > 0) await sleep(interval, undefined, context.signal ? { signal: context.signal } : {}).catch(() => undefined)
            if (aborted()) break
            sent++
            try {
              const ms = await session.ping()
              times.push(ms)
              if (!context.options.json && !context.options.quiet) context.io.stdout.write(`nop_seq=${i + 1} time=${ms.toFixed(3)} ms\n`)
            } catch (error) {
              const described = describeCause(error)
              // A lost connection ends the run; a NOP that timed out is counted as lost.
              if (described.exitCode === ExitCode.CONNECTION && !/time/i.test(described.message)) throw error
              if (!context.options.json && !context.options.quiet) context.io.stdout.write(`nop_seq=${i + 1} ${described.message}\n`)
            }
          }
        })
        const summary = summarize(times, sent)
        context.result({ target, portal: { host: url.host, port: url.port }, times, ...summary }, () => (context.options.quiet ? formatSummary(summary, target) : `\n${formatSummary(summary, target)}`))
        if (summary.received === 0) context.fail(ExitCode.CONNECTION, 'no NOP-In answers')
      }),
    )
}
