// The `iscsi` program: global options, the commands, and the one place where failures become a line on stderr and
// an exit code. `main` never calls process.exit, so tests run it in-process with fake streams.
import { Command, CommanderError } from 'commander'
import type { CommandAction, Run } from './action.js'
import { registerBench } from './commands/bench.js'
import { registerCp } from './commands/cp.js'
import { registerDiscover } from './commands/discover.js'
import { registerInquiry } from './commands/inquiry.js'
import { registerLs } from './commands/ls.js'
import { registerPing } from './commands/ping.js'
import { registerPr } from './commands/pr.js'
import { registerRead } from './commands/read.js'
import { registerReadcap } from './commands/readcap.js'
import { registerRelease } from './commands/release.js'
import { registerReserve } from './commands/reserve.js'
import { registerWrite } from './commands/write.js'
import { type CliIo, Context, type GlobalOptions, SECRET_ENV } from './context.js'
import { CliError, ExitCode, StepError, UsageError, describeCause, errorDocument } from './errors.js'
import { jsonDocument } from './output.js'
import { parseDuration } from './sizes.js'
import { VERSION } from './version.js'

const EXIT_CODES = `
Exit codes:
  0  success
  1  runtime or I/O error (file access, verification mismatch, interrupted)
  2  usage error (bad arguments or options)
  3  login failure (authentication, authorization, target not found)
  4  SCSI error (CHECK CONDITION with the sense printed, RESERVATION CONFLICT, BUSY)
  5  connection error or time-out

URLs: iscsi://[user[%secret]@]host[:port]/target-iqn/lun, IPv6 in brackets: iscsi://[::1]:3260/iqn.../0
CHAP: --chap-user (or user@ in the URL); the secret from the URL, $${SECRET_ENV}, or asked on a terminal.
`

interface RawGlobals {
  json?: boolean
  quiet?: boolean
  initiatorName?: string
  chapUser?: string
  headerDigest?: boolean
  dataDigest?: boolean
  timeout?: string
  isid?: string
}

function globalOptions(raw: RawGlobals): GlobalOptions {
  let isid: Buffer | undefined
  if (raw.isid !== undefined) {
    if (!/^(0x)?[0-9a-f]{12}$/i.test(raw.isid)) throw new UsageError(`invalid --isid '${raw.isid}' (12 hex digits)`)
    isid = Buffer.from(raw.isid.replace(/^0x/i, ''), 'hex')
  }
  if (raw.initiatorName !== undefined && !/^(iqn\.|eui\.|naa\.)/i.test(raw.initiatorName)) {
    throw new UsageError(`invalid --initiator-name '${raw.initiatorName}' (an iqn., eui. or naa. name)`)
  }
  const timeoutMs = raw.timeout === undefined ? undefined : parseDuration(raw.timeout, '--timeout')
  if (timeoutMs === 0) throw new UsageError('--timeout must be more than 0')
  return {
    json: raw.json === true,
    quiet: raw.quiet === true,
    headerDigest: raw.headerDigest === true,
    dataDigest: raw.dataDigest === true,
    ...(raw.initiatorName !== undefined ? { initiatorName: raw.initiatorName } : {}),
    ...(raw.chapUser !== undefined ? { chapUser: raw.chapUser } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(isid ? { isid } : {}),
  }
}

/** Build the commander program for one run (commander keeps parsed values, so never reuse one). */
export function createProgram(io: CliIo, state: { context?: Context } = {}): Command {
  const program = new Command('iscsi')
  program
    .description('Discover, inspect, copy to and from, and benchmark iSCSI targets and LUNs.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (every command has its own, with examples)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-q, --quiet', 'no progress, notes or warnings on stderr')
    .option('--initiator-name <iqn>', 'initiator name to log in with')
    .option('--chap-user <user>', `CHAP user name (the secret comes from $${SECRET_ENV} or a prompt)`)
    .option('--header-digest', 'ask for CRC32C header digests')
    .option('--data-digest', 'ask for CRC32C data digests')
    .option('--timeout <duration>', 'per-command time-out (e.g. 30s, 500ms)')
    .option('--isid <hex>', 'session ISID, 12 hex digits (default: random; stable for reservations)')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'iscsi: ')),
    })

  const run: Run =
    <Options>(body: CommandAction<Options>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command
      const options = args.at(-2) as Options
      const positionals = args.slice(0, -2).map((value) => String(value))
      const context = new Context(io, globalOptions(command.optsWithGlobals<RawGlobals>()))
      state.context = context
      await body(context, positionals, options)
    }

  for (const register of [registerDiscover, registerLs, registerInquiry, registerReadcap, registerRead, registerWrite, registerCp, registerBench, registerPing, registerReserve, registerRelease, registerPr]) {
    register(program, run)
  }
  return program
}

function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

/** Run the CLI with `argv` (without node and script) and return the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const state: { context?: Context } = {}
  const program = createProgram(io, state)
  if (argv.length === 0) {
    program.outputHelp({ error: true })
    return ExitCode.USAGE
  }
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return state.context?.exitCode ?? ExitCode.OK
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; every other commander error is a usage error.
      // (`iscsi --json` without a command prints help on stderr with a non-zero code: a usage error.)
      if (error.exitCode === 0) return ExitCode.OK
      if (error.code === 'commander.help') return ExitCode.USAGE
      io.stderr.write(`(see 'iscsi --help')\n`)
      return ExitCode.USAGE
    }
    const json = state.context?.options.json ?? wantsJson(argv)
    const message = error instanceof CliError ? error.message : error instanceof Error && !(error instanceof StepError) ? describeCause(error).message : String(error)
    if (json) io.stdout.write(jsonDocument(errorDocument(error)))
    io.stderr.write(`iscsi: ${message}\n`)
    if (!(error instanceof CliError) && io.env.ISCSI_DEBUG !== undefined && error instanceof Error && error.stack !== undefined) {
      io.stderr.write(`${error.stack}\n`)
    }
    return describeCause(error).exitCode
  }
}
