#!/usr/bin/env node
// The README's two quickstart commands, runnable with nothing but Node.js and npm:
//   npx --yes pnpm@10.34.8 run quickstart:target   -> install, build, run the target on its embedded default
//   npx --yes pnpm@10.34.8 run quickstart:test     -> install the real peers, install, build, run every test
import { spawnSync } from 'node:child_process'

const pnpm = process.env.npm_execpath
const mode = process.argv[2]
const extra = process.argv.slice(3)

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  if (res.status !== 0) process.exit(res.status ?? 1)
}
function runPnpm(args) {
  if (pnpm && /\.c?js$/.test(pnpm)) run(process.execPath, [pnpm, ...args])
  else run(pnpm ?? 'pnpm', args)
}

runPnpm(['install', '--frozen-lockfile'])
if (mode === 'test') {
  run('bash', ['tooling/scripts/install-peers.sh'])
  runPnpm(['test', ...extra])
} else if (mode === 'target') {
  runPnpm(['build'])
  runPnpm(['iscsi-target', ...extra])
} else {
  console.error('usage: quickstart.mjs test|target')
  process.exit(2)
}
