#!/usr/bin/env node
// `pnpm conformance`: libiscsi's iscsi-test-cu against our target, in each configuration the suite needs.
//
// For each configuration it starts the built `iscsi-target` app on a free loopback port, runs
//   iscsi-test-cu -d -S -t ALL URL URL2
// (URL2 names the same LUN through a second login, for the multipath tests), parses every test as pass, skip or
// fail, stops the target, and finally prints one table over all configurations. A test counts as covered when it
// passes in at least one configuration; the run fails when any configuration has a failure.
//
// Options: --config NAME (repeatable: run only these), --test REGEX (instead of ALL), --json FILE (write results),
// --markdown FILE (write the generated conformance table), --readme (put that table in README.md between its
// conformance markers), --timeout SECONDS (per configuration, default 900).
import { spawn } from 'node:child_process'
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../bench-compare/lib/net.mjs'
import { parseCunit } from './parse-cunit.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'apps', 'target', 'dist', 'bin.js')
const IQN = 'iqn.2026-11.io.iscsi-ts:conformance'
const CHAP_USER = 'conformance'
const CHAP_SECRET = 'conformance-secret-1234'

/**
 * Every test of ALL, with Sanitize.Reset run before Sanitize.Reservations. libiscsi 1.19's Sanitize.Reservations takes
 * a RESERVE(6) on the second (multipath) session and leaves it in place, so the next test, Sanitize.Reset, meets
 * RESERVATION CONFLICT on any target that honours SPC-2 reservations. iscsi-test-cu registers the comma-separated
 * patterns last first and matches them with fnmatch, so this list is ALL in its usual order but for that swap.
 */
const ALL_TESTS = [
  'ALL.St*', // StartStopUnit, the only suite after Sanitize
  'ALL.Sanitize.Reservations',
  'ALL.Sanitize.Reset',
  'ALL.Sanitize.Re[!s]*', // Readonly
  'ALL.Sanitize.[!R]*',
  'ALL.[!S]*',
].join(',')

/**
 * Each configuration: what the target serves, how the suite reaches it, and which tests it runs (`tests`, an
 * iscsi-test-cu selection: comma-separated, `*` wildcards). `meantFor` documents why the configuration exists.
 * @type {Array<{ name: string, meantFor: string, tests: string, yaml: (dir: string, port: number) => string, url: (port: number) => string }>}
 */
