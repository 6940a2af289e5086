#!/usr/bin/env node
// The top functions by self time of V8 CPU profiles (`node --cpu-prof`):
//   node tooling/bench-compare/profile-summary.mjs FILE.cpuprofile... [--top N] [--json]
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadProfile, renderProfileSummary, summarizeProfile } from './lib/cpu-profile.mjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const args = process.argv.slice(2)
let top = 15
let json = false
const files = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i])
  else if (args[i] === '--json') json = true
  else if (args[i] === '-h' || args[i] === '--help') {
    process.stdout.write('Usage: node tooling/bench-compare/profile-summary.mjs FILE.cpuprofile... [--top N] [--json]\n')
    process.exit(0)
  } else files.push(args[i])
}
if (files.length === 0 || !Number.isInteger(top) || top < 1) {
  process.stderr.write('Usage: node tooling/bench-compare/profile-summary.mjs FILE.cpuprofile... [--top N] [--json]\n')
  process.exit(2)
}
try {
  for (const file of files) {
    const summary = summarizeProfile(loadProfile(file), { repoRoot })
    if (json) process.stdout.write(`${JSON.stringify({ file, ...summary, functions: summary.functions.slice(0, top) }, null, 2)}\n`)
    else process.stdout.write(`${file}\n${renderProfileSummary(summary, top)}\n\n`)
  }
} catch (error) {
  process.stderr.write(`profile-summary: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
