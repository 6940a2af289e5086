// Every node:diagnostics_channel name the packages and apps use, found by reading their sources: a channel added
// later is covered by the secret-leak test without anyone listing it there.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function sources(dir: string): string[] {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** Names like `iscsi:target:login` that appear as string literals in packages/*\/src and apps/*\/src. */
export function diagnosticsChannelNames(): string[] {
  const names = new Set<string>()
  for (const top of ['packages', 'apps']) {
    for (const project of readdirSync(join(ROOT, top))) {
      for (const file of sources(join(ROOT, top, project, 'src'))) {
        for (const match of readFileSync(file, 'utf8').matchAll(/['"`](iscsi:[a-z0-9-]+(?::[a-z0-9-]+)*)['"`]/g)) names.add(match[1]!)
      }
    }
  }
  return [...names].sort()
}
