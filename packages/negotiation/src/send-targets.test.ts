import { describe, expect, it } from 'vitest'
import { NegotiationError } from './errors.js'
import {
  buildSendTargetsAnswer,
  formatTargetAddress,
  parseSendTargetsAnswer,
  parseTargetAddress,
  selectSendTargets,
} from './send-targets.js'
import type { TargetListing } from './types.js'

describe('TargetAddress values (RFC 7143 13.8)', () => {
  it.each([
    [{ host: '192.0.2.1', port: 3260, portalGroupTag: 1 }, '192.0.2.1:3260,1'],
    [{ host: '::1', port: 3260, portalGroupTag: 1 }, '[::1]:3260,1'],
    [{ host: '2001:db8::5', port: 860, portalGroupTag: 65535 }, '[2001:db8::5]:860,65535'],
    [{ host: 'storage.example.com', port: 3261, portalGroupTag: 0 }, 'storage.example.com:3261,0'],
  ])('formats %o as %s and parses it back', (address, text) => {
    expect(formatTargetAddress(address)).toBe(text)
    expect(parseTargetAddress(text)).toEqual(address)
  })

  it('defaults the port to 3260 and allows the tag to be absent', () => {
    expect(parseTargetAddress('192.0.2.1')).toEqual({ host: '192.0.2.1', port: 3260, portalGroupTag: undefined })
    expect(parseTargetAddress('[::1]')).toEqual({ host: '::1', port: 3260, portalGroupTag: undefined })
    expect(parseTargetAddress('host,2')).toEqual({ host: 'host', port: 3260, portalGroupTag: 2 })
    expect(formatTargetAddress({ host: 'h', port: 3260, portalGroupTag: undefined })).toBe('h:3260')
  })

  it.each(['', ':3260', '[::1', '[::1]x', '::1:3260', 'h:99999', 'h:port', 'h,70000', 'h,x'])(
    'refuses %j (RFC 7143 13.8)',
    (text) => {
      expect(() => parseTargetAddress(text)).toThrow(NegotiationError)
    },
  )
})

const targets: TargetListing[] = [
  {
    name: 'iqn.2026-01.org.example:a',
    addresses: [
      { host: '192.0.2.1', port: 3260, portalGroupTag: 1 },
      { host: '2001:db8::1', port: 3260, portalGroupTag: 2 },
    ],
  },
  { name: 'iqn.2026-01.org.example:b', addresses: [{ host: '192.0.2.2', port: 3261, portalGroupTag: 1 }] },
]

describe('SendTargets answers (RFC 7143 appendix C)', () => {
  it('lists TargetName then its TargetAddresses', () => {
    expect(buildSendTargetsAnswer(targets)).toEqual([
      { key: 'TargetName', value: 'iqn.2026-01.org.example:a' },
      { key: 'TargetAddress', value: '192.0.2.1:3260,1' },
      { key: 'TargetAddress', value: '[2001:db8::1]:3260,2' },
      { key: 'TargetName', value: 'iqn.2026-01.org.example:b' },
      { key: 'TargetAddress', value: '192.0.2.2:3261,1' },
    ])
  })

  it('parses an answer back into discovered targets', () => {
    expect(parseSendTargetsAnswer(buildSendTargetsAnswer(targets))).toEqual([
      {
        name: 'iqn.2026-01.org.example:a',
        addresses: [
          { host: '192.0.2.1', port: 3260, tpgt: 1 },
          { host: '2001:db8::1', port: 3260, tpgt: 2 },
        ],
      },
      { name: 'iqn.2026-01.org.example:b', addresses: [{ host: '192.0.2.2', port: 3261, tpgt: 1 }] },
    ])
  })

  it('refuses a TargetAddress before any TargetName', () => {
    expect(() => parseSendTargetsAnswer([{ key: 'TargetAddress', value: '192.0.2.1:3260,1' }])).toThrow(NegotiationError)
  })

  it('selects per session type and value', () => {
    const discovery = { sessionType: 'Discovery' as const, targetName: undefined, visible: targets }
    const normal = { sessionType: 'Normal' as const, targetName: 'iqn.2026-01.org.example:b', visible: targets }
    expect(selectSendTargets('All', discovery)).toHaveLength(2)
    // RFC 7143 appendix C: All only in discovery sessions.
    expect(selectSendTargets('All', normal)).toBeUndefined()
    // Empty value: the session's own target, normal sessions only.
    expect(selectSendTargets('', normal)!.map((t) => t.name)).toEqual(['iqn.2026-01.org.example:b'])
    expect(selectSendTargets('', discovery)).toBeUndefined()
    expect(selectSendTargets('iqn.2026-01.org.example:a', discovery)!.map((t) => t.name)).toEqual([
      'iqn.2026-01.org.example:a',
    ])
    expect(selectSendTargets('iqn.unknown', discovery)).toEqual([])
  })
})
