// Module hooks for running the reliability tools outside vitest (node --import ./loader/register.mjs):
// - `@iscsi-ts/NAME` and `@iscsi-ts/NAME/testing` resolve to the workspace package, its sources (mode "src", the
//   same thing vitest's aliases do) or its built dist (mode "dist", what `pnpm fuzz:target` runs against);
// - TypeScript files are transpiled on load with the root `typescript` (types are only erased: the packages use
//   `import type` and no enums, so a per-file transpile is exact);
// - a relative `./x.js` from a TypeScript file finds `./x.ts` when there is no `./x.js` (the NodeNext convention).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = new URL('../../../', import.meta.url)
const PACKAGE = /^@iscsi-ts\/(pdu|negotiation|scsi|target|initiator)(\/testing)?$/
let mode = 'src'
let typescript
/** Transpiled files, keyed by path, size and mtime (a restarted child target skips the work). */
const cacheDir = join(tmpdir(), `iscsi-ts-reliability-${process.getuid?.() ?? 'user'}`)

function transpile(path) {
  const stat = statSync(path)
  const key = createHash('sha1').update(`${path}|${stat.size}|${stat.mtimeMs}`).digest('hex')
  const cached = join(cacheDir, `${key}.js`)
  if (existsSync(cached)) return readFileSync(cached, 'utf8')
  typescript ??= import('typescript').then((module) => module.default)
  return typescript.then((ts) => {
    const output = ts.transpileModule(readFileSync(path, 'utf8'), {
      fileName: path,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        inlineSourceMap: true,
        inlineSources: true,
      },
    }).outputText
    mkdirSync(cacheDir, { recursive: true })
    const temporary = `${cached}.${process.pid}.tmp`
    writeFileSync(temporary, output)
    renameSync(temporary, cached)
    return output
  })
}

export function initialize(data) {
  if (data !== undefined && (data.mode === 'src' || data.mode === 'dist')) mode = data.mode
}

export async function resolve(specifier, context, nextResolve) {
  const match = PACKAGE.exec(specifier)
  if (match !== null) {
    const name = match[1]
    const entry = match[2] === undefined ? 'index' : 'testing'
    const url = mode === 'src' ? new URL(`packages/${name}/src/${entry}.ts`, root) : new URL(`packages/${name}/dist/${entry}.js`, root)
    if (!existsSync(url)) {
      throw new Error(`${specifier}: ${fileURLToPath(url)} is missing${mode === 'dist' ? ' (run `pnpm build` first)' : ''}`)
    }
    return { url: url.href, shortCircuit: true }
  }
  const parent = context.parentURL
  if (parent !== undefined && parent.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js')) {
    const asJs = new URL(specifier, parent)
    if (!existsSync(asJs)) {
      const asTs = new URL(specifier.slice(0, -3) + '.ts', parent)
      if (existsSync(asTs)) return { url: asTs.href, shortCircuit: true }
    }
  }
  return nextResolve(specifier, context)
}

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = await transpile(fileURLToPath(url))
    return { format: 'module', source, shortCircuit: true }
  }
  return nextLoad(url, context)
}
