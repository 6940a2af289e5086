// `npx turbo run build` for just the workspace packages a harness runs (turbo adds their dependencies through
// `dependsOn: ["^build"]`), so a half-edited package elsewhere in the repository does not stop a benchmark.
import { spawnSync } from 'node:child_process'
import { tailLines } from './processes.mjs'

/** Build `packages` (workspace package names) and what they depend on; throws with turbo's output on failure. */
export function buildWorkspace(repoRoot, packages, log) {
  if (packages.length === 0) return
  const filters = packages.map((name) => `--filter=${name}`)
  log(`building ${packages.join(', ')} (npx turbo run build ${filters.join(' ')}) ...`)
  const result = spawnSync('npx', ['turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], { cwd: repoRoot, encoding: 'utf8' })
  if (result.status !== 0) {
    throw new Error(`the build failed (exit ${result.status ?? result.signal}):\n${tailLines((result.stdout ?? '') + (result.stderr ?? ''), 40)}`)
  }
}
