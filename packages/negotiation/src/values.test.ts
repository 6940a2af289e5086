import { describe, expect, it } from 'vitest'
import { NegotiationError, NegotiationErrorCode } from './errors.js'
import { formatBinary, formatBoolean, isNumber, parseBinary, parseBoolean, parseList, parseNumber } from './values.js'

describe('parseNumber (RFC 7143 6.1 numerical values)', () => {
  it.each([
    ['0', 0n],
    ['8192', 8192n],
    ['16777215', 16777215n],
    ['0x2000', 8192n],
    ['0X00ff', 255n],
    ['0bAAAgAA==', 8192n], // base64 of 00 00 20 00
    ['0bIAA=', 8192n], // base64 of 20 00
    ['18446744073709551615', (1n << 64n) - 1n],
    ['0xffffffffffffffff', (1n << 64n) - 1n],
  ])('%s is %s', (text, value) => {
    expect(parseNumber(text)).toBe(value)
    expect(isNumber(text)).toBe(true)
  })

  // RFC 7143 6.1: numerical values are at most 64 bits and written in decimal, hex or base64.
  it.each(['', '-1', '12a', '0x', '0xg1', '0b', '0b!!!!', '1 2', '18446744073709551616', '0x10000000000000000', 'Yes'])(
    'rejects %j as malformed (RFC 7143 6.1)',
    (text) => {
      expect(() => parseNumber(text)).toThrow(NegotiationError)
      try {
        parseNumber(text)
      } catch (error) {
        expect((error as NegotiationError).code).toBe(NegotiationErrorCode.BadValue)
      }
      expect(isNumber(text)).toBe(false)
    },
  )
})

describe('binary values (RFC 7143 6.1, CHAP_C/CHAP_R)', () => {
  it('decodes hex and base64 to the same bytes', () => {
    const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    expect(parseBinary('0x00112233445566778899aabbccddeeff')).toEqual(bytes)
    expect(parseBinary(`0b${bytes.toString('base64')}`)).toEqual(bytes)
  })

  it('treats an odd number of hex digits as having a leading zero', () => {
    expect(parseBinary('0xabc')).toEqual(Buffer.from([0x0a, 0xbc]))
  })

  it('round-trips through formatBinary in both encodings', () => {
    const bytes = Buffer.from([1, 2, 3, 250, 251, 252])
    expect(formatBinary(bytes)).toBe('0x010203fafbfc')
    expect(parseBinary(formatBinary(bytes, 'base64'))).toEqual(bytes)
  })

  it('accepts 1024 bytes (2048 hex digits) and refuses more (RFC 7143 12.1.3 bound)', () => {
    expect(parseBinary(`0x${'ab'.repeat(1024)}`)).toHaveLength(1024)
    expect(() => parseBinary(`0x${'ab'.repeat(1025)}`)).toThrow(NegotiationError)
  })

  it.each(['', '0x', '0b', 'abcd', '0bA', '0xzz', '0b====', '1234'])('rejects %j (RFC 7143 6.1)', (text) => {
    expect(() => parseBinary(text)).toThrow(NegotiationError)
  })
})

describe('booleans and lists (RFC 7143 6.2)', () => {
  it('knows Yes and No only', () => {
    expect(parseBoolean('Yes')).toBe(true)
    expect(parseBoolean('No')).toBe(false)
    expect(parseBoolean('yes')).toBeUndefined()
    expect(parseBoolean('')).toBeUndefined()
    expect(formatBoolean(true)).toBe('Yes')
    expect(formatBoolean(false)).toBe('No')
  })

  it('splits lists on commas and drops empty items', () => {
    expect(parseList('CRC32C,None')).toEqual(['CRC32C', 'None'])
    expect(parseList('None')).toEqual(['None'])
    expect(parseList('a,,b,')).toEqual(['a', 'b'])
    expect(parseList('')).toEqual([])
  })
})
