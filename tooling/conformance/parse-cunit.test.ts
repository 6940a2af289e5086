import { describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM helper without types
import { parseCunit } from './parse-cunit.mjs'

// Shapes taken from a real `iscsi-test-cu -d -t ALL` run against tgtd.
const sample = `
     CUnit - A unit testing framework for C - Version 2.1-3

Suite: Inquiry
  Test: Standard ...passed
  Test: BlockLimits ...    [SKIPPED] Logical unit is fully provisioned. Skipping test
passed
Suite: GetLBAStatus
  Test: BeyondEol ...    [FAILED] GET_LBA_STATUS successful but should have failed with ILLEGAL_REQUEST(0x05)/LBA_OUT_OF_RANGE(0x2100)
FAILED
  Test: Simple ...
    Send something
passed
  Test: Dropped ...
    the target went away
Suite: iSCSIdatasn
  Test: iSCSIDataSnInvalid ...    [FAILED] WRITE10 command failed with status 2 / sense key COMMAND ABORTED(0x0b)
    [FAILED] WRITE10 command failed with status 2 / sense key COMMAND ABORTED(0x0b)
passed
Suite: ModeSense6
  Test: Residuals ...passed    [FAILED] PRIN command: failed with sense. SENSE KEY:UNIT_ATTENTION(6)

Run Summary:    Type  Total    Ran Passed Failed Inactive
`

describe('parseCunit', () => {
  it('classifies passed, skipped, failed and unfinished tests', () => {
    const tests = parseCunit(sample) as Array<{ name: string; outcome: string; reason: string; warning: string }>
    expect(tests.map((t) => [t.name, t.outcome])).toEqual([
      ['ALL.Inquiry.Standard', 'pass'],
      ['ALL.Inquiry.BlockLimits', 'skip'],
      ['ALL.GetLBAStatus.BeyondEol', 'fail'],
      ['ALL.GetLBAStatus.Simple', 'pass'],
      ['ALL.GetLBAStatus.Dropped', 'fail'],
      // expected failures logged by the test itself do not override CUnit's verdict
      ['ALL.iSCSIdatasn.iSCSIDataSnInvalid', 'pass'],
      // a failure logged by the clean-up after the verdict is a warning on a passed test
      ['ALL.ModeSense6.Residuals', 'pass'],
    ])
    expect(tests[6]?.warning).toMatch(/^PRIN command: failed/)
    expect(tests[1]?.reason).toBe('Logical unit is fully provisioned. Skipping test')
    expect(tests[2]?.reason).toMatch(/^GET_LBA_STATUS successful/)
  })
})
