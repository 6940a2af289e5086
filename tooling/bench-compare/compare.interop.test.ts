// Smoke test of `pnpm bench:compare`: one 1-second round of 4 KiB random reads (libiscsi's iscsi-perf) against tgtd
// and against our target must print a table with positive IOPS, MB/s, CPU and RSS for both, and leave no process
// behind. Needs tgtd, tgtadm and iscsi-perf: missing ones fail the test under CI=true and skip it elsewhere.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { requirePeer, skipReason } from '../interop/peers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const peers = ['tgtd', 'tgtadm', 'iscsi-perf'] as const
const missing = peers.find((name) => requirePeer(name) === undefined)
const workDir = mkdtempSync(join(tmpdir(), 'bench-compare-test-'))

interface HarnessRun {
  code: number | null
  stdout: string
  stderr: string
}

function runHarness(args: readonly string[]): Promise<HarnessRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'tooling/bench-compare/compare.mjs'), ...args], { cwd: root, timeout: 55_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/** The numeric cells of the table row whose first cell is `side`, in column order. */
function rowNumbers(stdout: string, side: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${side} `))
  if (line === undefined) return []
  return line
    .slice(side.length)
    .trim()
    .split(/\s{2,}/)
    .map((cell) => Number(cell.replace(/,/g, '')))
}

/** Pids of processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline.includes(needle)) pids.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return pids
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true })
})

describe.skipIf(missing !== undefined)(`bench:compare smoke${missing === undefined ? '' : ` (${skipReason(missing)})`}`, () => {
  it('prints positive IOPS, MB/s, CPU and RSS for our target and tgtd, then cleans up', async () => {
    const jsonFile = join(workDir, 'result.json')
    const built = existsSync(join(root, 'apps/target/dist/bin.js'))
    const result = await runHarness([
      '--seconds', '1', '--rounds', '1', '--workloads', 'randread4k', '--size', '64M', '--warmup', '0',
      '--json', jsonFile, ...(built ? ['--no-build'] : []),
    ])
    expect(result.stderr).not.toContain('bench:compare failed')
    expect(result.code).toBe(0)

    // side, IOPS, spread (one round: '-'), MB/s, p50, p99 (iscsi-perf reports none), srv CPU s, srv us/IO, srv RSS MB,
    // cli CPU s, cli RSS MB
    for (const side of ['ours', 'tgt']) {
      const [iops, , mbps, , , srvCpu, , srvRss, cliCpu] = rowNumbers(result.stdout, side)
      expect(iops, `${side} IOPS`).toBeGreaterThan(0)
      expect(mbps, `${side} MB/s`).toBeGreaterThan(0)
      expect(srvCpu, `${side} server CPU`).toBeGreaterThan(0)
      expect(srvRss, `${side} server RSS`).toBeGreaterThan(0)
      expect(cliCpu, `${side} client CPU`).toBeGreaterThan(0)
    }
    expect(result.stdout).toMatch(/ours\/tgt\s+\d+\.\d\dx/)
    expect(result.stdout).toMatch(/target IOPS >= 1\.25x tgt \(randread4k\)/)

    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
      results: Array<{ id: string; sides: Array<{ label: string; median: { iops: number; bytesPerSecond: number } }> }>
    }
    const sides = json.results[0]?.sides ?? []
    expect(sides.map((s) => s.label)).toEqual(['ours', 'tgt'])
    for (const side of sides) expect(side.median.bytesPerSecond).toBeCloseTo(side.median.iops * 4096, -2)

    // Every process the harness started is gone, and so is its temp dir (our target's command line names it).
    const match = /working in (\S+)/.exec(result.stderr)
    expect(match).not.toBeNull()
    const dir = match![1]!
    expect(existsSync(dir)).toBe(false)
    expect(processesMentioning(dir)).toEqual([])
  }, 60_000)
})
