import { describe, expect, it } from 'vitest'
import {
  AsyncEvent,
  isInitiatorOpcode,
  isOpcode,
  isTargetOpcode,
  LoginStatus,
  LogoutReason,
  LogoutResponseCode,
  Opcode,
  opcodeName,
  RejectReason,
  ScsiResponseCode,
  SnackType,
  TaskAttribute,
  TaskManagementFunction,
  TaskManagementResponseCode,
} from './opcode.js'

describe('opcode tables', () => {
  it('has the 18 RFC 7143 opcodes, initiator ones below 0x20', () => {
    const values = Object.values(Opcode)
    expect(values).toHaveLength(18)
    expect(new Set(values).size).toBe(18)
    for (const value of values) {
      expect(isOpcode(value)).toBe(true)
      expect(isInitiatorOpcode(value)).toBe(value < 0x20)
      expect(isTargetOpcode(value)).toBe(value >= 0x20)
    }
    expect(isOpcode(0x07)).toBe(false)
    expect(opcodeName(0x25)).toBe('DataIn')
    expect(opcodeName(0x3e)).toBeUndefined()
  })

  it('keeps code tables free of duplicates', () => {
    for (const table of [RejectReason, TaskManagementFunction, TaskManagementResponseCode, LogoutReason, LogoutResponseCode, AsyncEvent, SnackType, ScsiResponseCode, TaskAttribute]) {
      const values = Object.values(table)
      expect(new Set(values).size).toBe(values.length)
    }
    const statuses = Object.values(LoginStatus).map((s) => (s.statusClass << 8) | s.statusDetail)
    expect(new Set(statuses).size).toBe(statuses.length)
  })

  it('matches RFC 7143 code points', () => {
    expect(RejectReason.DataDigestError).toBe(0x02)
    expect(RejectReason.CommandNotSupported).toBe(0x05)
    expect(RejectReason.WaitingForLogout).toBe(0x0c)
    expect(TaskManagementFunction.TaskReassign).toBe(8)
    expect(TaskManagementResponseCode.FunctionRejected).toBe(255)
    expect(LoginStatus.SessionDoesNotExist).toEqual({ statusClass: 2, statusDetail: 0x0a })
    expect(TaskAttribute.Aca).toBe(4)
  })
})
