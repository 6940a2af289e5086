// procfs parsing and a live look at this very process.
import { describe, expect, it } from 'vitest'
import { ProcessMonitor, cpuSeconds, memory, parseStatTicks, parseStatusField } from './proc-stats.mjs'

describe('parseStatTicks', () => {
  it('adds utime (field 14) and stime (field 15), even with spaces and parentheses in the command name', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 5000'
    expect(parseStatTicks(stat)).toBe(1234 + 567)
  })
  it('rejects text that is not a stat line', () => {
    expect(() => parseStatTicks('garbage')).toThrow(/malformed/)
    expect(() => parseStatTicks('1 (x) S 1 2')).toThrow(/malformed/)
  })
})

describe('parseStatusField', () => {
  it('reads a kB field in bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  140000 kB\nVmRSS:\t  120000 kB\n'
    expect(parseStatusField(status, 'VmRSS')).toBe(120000 * 1024)
    expect(parseStatusField(status, 'VmHWM')).toBe(140000 * 1024)
    expect(parseStatusField(status, 'VmSwap')).toBeUndefined()
  })
})

describe.runIf(process.platform === 'linux')('live /proc', () => {
  it('sees this process using CPU and memory, and nothing for a pid that does not exist', () => {
    let spin = 0
    const monitor = new ProcessMonitor(process.pid, 10).start()
    // Spin for 100 ms of this process's own CPU time (wall time would depend on the machine's load).
    const start = process.cpuUsage()
    for (;;) {
      const used = process.cpuUsage(start)
      if (used.user + used.system >= 100_000) break
      spin += 1
    }
    const result = monitor.stop()
    expect(spin).toBeGreaterThan(0)
    expect(result.cpuSeconds).toBeGreaterThan(0)
    expect(result.peakRss).toBeGreaterThan(1024 * 1024)
    expect(result.hwm).toBeGreaterThanOrEqual(result.peakRss)
    expect(cpuSeconds(2 ** 30)).toBeUndefined()
    expect(memory(2 ** 30)).toBeUndefined()
  })
})
