// What every command gets: the process's streams (or a test's), the global options, and helpers to print results
// and open sessions with the right credentials, digests and time-outs.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { hostname } from 'node:os'
import { CliError, ExitCode, type ExitCodeValue, UsageError, step } from './errors.js'
import { jsonDocument } from './output.js'
import { parsePortal } from './portal.js'
import { type TtyInput, promptSecret } from './secret.js'
import type { CliSession, ConnectOptions, Connector, Portal, TargetUrl } from './session.js'

export interface OutputStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean
  readonly columns?: number
}

/** The outside world of one run: streams, environment, the initiator, and a signal for Ctrl-C. */
export interface CliIo {
  readonly stdout: OutputStream
  readonly stderr: OutputStream
  readonly stdin: TtyInput
  readonly env: Readonly<Record<string, string | undefined>>
  readonly connector: Connector
  readonly signal?: AbortSignal
}

export interface GlobalOptions {
  readonly json: boolean
  readonly quiet: boolean
  readonly initiatorName?: string
  readonly chapUser?: string
  readonly headerDigest: boolean
  readonly dataDigest: boolean
  readonly timeoutMs?: number
  readonly isid?: Buffer
}

export const SECRET_ENV = 'ISCSI_CHAP_SECRET'

export interface ConnectChoices {
  /** Log in with the ISID derived from the initiator name (reservations). */
  readonly stableIsid?: boolean
  /** Log in without CHAP even when credentials were given (a target of a portal that does not use it). */
  readonly noChap?: boolean
}

/** `iscsi://...` or a plain `host[:port]`. */
export function isUrl(text: string): boolean {
  return /^iscsi:\/\//i.test(text.trim())
}

export class Context {
  readonly io: CliIo
  readonly options: GlobalOptions
  #secretPrompt: Promise<string> | undefined
  /** Exit code of a command that printed its result but partly failed (the first failure wins). */
  exitCode: ExitCodeValue = ExitCode.OK

  constructor(io: CliIo, options: GlobalOptions) {
    this.io = io
    this.options = options
  }

