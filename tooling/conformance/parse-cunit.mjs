// Parses the verbose output of libiscsi's `iscsi-test-cu` (CUnit) into one record per test:
// { name: 'ALL.Suite.Test', outcome: 'pass' | 'skip' | 'fail', reason }.
// CUnit reports a skipped test as "passed", so a test whose output holds "[SKIPPED]" is a skip; "[FAILED]" or a
// closing "FAILED" is a failure. The output of one test runs from its "Test: NAME ..." line to the next one.

/** @param {string} output @param {string} family */
export function parseCunit(output, family = 'ALL') {
  /** @type {{ name: string, outcome: 'pass' | 'skip' | 'fail', reason: string }[]} */
  const tests = []
  let suite = ''
  /** @type {{ name: string, text: string[] } | undefined} */
  let current
  const finish = () => {
    if (!current) return
    const text = current.text.join('\n')
    let outcome = /\.\.\.\s*passed|^passed\s*$/m.test(text) ? 'pass' : 'fail'
    let reason = ''
    const failed = /\[FAILED\]\s*(.*)/.exec(text)
    const skipped = /\[SKIPPED\]\s*(.*)/.exec(text)
    if (failed || /^FAILED\s*$/m.test(text)) {
      outcome = 'fail'
      reason = failed?.[1]?.trim() ?? 'failed'
    } else if (skipped) {
      outcome = 'skip'
      reason = skipped[1]?.trim() ?? 'skipped'
    } else if (outcome === 'fail') {
      reason = 'no result (test aborted or target dropped the connection)'
    }
    tests.push({ name: `${family}.${suite}.${current.name}`, outcome: /** @type {'pass'|'skip'|'fail'} */ (outcome), reason })
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
