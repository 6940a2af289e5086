// Self and total time of a small hand-made V8 CPU profile.
import { describe, expect, it } from 'vitest'
import { renderProfileSummary, summarizeProfile } from './cpu-profile.mjs'

// root -> main -> { crc32c, encode -> crc32c }; plus (idle) and (garbage collector) under root.
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, scriptId: '1', url, lineNumber, columnNumber: 0 })
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('main', 'node:internal/main', 10), children: [3, 4] },
    { id: 3, callFrame: frame('crc32c', 'file:///nowhere/packages/pdu/dist/chunk.js', 5) },
    { id: 4, callFrame: frame('encode', 'file:///nowhere/packages/pdu/dist/chunk.js', 50), children: [7] },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('crc32c', 'file:///nowhere/packages/pdu/dist/chunk.js', 5) },
  ],
  startTime: 0,
  endTime: 7000,
  // Each sample stands for the time to the next one: 1 ms each here.
  samples: [3, 3, 7, 4, 5, 6, 2, 3],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
}

describe('summarizeProfile', () => {
  it('adds self time per function over every node of it, and total time once per stack', () => {
    const summary = summarizeProfile(profile)
    const byName = Object.fromEntries(summary.functions.map((f) => [f.name, f]))
    expect(summary.totalMs).toBe(7)
    expect(summary.idleMs).toBe(1)
    expect(byName.crc32c!.selfMs).toBe(3)
    expect(byName.encode!.selfMs).toBe(1)
    expect(byName.encode!.totalMs).toBe(2)
    expect(byName.main!.totalMs).toBe(5)
    expect(byName.main!.category).toBe('node internals')
    expect(byName['(garbage collector)']!.category).toBe('GC')
    expect(summary.functions[0]!.name).toBe('crc32c')
  })

  it('renders the top functions with percentages of busy time', () => {
    const text = renderProfileSummary(summarizeProfile(profile), 2)
    expect(text).toContain('busy 6 ms (idle 1 ms)')
    expect(text).toMatch(/1\s+3\s+50\.0%\s+50\.0%\s+crc32c/)
    expect(text).not.toContain('(idle)  ')
  })
})
