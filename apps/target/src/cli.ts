// The command line of iscsi-target (commander). Quick-use flags become a config input validated by the same schema as
// a config file, so both paths share every check; with --config, the few global flags override the file instead.
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { type HostPort, formatHostPort, parseHostPort } from './address.js'
import {
  type ConfigInput,
  DEFAULT_IQN,
  LOG_LEVELS,
  type LogLevel,
  type ServerConfig,
  defaultDataDir,
  loadConfig,
  parseConfig,
  parseIscsiName,
} from './config.js'
import { ExitCode, UsageError } from './errors.js'
import type { LogFormat } from './logging.js'
import { parseSize } from './units.js'

/** The default LUN of the no-argument mode: a sparse image in the data folder. */
export const DEFAULT_IMAGE = 'default.img'
export const DEFAULT_IMAGE_SIZE = 2 ** 30

export interface LunSpec {
  readonly path: string
  readonly size?: number
}

/** The parsed flags. */
export interface CliFlags {
  readonly listen: HostPort[]
  readonly iqn?: string
  readonly lun: LunSpec[]
  readonly memory: number[]
  readonly readOnly?: boolean
  readonly chap?: string
  readonly mutualChap?: string
  readonly acl: string[]
  readonly headerDigest?: boolean
  readonly dataDigest?: boolean
  readonly config?: string
  readonly metrics?: HostPort
  readonly logLevel?: LogLevel
  readonly logFormat?: LogFormat
  readonly data?: string
}

export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Help and version text. */
  readonly stdout: (text: string) => void
}

/** What the command line asks for: print-and-exit (help, version) or run a server. */
export type Invocation =
  | { readonly kind: 'exit'; readonly code: number }
  | {
      readonly kind: 'run'
      readonly flags: CliFlags
      readonly logFormat?: LogFormat
      /** The config file, when there is one (SIGHUP re-reads it). */
      readonly configPath?: string
      /** Build the configuration (again, on reload): the file with overrides, or the flags. Throws ConfigError. */
      readonly load: () => Promise<ServerConfig>
    }

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

const collect = <T>(parse: (text: string) => T) => (text: string, previous: T[] | undefined) => [...(previous ?? []), parse(text)]

function hostPortArgument(defaultPort?: number, ipOnly = false) {
  return (text: string): HostPort => {
    const parsed = parseHostPort(text, defaultPort)
    if (typeof parsed === 'string') throw new InvalidArgumentError(`expected HOST:PORT, like 127.0.0.1:3260 or [::1]:3260 (${parsed}).`)
    if (ipOnly && isIP(parsed.host) === 0) throw new InvalidArgumentError(`expected an IP address, like 127.0.0.1, 0.0.0.0 or [::] ("${parsed.host}" is a name).`)
    return parsed
  }
}

function sizeArgument(text: string): number {
  const bytes = parseSize(text)
  if (bytes === undefined || bytes < 512) throw new InvalidArgumentError('expected a size like 1G or 512M.')
  return bytes
}

/** `PATH[:SIZE]`: the part after the last colon is a size when it reads as one (so paths may contain colons). */
export function parseLunSpec(text: string): LunSpec {
  const colon = text.lastIndexOf(':')
  if (colon > 0) {
    const size = parseSize(text.slice(colon + 1))
    if (size !== undefined) {
      if (size < 512) throw new InvalidArgumentError('the size must be at least 512 bytes.')
      return { path: text.slice(0, colon), size }
    }
  }
  if (text === '') throw new InvalidArgumentError('expected PATH[:SIZE].')
  return { path: text }
}

function nameArgument(allowAny: boolean) {
  return (text: string): string => {
    if (allowAny && text === '*') return text
    const name = parseIscsiName(text)
    if (name === undefined) throw new InvalidArgumentError('expected an iSCSI name like iqn.2026-11.com.example:disk1.')
    return name
  }
}

const EXAMPLES = `
Examples:
  $ iscsi-target
      serve ${DEFAULT_IQN}, LUN 0 = a sparse 1 GiB image in ./.iscsi-ts/, on 127.0.0.1:3260
  $ iscsi-target --lun disk.img:10G --lun /dev/sdb --listen 0.0.0.0:3260 --chap alice:correct-horse-battery
  $ iscsi-target --memory 512M --iqn iqn.2026-11.com.example:ram --listen [::1]:3261
  $ iscsi-target --config /etc/iscsi-target.yaml --metrics 127.0.0.1:9100
  $ iscsi-ls -s iscsi://127.0.0.1                     # list what the target serves (libiscsi)

Environment:
  ISCSI_TS_DATA              data folder (default ./.iscsi-ts)
  ISCSI_TARGET_CHAP          USER:SECRET, like --chap (keeps the secret out of the process list)
  ISCSI_TARGET_MUTUAL_CHAP   USER:SECRET, like --mutual-chap

Signals:
  SIGHUP                     reload --config (LUNs and ACLs change; sessions that stay valid are kept)
  SIGTERM, SIGINT            graceful shutdown (initiators are asked to log out); a second signal forces exit

Exit codes:
  0  clean shutdown
  1  runtime failure (a port in use, an image that cannot be opened, a forced exit)
  2  usage or configuration error
`

