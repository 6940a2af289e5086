// The bash wrapper that reports a client's CPU time after it exits.
import { describe, expect, it } from 'vitest'
import { measuredRun, parseBashTimes } from './measured-run.mjs'

describe('parseBashTimes', () => {
  it("adds the user and system time of the children line (bash's `times`, second line)", () => {
    expect(parseBashTimes('0m0.004s 0m0.002s\n0m1.250s 0m0.310s\n')).toBeCloseTo(1.56, 6)
    expect(parseBashTimes('0m0.004s 0m0.002s\n2m3.500s 0m0.500s')).toBeCloseTo(124, 6)
    expect(parseBashTimes('')).toBeUndefined()
  })
})

describe.runIf(process.platform === 'linux')('measuredRun', () => {
  it("runs a client to completion and reports its exit code, output, CPU time and peak RSS", async () => {
    // Spin until the child itself has used 0.3 s of CPU (wall time would depend on the machine's load).
    const script = 'let x = 0; const t = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t); if (u.user + u.system >= 300000) break; x++ } console.log("done", x > 0)'
    const result = await measuredRun(process.execPath, ['-e', script], { timeoutMs: 20_000 })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('done true')
    expect(result.clientCpu).toBeGreaterThanOrEqual(0.29)
    expect(result.clientPeakRss).toBeGreaterThan(1024 * 1024)
  })

  it('passes a failing exit code through and kills a client that overstays', async () => {
    const failed = await measuredRun(process.execPath, ['-e', 'process.exit(7)'], { timeoutMs: 20_000 })
    expect(failed.code).toBe(7)
    await expect(measuredRun(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 500 })).rejects.toThrow(/did not finish/)
  })
})
