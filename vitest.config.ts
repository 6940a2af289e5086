// One vitest run for the whole monorepo. Two projects: `unit` (pure, fast, no peers) and `interop` (real peers:
// libiscsi tools, tgtd, qemu-img; files named *.interop.test.ts). Workspace packages resolve to their sources so a
// test never runs against a stale dist.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))
const packages = ['pdu', 'negotiation', 'scsi', 'target', 'initiator']

const alias = packages.flatMap((name) => [
  { find: new RegExp(`^@iscsi-ts/${name}/testing$`), replacement: `${root}packages/${name}/src/testing.ts` },
  { find: new RegExp(`^@iscsi-ts/${name}$`), replacement: `${root}packages/${name}/src/index.ts` },
])

const resultsFile = process.env.ISCSI_TS_RESULTS

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: resultsFile ? ['default', ['json', { outputFile: resultsFile }]] : ['default'],
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tooling/**/*.test.ts'],
          exclude: ['**/*.interop.test.ts', '**/node_modules/**', '**/dist/**'],
          testTimeout: 20_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'interop',
          include: ['packages/*/src/**/*.interop.test.ts', 'apps/*/src/**/*.interop.test.ts', 'tooling/**/*.interop.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
