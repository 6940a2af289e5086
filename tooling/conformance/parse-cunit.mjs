// Parses the verbose output of libiscsi's `iscsi-test-cu` (CUnit) into one record per test:
// { name: 'ALL.Suite.Test', outcome: 'pass' | 'skip' | 'fail', reason, warning }.
// CUnit's verdict decides pass or fail; CUnit reports a skipped test as "passed", so a passed test whose output holds
// "[SKIPPED]" is a skip. The output of one test runs from its "Test: NAME ..." line to the next one.

/** @param {string} output @param {string} family */
export function parseCunit(output, family = 'ALL') {
  /** @type {{ name: string, outcome: 'pass' | 'skip' | 'fail', reason: string, warning: string }[]} */
  const tests = []
  let suite = ''
  /** @type {{ name: string, text: string[] } | undefined} */
  let current
  const finish = () => {
    if (!current) return
    const text = current.text.join('\n')
    // CUnit's own verdict: "passed" right after the "..." of the Test line or alone on a line, or "FAILED" alone on
    // a line. libiscsi also logs "[FAILED] ..." for commands a test expects to fail, so those lines are not the verdict.
    const verdict = /(?:^|\.\.\.)\s*(passed|FAILED)\b/m.exec(text)
    const failedMessage = /\[FAILED\]\s*(.*)/.exec(text)?.[1]?.trim()
    const skipped = /\[SKIPPED\]\s*(.*)/.exec(text)
    /** @type {'pass' | 'skip' | 'fail'} */
    let outcome
    let reason = ''
    let warning = ''
    if (!verdict) {
      outcome = 'fail'
      reason = 'no result (test aborted or target dropped the connection)'
    } else if (verdict[1] === 'FAILED') {
      outcome = 'fail'
      reason = failedMessage ?? /^\s+\d+\.\s+(.*)$/m.exec(text)?.[1]?.trim() ?? 'failed'
    } else if (skipped) {
      outcome = 'skip'
      reason = skipped[1]?.trim() ?? 'skipped'
    } else {
      outcome = 'pass'
      // A "[FAILED]" logged after the verdict comes from the test's clean-up: the test passed, but say so.
      const after = text.slice(verdict.index + verdict[0].length)
      warning = /\[FAILED\]\s*(.*)/.exec(after)?.[1]?.trim() ?? ''
    }
    tests.push({ name: `${family}.${suite}.${current.name}`, outcome, reason, warning })
    current = undefined
  }
  for (const line of output.split('\n')) {
    const s = /^Suite:\s*(\S+)/.exec(line)
    if (s) {
      finish()
      suite = s[1] ?? ''
      continue
    }
    const t = /^\s+Test:\s*(\S+)\s*\.\.\.(.*)$/.exec(line)
    if (t) {
      finish()
      current = { name: t[1] ?? '', text: [`...${t[2] ?? ''}`] }
      continue
    }
    if (/^Run Summary:/.test(line)) {
      finish()
      continue
    }
    if (current) current.text.push(line)
  }
  finish()
  return tests
}
