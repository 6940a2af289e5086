// bench against an in-memory LUN: every mode issues the right commands, the numbers add up, writes need --force.
import { describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, runCli } from '../testing/memory-target.js'
import type { BenchResult } from './bench.js'
import { formatBench } from './bench.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL = `iscsi://127.0.0.1/${TARGET}/0`

function setup(): { connector: MemoryConnector; lun: MemoryLun } {
  const connector = new MemoryConnector()
  const lun = new MemoryLun({ size: 4 * 1024 * 1024 })
  connector.addTarget(TARGET).luns.set(0, lun)
  return { connector, lun }
}

describe('bench', () => {
  it.each(['read', 'randread'])('%s reports IOPS, bandwidth and ordered percentiles', async (rw) => {
    const { connector, lun } = setup()
    const r = await runCli(['--json', 'bench', URL, '--rw', rw, '--time', '200ms', '--qd', '4', '--bs', '8k'], connector)
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as BenchResult
    expect(result).toMatchObject({ rw, ioSize: 8192, queueDepth: 4, blockSize: 512, regionBytes: 4 * 1024 * 1024 })
    expect(result.ios).toBeGreaterThan(0)
    expect(result.ios).toBe(lun.counts.read)
    expect(result.bytes).toBe(result.ios * 8192)
    expect(result.iops).toBeCloseTo(result.ios / result.seconds, 3)
    expect(result.seconds).toBeGreaterThanOrEqual(0.2)
    const l = result.latencyUs
    expect(l.min).toBeGreaterThan(0)
    expect(l.min).toBeLessThanOrEqual(l.p50)
    expect(l.p50).toBeLessThanOrEqual(l.p90)
    expect(l.p90).toBeLessThanOrEqual(l.p99)
    expect(l.p99).toBeLessThanOrEqual(l['p99.9'])
    expect(l['p99.9']).toBeLessThanOrEqual(l.max)
  })

  it('randwrite with --force writes within --size only', async () => {
    const { connector, lun } = setup()
    const r = await runCli(['--json', 'bench', URL, '--rw', 'randwrite', '--force', '--time', '150ms', '--size', '64k', '--bs', '4k'], connector)
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as BenchResult
    expect(result.ios).toBe(lun.counts.write)
    expect(result.regionBytes).toBe(65536)
    expect(lun.mapped.subarray(65536 / 512).every((m) => m === 0)).toBe(true)
    expect(lun.mapped.subarray(0, 65536 / 512).some((m) => m === 1)).toBe(true)
  })

  it('sequential write walks the region in order and wraps', async () => {
    const { connector, lun } = setup()
    const r = await runCli(['--json', 'bench', URL, '--rw', 'write', '--force', '--time', '100ms', '--size', '16k', '--bs', '4k', '--qd', '1'], connector)
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as BenchResult).ios).toBeGreaterThan(4)
    expect(lun.mapped.subarray(0, 32).every((m) => m === 1)).toBe(true)
    expect(lun.mapped[32]).toBe(0)
  })

  it('Ctrl-C ends the run early and still reports what was measured', async () => {
    const { connector, lun } = setup()
    const controller = new AbortController()
    lun.onCommand = () => {
      if (lun.counts.read === 50) controller.abort()
    }
    const started = Date.now()
    const r = await runCli(['--json', 'bench', URL, '--time', '20s', '--qd', '2'], connector, { signal: controller.signal })
    expect(r.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
    expect((JSON.parse(r.stdout) as BenchResult).ios).toBeGreaterThanOrEqual(50)
  })

  it('rejects an I/O size that is not a block multiple', async () => {
    const { connector } = setup()
    const r = await runCli(['bench', URL, '--bs', '1000', '--time', '100ms'], connector)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--bs must be a multiple of the LUN's block size (512)")
  })

  it('a failing command ends the run with its error', async () => {
    const { connector, lun } = setup()
    let n = 0
    lun.onCommand = () => {
      if (++n === 20) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' })
    }
    const r = await runCli(['bench', URL, '--time', '2s'], connector)
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('iscsi: read failed: connection reset\n')
  })

  it('prints a human report (golden)', () => {
    const text = formatBench({
      rw: 'randread',
      blockSize: 512,
      ioSize: 4096,
      queueDepth: 32,
      regionBytes: 268435456,
      seconds: 10,
      ios: 450000,
      bytes: 1843200000,
      iops: 45000,
      bytesPerSecond: 184320000,
      latencyUs: { min: 120, mean: 700.5, max: 5100, stddev: 80, p50: 650, p90: 980, p99: 1800, 'p99.9': 3200 },
    })
    expect(text).toBe(
      [
        'randread: bs=4 KiB qd=32 time=10.00s region=256 MiB',
        'IOPS:      45000',
        'bandwidth: 184 MB/s (176 MiB/s)',
        'I/Os:      450000 (1.7 GiB)',
        'latency:   min 120 us, avg 701 us, max 5.10 ms, stddev 80.0 us',
        '  p50:     650 us',
        '  p90:     980 us',
        '  p99:     1.80 ms',
        '  p99.9:   3.20 ms',
      ].join('\n'),
    )
  })
})
