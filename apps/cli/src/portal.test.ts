import { describe, expect, it } from 'vitest'
import { UsageError } from './errors.js'
import { formatPortal, parsePortal } from './portal.js'

describe('parsePortal', () => {
  it.each([
    ['10.0.0.5', { host: '10.0.0.5', port: 3260 }],
    ['10.0.0.5:3261', { host: '10.0.0.5', port: 3261 }],
    ['san-1.example.com', { host: 'san-1.example.com', port: 3260 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['[::1]:3260', { host: '::1', port: 3260 }],
    ['[fe80::1%eth0]:3262', { host: 'fe80::1%eth0', port: 3262 }],
    ['[2001:db8::7]', { host: '2001:db8::7', port: 3260 }],
    ['2001:db8::7', { host: '2001:db8::7', port: 3260 }],
  ])('%s', (text, portal) => {
    expect(parsePortal(text)).toEqual(portal)
  })

  it.each(['', 'host:0', 'host:65536', 'host:port', '[10.0.0.1]:3260', 'bad host', '-x', 'a:b:c d'])('rejects %j', (text) => {
    expect(() => parsePortal(text)).toThrow(UsageError)
  })

  it('formats IPv6 in brackets', () => {
    expect(formatPortal({ host: '::1', port: 3260 })).toBe('[::1]:3260')
    expect(formatPortal({ host: '10.0.0.1', port: 3261 })).toBe('10.0.0.1:3261')
  })
})