export const configurations = [
  {
    name: 'thin',
    meantFor: 'everything: a thin-provisioned 1 GiB disk (the default)',
    tests: ALL_TESTS,
    yaml: (dir, port) => config(dir, port, { thinProvisioning: true }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'physical-4k',
    // Not the default: libiscsi's GetLBAStatus.UnmapSingle asks the status of LBA i+1 yet wants the first descriptor
    // at i+LBPPB, which only agrees with SBC-3 (the first descriptor starts at the starting LBA) when LBPPB is 1.
    meantFor: 'tests that need LBPPB > 1: 512-byte logical blocks on 4 KiB physical blocks, as modern disks',
    tests: [
      'ALL.CompareAndWrite',
      'ALL.WriteSame10',
      'ALL.WriteSame16',
      'ALL.Unmap',
      'ALL.GetLBAStatus.Simple',
      'ALL.GetLBAStatus.BeyondEol',
      'ALL.ReadCapacity16',
      'ALL.Inquiry',
    ].join(','),
    yaml: (dir, port) => config(dir, port, { thinProvisioning: true, physicalBlockExponent: 3 }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'read-only',
    meantFor: 'write-protect tests on a read-only LUN',
    tests: [
      'ALL.ReadOnly',
      'ALL.*.WriteProtect',
      'ALL.*.ReadProtect',
      'ALL.*.VerifyProtect',
      'ALL.OrWrite.Protect',
      'ALL.Sanitize.Readonly',
      'ALL.ModeSense6',
      'ALL.Inquiry',
      'ALL.Read10',
      'ALL.Read16',
      'ALL.ReadCapacity16',
      'ALL.TestUnitReady',
    ].join(','),
    yaml: (dir, port) => config(dir, port, { readOnly: true }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'removable',
    meantFor: 'removable-medium tests (PreventAllow, StartStopUnit, NoMedia)',
    // Left out on purpose, with the reason the generated table prints.
    excluded: {
      'ALL.StartStopUnit.PwrCnd':
        'expects GOOD for reserved POWER CONDITION codes (4, 6, 8, 9, C-F); SPC-4 6.48 requires reserved values to be refused with INVALID FIELD IN CDB, as LIO does, and we follow SPC-4. (On a non-removable LU the test returns before sending them, so it passes in the other configurations.)',
    },
    tests: ['ALL.PreventAllow', 'ALL.StartStopUnit.Simple', 'ALL.StartStopUnit.NoLoej', 'ALL.NoMedia', 'ALL.TestUnitReady', 'ALL.Inquiry'].join(','),
    yaml: (dir, port) => config(dir, port, { removable: true }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'memory',
    // 16 MiB: 32768 blocks, so WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 (to the last LBA) from LBA 0 stays within
    // MAXIMUM WRITE SAME LENGTH (65535), which a 1 GiB LUN exceeds (ZeroBlocks skips there).
    meantFor: 'a 16 MiB RAM-disk LUN: atomic writes (WriteAtomic16), WRITE SAME to the last LBA (ZeroBlocks)',
    tests: ['ALL.WriteAtomic16', 'ALL.WriteSame10.ZeroBlocks', 'ALL.WriteSame16.ZeroBlocks', 'ALL.Inquiry', 'ALL.Read16', 'ALL.Write16'].join(','),
    yaml: (dir, port) => config(dir, port, { memory: true, size: '16M' }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'chap',
    meantFor: 'iSCSICHAP tests (CHAP-protected target)',
    tests: ALL_TESTS,
    yaml: (dir, port) => config(dir, port, { chap: true }),
    url: (port) => `iscsi://${CHAP_USER}%${CHAP_SECRET}@127.0.0.1:${port}/${IQN}/0`,
  },
  {
    name: 'digests',
    meantFor: 'everything again with header digests on',
    tests: ALL_TESTS,
    yaml: (dir, port) => config(dir, port, { digests: true }),
    url: (port) => `iscsi://127.0.0.1:${port}/${IQN}/0?header_digest=crc32c`,
  },
]

/** @param {string} dir @param {number} port @param {{ size?: string, thinProvisioning?: boolean, physicalBlockExponent?: number, readOnly?: boolean, removable?: boolean, memory?: boolean, chap?: boolean, digests?: boolean }} o */
function config(dir, port, o) {
  const lines = [
    `portals: ["127.0.0.1:${port}"]`,
    `targets:`,
    `  - name: ${IQN}`,
    `    luns:`,
    `      - lun: 0`,
    ...(o.memory
      ? [`        backstore: memory`, `        size: ${o.size ?? '1G'}`]
      : [`        backstore: file`, `        path: ${JSON.stringify(join(dir, 'disk.img'))}`, `        size: 1G`]),
    `        thinProvisioning: ${o.thinProvisioning ?? true}`,
    `        readOnly: ${o.readOnly ?? false}`,
    `        removable: ${o.removable ?? false}`,
    // A sanitize paced like a real medium's (1 GiB in 8 s): Sanitize.Reset checks it is still running 4 s in.
    `        sanitizeThroughput: 128M`,
    ...(o.physicalBlockExponent === undefined ? [] : [`        physicalBlockExponent: ${o.physicalBlockExponent}`]),
  ]
  if (o.chap) lines.push(`    auth:`, `      chap: { user: ${CHAP_USER}, secret: ${CHAP_SECRET} }`)
  // Tests sleep up to 60 s without reading their socket (Sanitize.Reset waits for the sanitize that way): a NOP-In
  // left unanswered that long must not end the session, or each reconnect is a new I_T nexus with a new 29/00.
  lines.push(`timers:`, `  nopInTimeout: 120s`)
  if (o.digests) lines.push(`limits:`, `  headerDigest: [CRC32C, None]`, `  dataDigest: [CRC32C, None]`)
  return lines.join('\n') + '\n'
}

/** Start the app; resolve once it logs 'listening'. */
function startTarget(configFile, dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--config', configFile, '--data', dataDir, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ISCSI_TS_LOG_FORMAT: 'json' },
    })
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`target did not start within 20 s:\n${out}`))
    }, 20_000)
    const onData = (chunk) => {
      out += chunk.toString()
      if (/listening/.test(out)) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        child.stdout.resume()
        resolve(child)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => (out += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`target exited with ${code} before listening:\n${out}`))
    })
  })
}

