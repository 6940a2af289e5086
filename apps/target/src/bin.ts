#!/usr/bin/env node
// iscsi-target: parse the command line, run the server until a signal stops it, exit with 0 (clean), 1 (runtime
// failure) or 2 (usage or configuration error).
// V8 tuning first, before the modules below load and the heap grows (heap-tuning.ts): they are imported dynamically
// so that a bundler cannot hoist them above it.
import './heap-tuning.js'

const { parseCommandLine } = await import('./cli.js')
const { ExitCode, exitCodeOf } = await import('./errors.js')
const { runServer } = await import('./server.js')

async function main(argv: readonly string[]): Promise<number> {
  const invocation = parseCommandLine(argv, {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
  })
  if (invocation.kind === 'exit') return invocation.code
  const config = await invocation.load()
  const server = await runServer({
    config,
    ...(invocation.configPath === undefined ? {} : { reloadConfig: invocation.load }),
    ...(invocation.logFormat === undefined ? {} : { logFormat: invocation.logFormat }),
  })
  return server.done
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = exitCodeOf(error)
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`iscsi-target: ${message}\n`)
    if (code === ExitCode.USAGE && !message.includes('--help')) process.stderr.write("(run 'iscsi-target --help' for usage)\n")
    process.exit(code)
  },
)