/** The commander program (exported for tests of the help text). */
export function createProgram(env: CliEnvironment): Command {
  return new Command()
    .name('iscsi-target')
    .description('Serve disk images and RAM disks over iSCSI (RFC 7143).')
    .version(version(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .option('-l, --listen <host:port>', 'listen on this portal; repeat for more (default 127.0.0.1:3260)', collect(hostPortArgument(3260, true)))
    .option('--iqn <iqn>', `target name (default ${DEFAULT_IQN})`, nameArgument(false))
    .option('--lun <path[:size]>', 'a LUN backed by an image file, created (sparse) when missing; repeatable', collect(parseLunSpec))
    .option('--memory <size>', 'a LUN backed by RAM (lost at exit); repeatable', collect(sizeArgument))
    .option('--read-only', 'make every LUN read-only')
    .option('--chap <user:secret>', 'require one-way CHAP (also $ISCSI_TARGET_CHAP); secret 12+ characters')
    .option('--mutual-chap <user:secret>', 'the target proves itself back with these credentials (needs --chap)')
    .option('--acl <iqn>', 'allow only this initiator; repeatable (not authentication: names can be spoofed)', collect(nameArgument(true)))
    .option('--header-digest', 'require CRC32C header digests')
    .option('--data-digest', 'require CRC32C data digests')
    .option('-c, --config <file>', 'YAML or JSON configuration file (see README); SIGHUP reloads it')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics', hostPortArgument())
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log lines as JSON, or pretty (default: pretty on a terminal)').choices(['json', 'pretty']))
    .option('--data <dir>', 'data folder for the default image and reservation state (default $ISCSI_TS_DATA or ./.iscsi-ts)')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError("(run 'iscsi-target --help' for usage)")
    .exitOverride()
    .configureOutput({ writeOut: env.stdout, writeErr: () => undefined, outputError: () => undefined })
}

const QUICK_ONLY = [
  ['iqn', '--iqn'],
  ['lun', '--lun'],
  ['memory', '--memory'],
  ['readOnly', '--read-only'],
  ['chap', '--chap'],
  ['mutualChap', '--mutual-chap'],
  ['acl', '--acl'],
] as const

function credentials(text: string, flag: string): { user: string; secret: string } {
  const colon = text.indexOf(':')
  // Never quote the argument back: it holds a secret.
  if (colon <= 0 || colon === text.length - 1) throw new UsageError(`${flag}: expected USER:SECRET`)
  const secret = text.slice(colon + 1)
  if (secret.length < 12) throw new UsageError(`${flag}: the secret must be at least 12 characters (96 bits, RFC 7143 12.1.3)`)
  return { user: text.slice(0, colon), secret }
}

/** The config input the quick-use flags describe (no --config). Throws UsageError for unusable credentials. */
export function configFromFlags(flags: CliFlags, env: Readonly<Record<string, string | undefined>>, cwd: string): ConfigInput {
  const dataDir = flags.data === undefined ? defaultDataDir(env, cwd) : resolve(cwd, flags.data)
  const readOnly = flags.readOnly === true
  const luns: NonNullable<ConfigInput['targets'][number]['luns']> = [
    ...flags.lun.map((spec) => ({ backstore: 'file' as const, path: resolve(cwd, spec.path), ...(spec.size === undefined ? {} : { size: spec.size }), readOnly })),
    ...flags.memory.map((size) => ({ backstore: 'memory' as const, size, readOnly })),
  ]
  if (luns.length === 0) luns.push({ backstore: 'file', path: join(dataDir, DEFAULT_IMAGE), size: DEFAULT_IMAGE_SIZE, readOnly })
  const chapText = flags.chap ?? nonEmpty(env.ISCSI_TARGET_CHAP)
  const mutualText = flags.mutualChap ?? nonEmpty(env.ISCSI_TARGET_MUTUAL_CHAP)
  const chap = chapText === undefined ? undefined : credentials(chapText, flags.chap === undefined ? 'ISCSI_TARGET_CHAP' : '--chap')
  const mutual = mutualText === undefined ? undefined : credentials(mutualText, flags.mutualChap === undefined ? 'ISCSI_TARGET_MUTUAL_CHAP' : '--mutual-chap')
  if (mutual !== undefined && chap === undefined) throw new UsageError('--mutual-chap needs --chap as well')
  if (mutual !== undefined && chap !== undefined && mutual.secret === chap.secret) {
    throw new UsageError('--mutual-chap: the secret must differ from the --chap secret (RFC 7143 12.1.3)')
  }
  // The same credentials guard discovery: otherwise anyone could list the target names.
  const auth = chap === undefined ? undefined : { chap, ...(mutual === undefined ? {} : { mutual }) }
  return {
    ...(flags.logLevel === undefined ? {} : { logLevel: flags.logLevel }),
    dataDir,
    ...(flags.metrics === undefined ? {} : { metrics: formatHostPort(flags.metrics) }),
    ...(flags.listen.length === 0 ? {} : { portals: flags.listen.map(({ host, port }) => ({ host, port })) }),
    targets: [
      {
        name: flags.iqn ?? DEFAULT_IQN,
        luns,
        acls: flags.acl.map((initiator) => ({ initiator })),
        ...(auth === undefined ? {} : { auth }),
      },
    ],
    ...(auth === undefined ? {} : { discoveryAuth: auth }),
    limits: digestLimits(flags, {}),
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function digestLimits(flags: CliFlags, limits: Record<string, unknown>): Record<string, unknown> {
  return {
    ...limits,
    ...(flags.headerDigest === true ? { headerDigest: ['CRC32C'] } : {}),
    ...(flags.dataDigest === true ? { dataDigest: ['CRC32C'] } : {}),
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Apply the global flags to a parsed config file: --listen, --metrics, --log-level, --data, digests. */
export function applyOverrides(input: Record<string, unknown>, flags: CliFlags, cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input }
  if (flags.listen.length > 0) {
    // --listen replaces every portal: one portal group that every target is reachable through.
    out.portals = flags.listen.map(({ host, port }) => ({ host, port }))
    delete out.portalGroups
    if (Array.isArray(out.targets)) {
      out.targets = out.targets.map((target: unknown) => {
        if (!isRecord(target)) return target
        const { portalGroups: _dropped, ...rest } = target
        return rest
      })
    }
  }
  if (flags.metrics !== undefined) out.metrics = formatHostPort(flags.metrics)
  if (flags.logLevel !== undefined) out.logLevel = flags.logLevel
  if (flags.data !== undefined) out.dataDir = resolve(cwd, flags.data)
  if (flags.headerDigest === true || flags.dataDigest === true) {
    out.limits = isRecord(out.limits) || out.limits === undefined ? digestLimits(flags, isRecord(out.limits) ? out.limits : {}) : out.limits
  }
  return out
}

interface RawOptions {
  listen?: HostPort[]
  iqn?: string
  lun?: LunSpec[]
  memory?: number[]
  readOnly?: boolean
  chap?: string
  mutualChap?: string
  acl?: string[]
  headerDigest?: boolean
  dataDigest?: boolean
  config?: string
  metrics?: HostPort
  logLevel?: LogLevel
  logFormat?: LogFormat
  data?: string
}

/** Parse argv (without `node` and the script). Throws UsageError (exit code 2) for anything unusable. */
export function parseCommandLine(argv: readonly string[], env: CliEnvironment): Invocation {
  const program = createProgram(env)
  try {
    program.parse([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return { kind: 'exit', code: ExitCode.OK }
      }
      throw new UsageError(error.message.replace(/^error: /, ''))
    }
    throw error
  }
  const raw = program.opts<RawOptions>()
  const flags: CliFlags = {
    ...raw,
    listen: raw.listen ?? [],
    lun: raw.lun ?? [],
    memory: raw.memory ?? [],
    acl: raw.acl ?? [],
  }
  const configPath = flags.config
  if (configPath !== undefined) {
    for (const [key, flag] of QUICK_ONLY) {
      const value = flags[key]
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        throw new UsageError(`${flag} cannot be combined with --config (describe targets and LUNs in the config file)`)
      }
    }
    return {
      kind: 'run',
      flags,
      configPath: resolve(env.cwd, configPath),
      ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
      load: () => loadConfig(configPath, { env: env.env, cwd: env.cwd, override: (input) => applyOverrides(input, flags, env.cwd) }),
    }
  }
  // Validate the flags now, so a usage error surfaces before anything starts.
  const input = configFromFlags(flags, env.env, env.cwd)
  const context = { baseDir: env.cwd, env: env.env, defaultDataDir: defaultDataDir(env.env, env.cwd) }
  return {
    kind: 'run',
    flags,
    ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
    load: () => Promise.resolve(parseConfig(input, context, 'command line')),
  }
}