function stopTarget(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined)
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(undefined)
    })
    child.kill('SIGTERM')
  })
}

function runSuite(url, test, timeoutSeconds) {
  return new Promise((resolve) => {
    const args = ['-d', '-S', '-t', test, url, url]
    const child = spawn('iscsi-test-cu', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c.toString()))
    child.stderr.on('data', (c) => (out += c.toString()))
    const timer = setTimeout(() => {
      out += `\n[conformance] iscsi-test-cu killed after ${timeoutSeconds} s\n`
      child.kill('SIGKILL')
    }, timeoutSeconds * 1000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

/** Run one configuration: start the target, run the suite, stop. */
export async function runConfiguration(cfg, { test = cfg.tests, timeoutSeconds = 900 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `iscsi-ts-conformance-${cfg.name}-`))
  const port = await freePort()
  const configFile = join(dir, 'target.yaml')
  writeFileSync(configFile, cfg.yaml(dir, port))
  // The image exists before the target starts: a read-only LUN is never created by the target.
  const image = openSync(join(dir, 'disk.img'), 'w')
  ftruncateSync(image, 1024 ** 3)
  closeSync(image)
  const child = await startTarget(configFile, dir)
  try {
    const started = Date.now()
    const { out } = await runSuite(cfg.url(port), test, timeoutSeconds)
    const tests = parseCunit(out)
    return { name: cfg.name, seconds: (Date.now() - started) / 1000, tests, output: out }
  } finally {
    await stopTarget(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One row per test name over every configuration: covered when it passes in at least one. */
export function summarize(runs) {
  const names = new Set()
  for (const run of runs) for (const t of run.tests) names.add(t.name)
  const rows = [...names].sort().map((name) => {
    const per = {}
    for (const run of runs) {
      const t = run.tests.find((x) => x.name === name)
      per[run.name] = t ?? { outcome: 'absent', reason: '' }
    }
    const outcomes = Object.values(per).map((t) => t.outcome)
    const covered = outcomes.includes('pass')
    const failed = outcomes.includes('fail')
    const reasons = [...new Set(Object.values(per).filter((t) => t.outcome !== 'pass' && t.reason).map((t) => t.reason))]
    return { name, per, covered, failed, reasons }
  })
  return rows
}

export function markdownTable(runs, rows) {
  const head = `| test | ${runs.map((r) => r.name).join(' | ')} | covered |`
  const sep = `|---|${runs.map(() => '---').join('|')}|---|`
  const mark = { pass: 'pass', skip: 'skip', fail: '**FAIL**', absent: '-' }
  const cell = (t) => (t.outcome === 'pass' && t.warning ? 'pass\\*' : mark[t.outcome])
  const body = rows.map((row) => `| ${row.name} | ${runs.map((r) => cell(row.per[r.name])).join(' | ')} | ${row.covered ? 'yes' : 'no'} |`)
  const warned = runs.flatMap((r) => r.tests.filter((t) => t.outcome === 'pass' && t.warning).map((t) => `| ${r.name} | ${t.name} | ${t.warning.replace(/\|/g, '\\|')} |`))
  const notCovered = rows.filter((r) => !r.covered)
  const lines = [
    `Generated by \`pnpm conformance\` (libiscsi \`iscsi-test-cu -d -S -t ALL\`) on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `| configuration | pass | skip | fail | seconds |`,
    `|---|---|---|---|---|`,
    ...runs.map((r) => {
      const c = count(r.tests)
      return `| ${r.name} | ${c.pass} | ${c.skip} | ${c.fail} | ${r.seconds.toFixed(0)} |`
    }),
    '',
    `Covered (passes in at least one configuration): ${rows.length - notCovered.length} of ${rows.length}.`,
    '',
  ]
  if (notCovered.length > 0) {
    lines.push('Not covered, with the reason the suite gave:', '', '| test | reason |', '|---|---|')
    for (const row of notCovered) lines.push(`| ${row.name} | ${row.reasons.join('; ').replace(/\|/g, '\\|') || 'no result'} |`)
    lines.push('')
  }
  if (warned.length > 0) {
    lines.push('Passed, but the test\'s clean-up logged a failure (pass\\*):', '', '| configuration | test | message |', '|---|---|---|', ...warned, '')
  }
  const excluded = runs.flatMap((r) => Object.entries(configurations.find((c) => c.name === r.name)?.excluded ?? {}).map(([t, why]) => `| ${r.name} | ${t} | ${why.replace(/\|/g, '\\|')} |`))
  if (excluded.length > 0) {
    lines.push('Left out of a configuration on purpose (outside our control or against the standard):', '', '| configuration | test | reason |', '|---|---|---|', ...excluded, '')
  }
  lines.push('<details><summary>Every test</summary>', '', head, sep, ...body, '', '</details>', '')
  return lines.join('\n')
}

/** Replace the README's generated conformance section (between its two markers) with `table`. */
export function updateReadme(table) {
  const file = join(root, 'README.md')
  const text = readFileSync(file, 'utf8')
  const start = '<!-- conformance:start -->'
  const end = '<!-- conformance:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) throw new Error('README.md has no conformance markers')
  writeFileSync(file, `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`)
}

function count(tests) {
  const c = { pass: 0, skip: 0, fail: 0 }
  for (const t of tests) c[t.outcome] += 1
  return c
}

async function main() {
  const argv = process.argv.slice(2)
  const only = []
  let test
  let jsonFile
  let markdownFile
  let timeoutSeconds = 900
  let readme = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--config') only.push(argv[++i])
    else if (a === '--test') test = argv[++i]
    else if (a === '--json') jsonFile = argv[++i]
    else if (a === '--markdown') markdownFile = argv[++i]
    else if (a === '--timeout') timeoutSeconds = Number(argv[++i])
    else if (a === '--readme') readme = true
    else {
      console.error(`conformance: unknown argument ${a}`)
      process.exit(2)
    }
  }
  if (!existsSync(bin)) {
    console.error('conformance: apps/target is not built (run `pnpm build`)')
    process.exit(2)
  }
  const chosen = configurations.filter((c) => only.length === 0 || only.includes(c.name))
  const runs = []
  for (const cfg of chosen) {
    process.stdout.write(`[conformance] ${cfg.name}: ${cfg.meantFor} ... `)
    const run = await runConfiguration(cfg, { test, timeoutSeconds })
    const c = count(run.tests)
    console.log(`${c.pass} pass, ${c.skip} skip, ${c.fail} fail (${run.seconds.toFixed(0)} s)`)
    for (const t of run.tests.filter((x) => x.outcome === 'fail')) console.log(`    FAIL ${t.name}: ${t.reason}`)
    for (const t of run.tests.filter((x) => x.outcome === 'pass' && x.warning)) console.log(`    warn ${t.name}: clean-up logged: ${t.warning}`)
    runs.push(run)
  }
  const rows = summarize(runs)
  const failures = runs.reduce((n, r) => n + count(r.tests).fail, 0)
  const covered = rows.filter((r) => r.covered).length
  console.log(`\n[conformance] ${rows.length} tests, ${covered} covered, ${rows.length - covered} not covered, ${failures} failures over ${runs.length} configurations`)
  const table = markdownTable(runs, rows)
  if (markdownFile) writeFileSync(markdownFile, table)
  if (readme) updateReadme(table)
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ runs: runs.map(({ output: _o, ...r }) => r), rows }, null, 2))
  process.exit(failures === 0 ? 0 : 1)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`conformance: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
