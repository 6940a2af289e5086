// libiscsi's iscsi-test-cu against our target, one test per configuration: every configuration must finish with
// zero failures (skips are allowed here; coverage across configurations is reported by `pnpm conformance`).
import { describe, expect, it } from 'vitest'
import { requirePeer } from '../interop/peers.js'
// @ts-expect-error plain ESM runner without type declarations
import { configurations, runConfiguration } from './run.mjs'

interface TestRecord { name: string; outcome: 'pass' | 'skip' | 'fail'; reason: string }
interface Configuration { name: string }

const suite = requirePeer('iscsi-test-cu')

describe.skipIf(suite === undefined)('iscsi-test-cu against iscsi-target, per configuration', () => {
  for (const cfg of configurations as Configuration[]) {
    it(`${cfg.name}: no failures`, async () => {
      const run = (await runConfiguration(cfg, { timeoutSeconds: 600 })) as { tests: TestRecord[] }
      expect(run.tests.length).toBeGreaterThan(0)
      const failures = run.tests.filter((t) => t.outcome === 'fail').map((t) => `${t.name}: ${t.reason}`)
      expect(failures).toEqual([])
    }, 700_000)
  }
})
