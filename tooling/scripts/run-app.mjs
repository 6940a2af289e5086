#!/usr/bin/env node
// `pnpm iscsi-target ARGS` and `pnpm iscsi ARGS` from the repo root: run a built app's bin with the caller's args.
import { existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const [appDir, binName, ...args] = process.argv.slice(2)
const bin = join(root, appDir, 'dist', 'bin.js')
if (!existsSync(bin)) {
  console.error(`${binName}: not built yet (run \`pnpm build\` first)`)
  process.exit(1)
}
const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() })
// Ctrl-C reaches the whole foreground process group, the child included: forwarding SIGINT too would deliver it
// twice (a second SIGINT means "force exit" to iscsi-target). SIGTERM and SIGHUP are sent to one pid: forward them.
process.on('SIGINT', () => {})
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal))
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1)))
