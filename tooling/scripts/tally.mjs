#!/usr/bin/env node
// Reads vitest's JSON report (and extra lines `passed failed` appended by other suites, e.g. conformance) and prints
// the closing line CI reads: `N passed, N failed, N skipped`. Exits non-zero when anything failed, when the test
// command failed, or when no test ran at all.
import { existsSync, readFileSync } from 'node:fs'

const [jsonFile, tallyFile, statusArg] = process.argv.slice(2)
let passed = 0
let failed = 0
let skipped = 0
if (jsonFile && existsSync(jsonFile)) {
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // A test file that failed to load counts as a failure even though it has no test results.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1
  }
}
if (tallyFile && existsSync(tallyFile)) {
  for (const line of readFileSync(tallyFile, 'utf8').split('\n')) {
    const m = /^(\d+) (\d+)(?: (\d+))?$/.exec(line.trim())
    if (m) {
      passed += Number(m[1])
      failed += Number(m[2])
      skipped += Number(m[3] ?? 0)
    }
  }
}
const status = Number(statusArg ?? 0)
if (status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
