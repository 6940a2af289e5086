import { channel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogLevel } from './config.js'
import { Channel } from './events.js'
import { createLogger, formatPretty, subscribeLogs } from './logging.js'

function capture(level: LogLevel = 'info') {
  const lines: string[] = []
  const logger = createLogger({ level, format: 'json', sink: { write: (line: string) => lines.push(line) } })
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, lines, records }
}

let stop: (() => void) | undefined
afterEach(() => {
  stop?.()
  stop = undefined
})

describe('createLogger', () => {
  it('writes one JSON object a line with level, time and message', () => {
    const { logger, lines, records } = capture()
    logger.info({ portals: ['127.0.0.1:3260'] }, 'listening')
    logger.debug('hidden at info')
    expect(lines).toHaveLength(1)
    expect(lines[0]?.endsWith('\n')).toBe(true)
    expect(records()[0]).toMatchObject({ level: 30, msg: 'listening', portals: ['127.0.0.1:3260'], pid: process.pid })
    expect(typeof records()[0]?.time).toBe('string')
  })

  it('redacts secrets at any depth, also inside arrays', () => {
    const { logger, lines } = capture()
    logger.info(
      {
        secret: 'top-level-secret',
        auth: { chap: { user: 'alice', secret: 'nested-secret-1' } },
        targets: [{ auth: { mutual: { user: 't', secret: 'in-an-array-2' } } }],
        password: 'a-password-3',
      },
      'config',
    )
    const line = lines.join('')
    for (const secret of ['top-level-secret', 'nested-secret-1', 'in-an-array-2', 'a-password-3']) expect(line).not.toContain(secret)
    expect(line).toContain('"user":"alice"')
    expect(line).toContain('[redacted]')
  })
})

describe('formatPretty', () => {
  it('renders a JSON line as time, level, message and fields', () => {
    const line = JSON.stringify({ level: 40, time: '2026-11-01T12:34:56.789Z', pid: 1, msg: 'login failed', initiator: 'iqn.x', status: '0x0201', reason: 'bad secret', portals: ['a:1', 'b:2'] })
    expect(formatPretty(line)).toBe('12:34:56.789 WARN  login failed initiator=iqn.x status=0x0201 reason="bad secret" portals=a:1,b:2\n')
    expect(formatPretty(line, true)).toContain('\x1b[33mWARN \x1b[0m')
    expect(formatPretty('not json\n')).toBe('not json\n')
  })

  it('is what a pretty logger writes', () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'info', format: 'pretty', color: false, sink: { write: (line: string) => lines.push(line) } })
    logger.error({ err: new Error('disk on fire') }, 'failed')
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR failed err="disk on fire"\n$/)
  })
})

describe('subscribeLogs', () => {
  it('logs one line per login, login failure, logout and error with the session identity', () => {
    const { logger, records } = capture()
    stop = subscribeLogs(logger)
    const session = { initiatorName: 'iqn.1994-05.com.redhat:client', targetName: 'iqn.2026-11.io.iscsi-ts:default', isid: '0x400001370000', tsih: 7 }
    channel(Channel.login).publish({ event: 'success', ...session, type: 'Normal', remote: '127.0.0.1:50000' })
    channel(Channel.login).publish({ event: 'failure', ...session, tsih: 0, type: 'Normal', remote: '127.0.0.1:50001', statusClass: 2, statusDetail: 1, reason: 'CHAP response mismatch' })
    channel(Channel.logout).publish({ ...session, reason: 'close-session' })
    channel(Channel.error).publish({ kind: 'digest', message: 'header digest mismatch', remote: '127.0.0.1:50000', code: 'ISCSI_ERR_PDU_DIGEST' })
    channel(Channel.connection).publish({ event: 'open', remote: '127.0.0.1:50000', local: '127.0.0.1:3260' })
    // At info, connection events are not even subscribed to (the library publishes only to listeners).
    expect(channel(Channel.connection).hasSubscribers).toBe(false)
    expect(records().map(({ level, msg, time: _t, pid: _p, ...fields }) => ({ level, msg, ...fields }))).toEqual([
      { level: 30, msg: 'login', initiator: session.initiatorName, target: session.targetName, isid: session.isid, tsih: 7, type: 'Normal', remote: '127.0.0.1:50000' },
      { level: 40, msg: 'login failed', initiator: session.initiatorName, target: session.targetName, isid: session.isid, tsih: 0, type: 'Normal', remote: '127.0.0.1:50001', status: '0x0201', reason: 'CHAP response mismatch' },
      { level: 30, msg: 'logout', initiator: session.initiatorName, target: session.targetName, isid: session.isid, tsih: 7, reason: 'close-session' },
      { level: 40, msg: 'error', kind: 'digest', code: 'ISCSI_ERR_PDU_DIGEST', remote: '127.0.0.1:50000', error: 'header digest mismatch' },
    ])
  })

  it('logs connections at debug and PDUs only at trace, and survives odd messages', () => {
    const debug = capture('debug')
    stop = subscribeLogs(debug.logger)
    expect(channel(Channel.pduReceive).hasSubscribers).toBe(false)
    channel(Channel.connection).publish({ event: 'close', remote: '[::1]:40000', local: '[::1]:3260', reason: 'logout' })
    channel(Channel.login).publish(null)
    channel(Channel.error).publish('a string')
    expect(debug.records().map((record) => record.msg)).toEqual(['connection closed', 'login failed', 'error'])
    expect(debug.records()[2]).toMatchObject({ kind: 'unknown' })
    stop()

    const trace = capture('trace')
    stop = subscribeLogs(trace.logger)
    channel(Channel.pduReceive).publish({ opcode: 1, itt: 5, remote: '127.0.0.1:1' })
    channel(Channel.pduSend).publish({ opcode: 0x21, itt: 5, remote: '127.0.0.1:1' })
    expect(trace.records().map((record) => [record.msg, record.opcode])).toEqual([
      ['pdu received', 1],
      ['pdu sent', 0x21],
    ])
  })

  it('stops logging once unsubscribed', () => {
    const { logger, lines } = capture()
    subscribeLogs(logger)()
    channel(Channel.logout).publish({ initiatorName: 'iqn.x', targetName: 'iqn.y', isid: '0x1', tsih: 1, reason: 'x' })
    expect(lines).toHaveLength(0)
  })
})
