// A frozen copy of the built workspace for the length of a benchmark. Other work in the repository may rebuild a
// package while a run is going (tsup empties dist/ first), which would break a client started mid-way. The copy
// mirrors the layout: for every packages/* and apps/* with a dist/, its package.json, dist/ and node_modules/ (pnpm's
// relative symlinks, copied as links), plus a link to the root node_modules, so every import resolves inside the
// copy or to the installed dependencies. The copy is checked by loading the entry points once.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { tailLines } from './processes.mjs'

function copyOnce(repoRoot, dest) {
  rmSync(dest, { recursive: true, force: true })
  mkdirSync(dest, { recursive: true })
  symlinkSync(join(repoRoot, 'node_modules'), join(dest, 'node_modules'))
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const from = join(repoRoot, group, name)
      if (!existsSync(join(from, 'dist')) || !existsSync(join(from, 'package.json'))) continue
      const to = join(dest, group, name)
      mkdirSync(to, { recursive: true })
      cpSync(join(from, 'package.json'), join(to, 'package.json'))
      cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true })
      if (existsSync(join(from, 'node_modules'))) cpSync(join(from, 'node_modules'), join(to, 'node_modules'), { recursive: true, verbatimSymlinks: true })
    }
  }
}

/** Load every entry point the harnesses run; throws with node's message when one does not resolve. */
function check(dest, entries) {
  const script = entries.map((entry) => `await import(${JSON.stringify(pathToFileURL(join(dest, entry)).href)});`).join('')
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe', timeout: 30000 })
  } catch (error) {
    throw new Error(`the built copy does not load:\n${tailLines(String(error.stderr ?? error.message))}`)
  }
}

/**
 * Copy the built workspace of `repoRoot` to `dest` and check that `libraries` (paths relative to the root, imported)
 * and `bins` (run with --version: ESM resolves every static import before the bin runs) load. Retries a few times
 * when a concurrent rebuild catches the copy half-done.
 */
export async function snapshotBuild(repoRoot, dest, { libraries = [], bins = [] } = {}) {
  let lastError
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      for (const entry of [...libraries, ...bins]) {
        if (!existsSync(join(repoRoot, entry))) throw new Error(`${entry} is missing: build first (drop --no-build)`)
      }
      copyOnce(repoRoot, dest)
      check(dest, libraries)
      for (const bin of bins) {
        try {
          execFileSync(process.execPath, [join(dest, bin), '--version'], { stdio: 'pipe', timeout: 30000 })
        } catch (error) {
          throw new Error(`${bin} --version fails in the built copy:\n${tailLines(String(error.stderr ?? error.message))}`)
        }
      }
      return dest
    } catch (error) {
      lastError = error
      await new Promise((resolve) => setTimeout(resolve, 3000))
    }
  }
  throw lastError
}
