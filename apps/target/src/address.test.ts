import { describe, expect, it } from 'vitest'
import { connectHost, formatHostPort, isLoopback, parseHostPort } from './address.js'

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:3260', { host: '127.0.0.1', port: 3260 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:3261', { host: '::1', port: 3261 }],
    ['[::]:3260', { host: '::', port: 3260 }],
    ['localhost:9100', { host: 'localhost', port: 9100 }],
    ['storage.example.com:3260', { host: 'storage.example.com', port: 3260 }],
  ])('%s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected)
  })

  it('fills in the default port for a bare host, bracketed or plain IPv6', () => {
    expect(parseHostPort('10.0.0.1', 3260)).toEqual({ host: '10.0.0.1', port: 3260 })
    expect(parseHostPort('[fe80::1]', 3260)).toEqual({ host: 'fe80::1', port: 3260 })
    expect(parseHostPort('::1', 3260)).toBe('put an IPv6 address in brackets, like [::1]:3260')
    expect(parseHostPort('::1:3260', 3260)).toBe('put an IPv6 address in brackets, like [::1]:3260')
  })

  it.each([
    ['127.0.0.1', 'expected HOST:PORT'],
    ['127.0.0.1:65536', 'out of range'],
    ['127.0.0.1:http', 'not a port number'],
    ['[::1', 'missing "]"'],
    ['[::1]3260', 'expected ":PORT"'],
    ['[nothost]:1', 'not an IPv6 address'],
    ['fe80::1:zz:3260', 'brackets'],
    ['bad host:1', 'not a host name'],
  ])('%s is refused: %s', (text, reason) => {
    const result = parseHostPort(text)
    expect(typeof result).toBe('string')
    expect(result).toContain(reason)
  })

  it('formats IPv6 in brackets and round-trips', () => {
    for (const text of ['127.0.0.1:3260', '[::1]:3260', 'example.org:1']) {
      const parsed = parseHostPort(text)
      if (typeof parsed === 'string') throw new Error(parsed)
      expect(formatHostPort(parsed)).toBe(text)
    }
  })
})

describe('isLoopback / connectHost', () => {
  it('knows loopback from the rest', () => {
    expect(isLoopback('127.0.0.1')).toBe(true)
    expect(isLoopback('127.1.2.3')).toBe(true)
    expect(isLoopback('::1')).toBe(true)
    expect(isLoopback('localhost')).toBe(true)
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true)
    expect(isLoopback('0.0.0.0')).toBe(false)
    expect(isLoopback('::')).toBe(false)
    expect(isLoopback('192.168.1.10')).toBe(false)
  })
  it('dials loopback for a wildcard listener', () => {
    expect(connectHost('0.0.0.0')).toBe('127.0.0.1')
    expect(connectHost('::')).toBe('::1')
    expect(connectHost('10.1.1.1')).toBe('10.1.1.1')
  })
})
