// Shared tsup preset: ESM, .d.ts and sourcemaps, one entry per public subpath.
import { defineConfig } from 'tsup'

/** @param {Record<string, string>} entry */
export function preset(entry = { index: 'src/index.ts' }) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
  })
}
