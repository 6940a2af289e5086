// How the initiator's real errors become one line and an exit code.
import { AbortError, ConnectionError, InitiatorError, LoginError, ProtocolError, ScsiCommandError, TimeoutError } from '@iscsi-ts/initiator'
import { decodeSense, encodeSense } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import { CliError, ExitCode, StepError, UsageError, describeCause, errorDocument, formatSense, formatStatus, step } from './errors.js'

function checkCondition(key: number, asc: number, ascq: number): ScsiCommandError {
  const senseData = encodeSense({ format: 'fixed', key, asc, ascq })
  return new ScsiCommandError('READ(16)', 1, 0x02, decodeSense(senseData), senseData)
}

describe('describeCause', () => {
  it('CHECK CONDITION: the decoded sense, exit 4', () => {
    expect(describeCause(checkCondition(0x5, 0x21, 0x00))).toMatchObject({
      message: 'ILLEGAL REQUEST: logical block address out of range (0x21/0x00)',
      exitCode: ExitCode.SCSI,
      sense: { key: 5, asc: 0x21, ascq: 0 },
      status: 2,
    })
  })

  it('sense codes the table lacks still read well', () => {
    expect(describeCause(checkCondition(0x3, 0x11, 0x01)).message).toMatch(/^MEDIUM ERROR: .* \(0x11\/0x01\)$/)
    expect(formatSense({ key: 0x9, asc: 0x80, ascq: 0x01 })).toBe('VENDOR SPECIFIC: vendor specific asc 0x80 ascq 0x01 (0x80/0x01)')
  })

  it('a status without sense names the status, exit 4', () => {
    expect(describeCause(new ScsiCommandError('WRITE(16)', 1, 0x18, undefined, undefined))).toMatchObject({ message: 'RESERVATION CONFLICT (status 0x18)', exitCode: 4 })
    expect(formatStatus(0x08)).toBe('BUSY (status 0x08)')
    expect(formatStatus(0x99)).toBe('status (status 0x99)')
  })

  it('login refusals exit 3', () => {
    expect(describeCause(new LoginError(2, 1))).toMatchObject({ code: 'ISCSI_ERR_LOGIN_AUTH', exitCode: ExitCode.LOGIN, message: 'login failed: authentication failure (0x0201)' })
    expect(describeCause(new LoginError(2, 3)).exitCode).toBe(ExitCode.LOGIN)
    expect(describeCause(new LoginError(3, 1)).exitCode).toBe(ExitCode.LOGIN)
  })

  it('connections, time-outs and protocol breakage exit 5', () => {
    expect(describeCause(new TimeoutError('command', 30000)).exitCode).toBe(ExitCode.CONNECTION)
    expect(describeCause(new ConnectionError('connection reset')).exitCode).toBe(ExitCode.CONNECTION)
    expect(describeCause(new ProtocolError('nonsense PDU')).exitCode).toBe(ExitCode.CONNECTION)
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:3260'), { code: 'ECONNREFUSED', address: '10.0.0.1', port: 3260 })
    expect(describeCause(refused)).toMatchObject({ exitCode: 5, message: 'connection refused by 10.0.0.1:3260' })
  })

  it('an aborted command reads as interrupted, exit 1', () => {
    expect(describeCause(new AbortError())).toMatchObject({ message: 'interrupted', exitCode: ExitCode.FAILURE })
  })

  it('a bad URL is a usage error; anything else exit 1', () => {
    expect(describeCause(new InitiatorError('ISCSI_ERR_URL', 'invalid iSCSI URL')).exitCode).toBe(ExitCode.USAGE)
    expect(describeCause(new Error('EACCES: permission denied')).exitCode).toBe(ExitCode.FAILURE)
    expect(describeCause('a string')).toMatchObject({ message: 'a string', exitCode: 1 })
  })
})

describe('step', () => {
  it('names the failed step once', async () => {
    await expect(step('read', () => Promise.reject(checkCondition(5, 0x24, 0)))).rejects.toThrow('read failed: ILLEGAL REQUEST: invalid field in cdb (0x24/0x00)')
    await expect(step('login', () => Promise.reject(new LoginError(2, 1)))).rejects.toThrow(/^login failed: authentication failure \(0x0201\)$/)
  })

  it('passes CliErrors through', async () => {
    const usage = new UsageError('bad')
    await expect(step('read', () => Promise.reject(usage))).rejects.toBe(usage)
  })

  it('the JSON error document carries the cause\'s sense and status', async () => {
    const error = await step('read', () => Promise.reject(checkCondition(5, 0x21, 0))).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StepError)
    expect(errorDocument(error)).toEqual({
      error: {
        code: 'ISCSI_ERR_SCSI_STATUS',
        message: 'read failed: ILLEGAL REQUEST: logical block address out of range (0x21/0x00)',
        exitCode: 4,
        sense: { key: 5, asc: 0x21, ascq: 0, text: 'ILLEGAL REQUEST: logical block address out of range (21/00)' },
        status: 2,
      },
    })
    expect(errorDocument(new CliError('ISCSI_CLI_X', 'boom', ExitCode.FAILURE))).toEqual({ error: { code: 'ISCSI_CLI_X', message: 'boom', exitCode: 1 } })
  })
})
