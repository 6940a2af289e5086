import { describe, expect, it } from 'vitest'
import { CheckCondition, StatusError } from '../errors.js'
import { ScsiStatus } from '../status.js'
import { CopyManagerStatus, copySense, encodeCopyStatus, encodeFailedSegmentDetails } from './copy-results.js'

describe('RECEIVE COPY RESULTS encoders (SPC-4 6.18)', () => {
  it('reports TRANSFER COUNT in the smallest unit that fits 32 bits', () => {
    expect([...encodeCopyStatus(CopyManagerStatus.COMPLETED, 1, 0xffffffff).subarray(7)]).toEqual([0x00, 0xff, 0xff, 0xff, 0xff])
    expect([...encodeCopyStatus(CopyManagerStatus.COMPLETED, 1, 0x100000000).subarray(7)]).toEqual([0x01, 0x00, 0x40, 0x00, 0x00]) // KiB
    expect([...encodeCopyStatus(CopyManagerStatus.IN_PROGRESS, 70000, 1).subarray(4, 7)]).toEqual([0x00, 0xff, 0xff]) // SEGMENTS PROCESSED saturates
  })

  it('has no sense data for a status other than CHECK CONDITION', () => {
    const sense = copySense(new StatusError(ScsiStatus.TASK_ABORTED, 'aborted'), 3)
    expect(sense).toHaveLength(0)
    expect(encodeFailedSegmentDetails({ status: ScsiStatus.TASK_ABORTED, sense })).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 56]), Buffer.alloc(52), Buffer.from([0x40, 0x00, 0x00, 0x00])]),
    )
  })

  it('builds fixed-format sense with the field pointer of an ILLEGAL REQUEST', () => {
    const error = new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { inCdb: false, byte: 300, bit: 3 }, information: 9n })
    expect(copySense(error, 2)).toEqual(
      Buffer.from([
        0xf0, // VALID, current error, fixed format
        0x00,
        0x05, // ILLEGAL REQUEST
        0x00, 0x00, 0x00, 0x09, // INFORMATION
        0x0a,
        0x00, 0x00, 0x00, 0x00, // COMMAND-SPECIFIC INFORMATION: only COPY ABORTED carries the segment
        0x26, 0x00,
        0x00,
        0x8b, // SKSV, C/D 0, BPV, BIT POINTER 3
        0x01, 0x2c, // FIELD POINTER 300
      ]),
    )
  })
})
