// Summaries of V8 CPU profiles (`node --cpu-prof` writes them as .cpuprofile JSON: a call tree of nodes with call
// frames, the sampled node id of every tick and the time between ticks). Self time of a function is the time of the
// samples taken while it was on top of the stack; total time counts a sample once for every distinct function on
// its stack. Functions are keyed by name and location; a location inside a built dist file is traced back to its
// source file through the `// src/file.ts` banners tsup (esbuild) writes before each module it bundles.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'
import { fmt, renderTable } from './report.mjs'

/**
 * @typedef {{ name: string, location: string, category: string, selfMs: number, totalMs: number }} FunctionTime
 * @typedef {{ category: string, selfMs: number }} CategoryTime
 * @typedef {{ totalMs: number, idleMs: number, functions: FunctionTime[], categories: CategoryTime[] }} ProfileSummary
 */

/** Read and check a .cpuprofile file. */
export function loadProfile(path) {
  const profile = JSON.parse(readFileSync(path, 'utf8'))
  if (!Array.isArray(profile?.nodes) || !Array.isArray(profile?.samples) || !Array.isArray(profile?.timeDeltas)) {
    throw new Error(`${path} is not a V8 CPU profile`)
  }
  return profile
}

/** Map (file path, 0-based line) to the bundled source file named by the nearest `// src/...` banner above it. */
function sourceLocator() {
  const banners = new Map()
  return (path, line) => {
    if (!banners.has(path)) {
      const marks = []
      try {
        const lines = readFileSync(path, 'utf8').split('\n')
        lines.forEach((text, index) => {
          const match = /^\/\/ (src\/\S+\.[cm]?[jt]sx?)$/.exec(text)
          if (match) marks.push([index, match[1]])
        })
      } catch {
        // unreadable: no banners
      }
      banners.set(path, marks)
    }
    const marks = banners.get(path)
    let found
    for (const [index, file] of marks) {
      if (index > line) break
      found = file
    }
    return found
  }
}

/** Where a call frame lives, short: `packages/pdu/src/framer.ts`, `node:internal/...`, or '' for native frames. */
function describeLocation(frame, repoRoot, locate) {
  const url = frame.url ?? ''
  if (url === '') return ''
  if (!url.startsWith('file://')) return url
  let path
  try {
    path = fileURLToPath(url)
  } catch {
    return url
  }
  if (path.includes('/node_modules/')) return path.slice(path.lastIndexOf('/node_modules/') + '/node_modules/'.length)
  // A workspace package's build, wherever it ran from (the repository or a frozen copy of its build).
  const dist = /(?:^|\/)((?:packages|apps)\/[^/]+)\/dist\/[^/]+\.js$/.exec(path)
  if (dist) {
    const source = locate(path, frame.lineNumber ?? 0)
    return source !== undefined ? `${dist[1]}/${source}` : `${dist[1]}/dist`
  }
  return repoRoot === undefined ? path : relative(repoRoot, path)
}

/** Which bucket a location belongs to: a workspace package, a dependency, node internals, or V8/native. */
function categoryOf(location, name) {
  if (name === '(garbage collector)') return 'GC'
  if (name === '(idle)') return 'idle'
  if (name === '(program)') return 'V8/native (program)'
  const pkg = /^(packages|apps)\/([^/]+)\//.exec(location)
  if (pkg) return `${pkg[1]}/${pkg[2]}`
  if (location.startsWith('node:')) return 'node internals'
  if (location === '') return 'native'
  return location.split('/')[0] ?? location
}

/**
 * Summarize a profile: functions sorted by self time, and self time per category.
 * @param {{ nodes: any[], samples: number[], timeDeltas: number[] }} profile
 * @param {{ repoRoot?: string }} [options]
 * @returns {ProfileSummary}
 */
export function summarizeProfile(profile, { repoRoot } = {}) {
  const locate = sourceLocator()
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const keyOf = new Map()
  /** @type {Map<string, FunctionTime>} */
  const functions = new Map()
  for (const node of profile.nodes) {
    const frame = node.callFrame ?? {}
    const name = frame.functionName || '(anonymous)'
    const location = describeLocation(frame, repoRoot, locate)
    const line = frame.url ? `:${(frame.lineNumber ?? 0) + 1}` : ''
    const key = `${name} ${frame.url ?? ''}${line}`
    keyOf.set(node.id, key)
    if (!functions.has(key)) functions.set(key, { name, location, category: categoryOf(location, name), selfMs: 0, totalMs: 0 })
  }
  // timeDeltas[i] is the time since the previous sample; the time a sample stands for is the gap to the next one.
  let totalMs = 0
  let idleMs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
    if (ms <= 0) continue
    totalMs += ms
    const top = functions.get(keyOf.get(id))
    if (top === undefined) continue
    top.selfMs += ms
    if (top.name === '(idle)') idleMs += ms
    const seen = new Set()
    for (let cursor = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const key = keyOf.get(cursor)
      if (seen.has(key)) continue
      seen.add(key)
      const fn = functions.get(key)
      if (fn !== undefined && byId.get(cursor)?.callFrame?.functionName !== '(root)') fn.totalMs += ms
    }
  }
  const list = [...functions.values()].filter((f) => f.selfMs > 0 || f.totalMs > 0).sort((a, b) => b.selfMs - a.selfMs)
  const categories = new Map()
  for (const f of list) categories.set(f.category, (categories.get(f.category) ?? 0) + f.selfMs)
  return {
    totalMs,
    idleMs,
    functions: list,
    categories: [...categories.entries()].map(([category, selfMs]) => ({ category, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  }
}

/**
 * The top `count` functions by self time and the self time per category, as text.
 * @param {ProfileSummary} summary
 * @param {number} [count]
 */
export function renderProfileSummary(summary, count = 15) {
  const busy = summary.totalMs - summary.idleMs
  const pct = (ms) => (busy > 0 ? `${((ms / busy) * 100).toFixed(1)}%` : '-')
  const top = summary.functions.filter((f) => f.name !== '(idle)').slice(0, count)
  const functions = renderTable(
    [{ title: '#' }, { title: 'self ms' }, { title: 'self %' }, { title: 'total %' }, { title: 'function', align: 'left' }, { title: 'where', align: 'left' }],
    top.map((f, i) => [String(i + 1), fmt(f.selfMs), pct(f.selfMs), pct(f.totalMs), f.name, f.location]),
  )
  const categories = renderTable(
    [{ title: 'self time by area', align: 'left' }, { title: 'ms' }, { title: '% of busy' }],
    summary.categories.filter((c) => c.category !== 'idle' && c.selfMs >= busy / 1000).map((c) => [c.category, fmt(c.selfMs), pct(c.selfMs)]),
  )
  return [
    `profiled ${fmt(summary.totalMs)} ms, busy ${fmt(busy)} ms (idle ${fmt(summary.idleMs)} ms); percentages are of busy time`,
    functions,
    '',
    categories,
  ].join('\n')
}
