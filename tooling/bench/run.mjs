#!/usr/bin/env node
// `pnpm bench`: runs every micro-benchmark in tooling/bench (each a plain ESM script over the built packages) one
// after the other, so their figures never compete for the two cores. `pnpm bench NAME` runs just tooling/bench/NAME.mjs.
import { readdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')))
  .sort()

let failed = 0
for (const script of scripts) {
  console.log(`\n== ${script.replace(/\.mjs$/, '')} ==`)
  const res = spawnSync(process.execPath, ['--expose-gc', join(here, script)], { stdio: 'inherit' })
  if (res.status !== 0) failed += 1
}
process.exit(failed === 0 ? 0 : 1)