  /** Progress bars and live status go to stderr only when it is a terminal and output is for people. */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true && !this.options.quiet && !this.options.json
  }

  get signal(): AbortSignal | undefined {
    return this.io.signal
  }

  /** Print a command's result: its JSON document with `--json`, else the human text (unless empty). */
  result(json: unknown, human: () => string): void {
    if (this.options.json) {
      this.io.stdout.write(jsonDocument(json))
      return
    }
    const text = human()
    if (text !== '') this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** A note for people on stderr (`connected to ...`); silent with -q or --json. */
  note(text: string): void {
    if (!this.options.quiet && !this.options.json) this.io.stderr.write(`${text}\n`)
  }

  /** A warning on stderr; silent only with -q. */
  warn(text: string): void {
    if (!this.options.quiet) this.io.stderr.write(`iscsi: warning: ${text}\n`)
  }

  /** Report a partial failure on stderr (always, even with -q) and remember its exit code; the command goes on. */
  fail(exitCode: ExitCodeValue, message: string): void {
    this.io.stderr.write(`iscsi: ${message}\n`)
    if (this.exitCode === ExitCode.OK) this.exitCode = exitCode
  }

  /** Parse an `iscsi://` URL; `needLun` makes a missing LUN a usage error. */
  parseUrl(text: string, { needTarget = true, needLun = true } = {}): TargetUrl {
    if (!isUrl(text)) throw new UsageError(`not an iSCSI URL: '${text}' (iscsi://host[:port]/target-iqn/lun)`)
    let url: TargetUrl
    try {
      url = this.io.connector.parseUrl(text)
    } catch (error) {
      throw new UsageError(`invalid URL '${text}': ${error instanceof Error ? error.message : String(error)}`)
    }
    if (needTarget && (url.targetName === undefined || url.targetName === '')) {
      throw new UsageError(`URL names no target: '${text}' (iscsi://host[:port]/target-iqn/lun)`)
    }
    if (needLun && url.lun === undefined) throw new UsageError(`URL names no LUN: '${text}' (iscsi://host[:port]/target-iqn/lun)`)
    return url
  }

  /** A portal `host[:port]`, or the portal of an `iscsi://` URL. */
  parsePortalOrUrl(text: string): { portal: Portal; url?: TargetUrl } {
    if (isUrl(text)) {
      const url = this.parseUrl(text, { needTarget: false, needLun: false })
      return { portal: { host: url.host, port: url.port }, url }
    }
    return { portal: parsePortal(text) }
  }

  /** CHAP credentials: user from --chap-user or the URL; secret from the URL, $ISCSI_CHAP_SECRET or a prompt. */
  async chap(url?: TargetUrl): Promise<{ user: string; secret: string } | undefined> {
    const user = this.options.chapUser ?? url?.user
    if (user === undefined || user === '') return undefined
    const secret = url?.secret ?? this.io.env[SECRET_ENV]
    if (secret !== undefined && secret !== '') return { user, secret }
    if (this.io.stdin.isTTY !== true) {
      throw new UsageError(`CHAP user '${user}' needs a secret: set ${SECRET_ENV} (or run on a terminal to be asked)`)
    }
    this.#secretPrompt ??= promptSecret(this.io.stdin, this.io.stderr, `CHAP secret for ${user}: `)
    return { user, secret: await this.#secretPrompt }
  }

  /**
   * The session's ISID (RFC 7143 10.12.5). Random per run unless `stable`: persistent reservations belong to an
   * I_T nexus (initiator name + ISID), so `iscsi reserve` and a later `iscsi release` must present the same one.
   * A stable ISID is of the Random format (T=10b) with its other bits derived from the initiator name.
   */
  isid(stable: boolean): Buffer | undefined {
    if (this.options.isid) return this.options.isid
    if (!stable) return undefined
    const digest = createHash('sha256').update(`iscsi-cli:${this.options.initiatorName ?? hostname()}`).digest()
    const isid = Buffer.alloc(6)
    isid[0] = 0x80 | (digest[0]! & 0x3f)
    digest.copy(isid, 1, 1, 6)
    return isid
  }

  async connectOptions(url: TargetUrl, { stableIsid = false, noChap = false } = {}): Promise<ConnectOptions> {
    if (url.targetName === undefined) throw new UsageError('URL names no target')
    const chap = noChap ? undefined : await this.chap(url)
    const isid = this.isid(stableIsid)
    const mutualChap = url.targetUser !== undefined && url.targetSecret !== undefined ? { user: url.targetUser, secret: url.targetSecret } : undefined
    return {
      host: url.host,
      port: url.port,
      targetName: url.targetName,
      ...(this.options.initiatorName !== undefined ? { initiatorName: this.options.initiatorName } : {}),
      ...(isid ? { isid } : {}),
      ...(chap ? { chap } : {}),
      ...(mutualChap ? { mutualChap } : {}),
      // Unset: the initiator offers "None,CRC32C" and the target chooses.
      ...(this.options.headerDigest ? { headerDigest: true } : url.headerDigest !== undefined ? { headerDigest: url.headerDigest } : {}),
      ...(this.options.dataDigest ? { dataDigest: true } : url.dataDigest !== undefined ? { dataDigest: url.dataDigest } : {}),
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
    }
  }

  /** Log in to the URL's target. Login failures exit 3, connection failures 5 (see errors.ts). */
  async connect(url: TargetUrl, options: ConnectChoices = {}): Promise<CliSession> {
    const connectOptions = await this.connectOptions(url, options)
    return step('login', () => this.io.connector.connect(connectOptions))
  }

  /** Run `fn` in a session, then log out (a failed logout only matters when `fn` succeeded). */
  async withSession<T>(url: TargetUrl, fn: (session: CliSession) => Promise<T>, options: ConnectChoices = {}): Promise<T> {
    const session = await this.connect(url, options)
    let result: T
    try {
      result = await fn(session)
    } catch (error) {
      await session.logout().catch(() => undefined)
      throw error
    }
    await step('logout', () => session.logout())
    return result
  }

  /** Whether CHAP credentials were given (flag or URL), without asking for a secret. */
  hasChapUser(url?: TargetUrl): boolean {
    const user = this.options.chapUser ?? url?.user
    return user !== undefined && user !== ''
  }

  /** Throw if Ctrl-C was pressed. */
  checkAborted(): void {
    if (this.io.signal?.aborted === true) throw new CliError('ISCSI_CLI_INTERRUPTED', 'interrupted', ExitCode.FAILURE)
  }
}

/** Write to a stream, waiting for 'drain' when it is full. */
export async function writeAll(stream: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain')
}
