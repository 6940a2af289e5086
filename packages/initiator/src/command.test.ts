import { describe, expect, it } from 'vitest'
import { Opcode, type AsyncMessagePdu } from '@iscsi-ts/pdu'
import { asyncEventInfo } from './async-event.js'
import { isRepeatable, senseKeyOf, taskAttributeCodes } from './command.js'

describe('command rules', () => {
  it('reissues reads and writes after a loss, never COMPARE AND WRITE or PERSISTENT RESERVE OUT', () => {
    for (const opcode of [0x28, 0x88, 0x2a, 0x8a, 0x12, 0x35, 0x41, 0x93, 0x42, 0x9e, 0xa0, 0x5e]) expect(isRepeatable(Buffer.from([opcode]))).toBe(true)
    for (const opcode of [0x89, 0x5f, 0x83, 0xff, 0x48]) expect(isRepeatable(Buffer.from([opcode]))).toBe(false)
  })

  it('reads the sense key of fixed and descriptor sense, and nothing from garbage', () => {
    // Fixed format: response code 0x70, key in byte 2 (SPC-4 4.5.3).
    expect(senseKeyOf(Buffer.from([0x70, 0, 0x06, 0, 0, 0, 0, 10]))).toBe(6)
    expect(senseKeyOf(Buffer.from([0xf1, 0, 0x23]))).toBe(3)
    // Descriptor format: response code 0x72, key in byte 1 (SPC-4 4.5.2).
    expect(senseKeyOf(Buffer.from([0x72, 0x05, 0x24, 0x00]))).toBe(5)
    expect(senseKeyOf(Buffer.from([0x70]))).toBeUndefined()
    expect(senseKeyOf(Buffer.from([0x12, 0x34, 0x56]))).toBeUndefined()
    expect(senseKeyOf(undefined)).toBeUndefined()
  })

  it('maps task attributes to the ATTR codes of RFC 7143 11.3.1.4', () => {
    expect(taskAttributeCodes).toEqual({ untagged: 0, simple: 1, ordered: 2, 'head-of-queue': 3, aca: 4 })
  })
})

describe('asyncEventInfo', () => {
  const base: AsyncMessagePdu = {
    opcode: Opcode.AsyncMessage,
    lun: 0x0001000000000000n,
    statSN: 1,
    expCmdSN: 1,
    maxCmdSN: 1,
    asyncEvent: 0,
    asyncVCode: 0,
    parameter1: 1,
    parameter2: 2,
    parameter3: 3,
    data: Buffer.from([0, 18, 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2a, 0x09, 0, 0, 0, 0]),
  }

  it('decodes a SCSI event with its LUN and sense', () => {
    const info = asyncEventInfo(base)
    expect(info).toMatchObject({ event: 0, name: 'scsi-event', lun: 1, parameter1: 1, parameter2: 2, parameter3: 3 })
    expect(info.sense).toMatchObject({ key: 6, asc: 0x2a, ascq: 0x09 })
  })

  it('names the other events and tolerates an undecodable LUN', () => {
    const logout = asyncEventInfo({ ...base, asyncEvent: 1, data: Buffer.alloc(0) })
    expect(logout.name).toBe('logout-requested')
    expect(logout.sense).toBeUndefined()
    expect(asyncEventInfo({ ...base, asyncEvent: 3, lun: 0xc000000000000000n, data: Buffer.alloc(0) })).toMatchObject({ name: 'session-drop', lun: undefined })
    expect(asyncEventInfo({ ...base, asyncEvent: 77, data: Buffer.alloc(0) }).name).toBe('unknown')
  })
})
