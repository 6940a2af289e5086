// Errors of the iscsi-target app. Each carries a string `code` and the process exit code it ends in, so bin.ts maps
// any failure to an exit status without inspecting messages: 2 for a bad command line or configuration (the user can
// fix it and retry), 1 for a failure at run time (a port in use, a disk that will not open).

/** The process exit codes of `iscsi-target` (documented in --help and the README). */
export const ExitCode = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** Base error of the app. */
export class TargetServerError extends Error {
  override readonly name: string = 'TargetServerError'
  readonly code: string
  readonly exitCode: ExitCodeValue

  constructor(code: string, exitCode: ExitCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.exitCode = exitCode
  }
}

/** A flag or argument the program cannot use. */
export class UsageError extends TargetServerError {
  override readonly name = 'UsageError'
  constructor(message: string) {
    super('ISCSI_ERR_USAGE', ExitCode.USAGE, message)
  }
}

/** One problem in a configuration: where it is (`targets[0].luns[1].size`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string
  readonly message: string
}

/** A configuration that does not validate; the message lists every issue as `path: message`, one a line. */
export class ConfigError extends TargetServerError {
  override readonly name = 'ConfigError'
  readonly issues: readonly ConfigIssue[]
  readonly source: string | undefined

  constructor(issues: readonly ConfigIssue[], source?: string, options?: { cause?: unknown }) {
    const where = source === undefined ? 'configuration' : source
    const lines = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    super('ISCSI_ERR_CONFIG', ExitCode.USAGE, `invalid ${where}:\n  ${lines.join('\n  ')}`, options)
    this.issues = issues
    this.source = source
  }
}

/** The server could not start or keep running (listen failed, a backstore failed to open). */
export class StartupError extends TargetServerError {
  override readonly name = 'StartupError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ISCSI_ERR_STARTUP', ExitCode.RUNTIME, message, options)
  }
}

/** The exit code for anything thrown: the app's errors know theirs, anything else is a runtime failure. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof TargetServerError ? error.exitCode : ExitCode.RUNTIME
}
