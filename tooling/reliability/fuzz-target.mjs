#!/usr/bin/env node
// `pnpm fuzz:target`: the network fuzzer against the built packages (pnpm build first; the root script does).
// The tool itself is TypeScript (src/fuzz/cli.ts), loaded through the hooks of loader/, which also point
// `@iscsi-ts/*` at the packages' dist (or at their sources with --packages src).
const packagesFlag = process.argv.indexOf('--packages')
process.env.ISCSI_TS_PACKAGES = packagesFlag >= 0 ? (process.argv[packagesFlag + 1] ?? 'dist') : (process.env.ISCSI_TS_PACKAGES ?? 'dist')
await import('./loader/register.mjs')
await import('./src/fuzz/cli.ts')
