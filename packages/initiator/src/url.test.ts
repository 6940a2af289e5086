import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { InitiatorError } from './errors.js'
import { formatIscsiUrl, parseIscsiUrl, type IscsiUrl } from './url.js'

const noEnv = { env: {} }

describe('parseIscsiUrl', () => {
  const vectors: Array<[string, IscsiUrl]> = [
    ['iscsi://127.0.0.1/iqn.2003-01.org.example:disk/1', { host: '127.0.0.1', port: 3260, targetName: 'iqn.2003-01.org.example:disk', lun: 1 }],
    ['iscsi://host.example:3261/iqn.2003-01.org.example:disk/0', { host: 'host.example', port: 3261, targetName: 'iqn.2003-01.org.example:disk', lun: 0 }],
    ['iscsi://[::1]:3262/iqn.a:b/7', { host: '::1', port: 3262, targetName: 'iqn.a:b', lun: 7 }],
    ['iscsi://[fe80::1%eth0]/iqn.a:b/2', { host: 'fe80::1%eth0', port: 3260, targetName: 'iqn.a:b', lun: 2 }],
    ['iscsi://[2001:db8::5]', { host: '2001:db8::5', port: 3260 }],
    ['iscsi://10.0.0.1:3260/', { host: '10.0.0.1', port: 3260 }],
    ['iscsi://10.0.0.1', { host: '10.0.0.1', port: 3260 }],
    ['iscsi://h/iqn.a:b', { host: 'h', port: 3260, targetName: 'iqn.a:b' }],
    ['iscsi://h/iqn.a:b/', { host: 'h', port: 3260, targetName: 'iqn.a:b' }],
    ['iscsi://h/iqn.a%3Ab%2Dc/3', { host: 'h', port: 3260, targetName: 'iqn.a:b-c', lun: 3 }],
    ['iscsi://alice%s3cret@h/iqn.a:b/1', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, user: 'alice', secret: 's3cret' }],
    ['iscsi://alice:s3cret@h/iqn.a:b/1', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, user: 'alice', secret: 's3cret' }],
    // The first '%' splits; the secret is percent-decoded (%25 is a literal '%', %40 an '@').
    ['iscsi://alice%p%25ss%40w0rd@h/iqn.a:b/1', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, user: 'alice', secret: 'p%ss@w0rd' }],
    // A user name with ':' (IQN-style) survives when '%' separates the secret.
    ['iscsi://iqn.x:y%pw@h/iqn.a:b/1', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, user: 'iqn.x:y', secret: 'pw' }],
    ['iscsi://bob@h/iqn.a:b/1', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, user: 'bob' }],
    [
      'iscsi://u%p@[::1]/iqn.a:b/4?header_digest=crc32c&data_digest=none&target_user=tgt&target_password=t%26pw',
      { host: '::1', port: 3260, targetName: 'iqn.a:b', lun: 4, user: 'u', secret: 'p', headerDigest: 'CRC32C', dataDigest: 'None', targetUser: 'tgt', targetSecret: 't&pw' },
    ],
    ['iscsi://h/iqn.a:b/1?header_digest=NONE', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, headerDigest: 'None' }],
    ['iscsi://h/iqn.a:b/1?header_digest=crc32c,none', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 1, headerDigest: 'CRC32C,None' }],
    ['ISCSI://h/iqn.a:b/16383', { host: 'h', port: 3260, targetName: 'iqn.a:b', lun: 16383 }],
  ]
  for (const [text, expected] of vectors) {
    it(`parses ${text}`, () => {
      expect(parseIscsiUrl(text, noEnv)).toEqual(expected)
    })
  }

  const bad: Array<[string, RegExp]> = [
    ['http://h/iqn.a:b/1', /must start with iscsi/],
    ['iscsi://', /missing host/],
    ['iscsi:///iqn.a:b/1', /missing host/],
    ['iscsi://h:0/iqn.a:b/1', /port 0 out of range/],
    ['iscsi://h:65536/iqn.a:b/1', /out of range/],
    ['iscsi://h:abc/iqn.a:b/1', /bad port/],
    ['iscsi://::1/iqn.a:b/1', /IPv6 address must be in brackets/],
    ['iscsi://[::1/iqn.a:b/1', /unterminated/],
    ['iscsi://[::1]x/iqn.a:b/1', /after the IPv6 address/],
    ['iscsi://[zz]/iqn.a:b/1', /bad IPv6 address/],
    ['iscsi://h/iqn.a:b/x', /bad LUN/],
    ['iscsi://h/iqn.a:b/-1', /bad LUN/],
    ['iscsi://h/iqn.a:b/16384', /LUN 16384 out of range/],
    ['iscsi://h/iqn.a:b/1/extra', /too many path segments/],
    ['iscsi://h//1', /empty target name/],
    ['iscsi://h/iqn.a%ZZ/1', /bad percent-encoding/],
    ['iscsi://h/iqn.a:b/1?header_digest=md5', /header_digest must be/],
    ['iscsi://h/iqn.a:b/1?bogus=1', /unknown option "bogus"/],
    ['iscsi://@h/iqn.a:b/1', /empty user name/],
    ['iscsi://h/iqn.a:b/1#frag', /fragments/],
    ['iscsi://h st/iqn.a:b/1', /bad host/],
    ['iscsi://h/iqn.a%20b/3', /white space/],
  ]
  for (const [text, pattern] of bad) {
    it(`rejects ${text}`, () => {
      let caught: unknown
      try {
        parseIscsiUrl(text, noEnv)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InitiatorError)
      expect((caught as InitiatorError).code).toBe('ISCSI_ERR_URL')
      expect((caught as Error).message).toMatch(pattern)
    })
  }

  it('never puts the secret into an error message', () => {
    expect(() => parseIscsiUrl('iscsi://alice%topsecret@h/iqn.a:b/x', noEnv)).toThrow(/alice%\*\*\*@/)
    try {
      parseIscsiUrl('iscsi://alice%topsecret@h/iqn.a:b/1?target_password=other&zz=1', noEnv)
    } catch (error) {
      expect((error as Error).message).not.toMatch(/topsecret|other/)
    }
  })

  it('takes CHAP defaults from LIBISCSI_CHAP_* like libiscsi, the URL winning', () => {
    const env = {
      LIBISCSI_CHAP_USERNAME: 'envuser',
      LIBISCSI_CHAP_PASSWORD: 'envpw',
      LIBISCSI_CHAP_TARGET_USERNAME: 'envtgt',
      LIBISCSI_CHAP_TARGET_PASSWORD: 'envtpw',
    }
    expect(parseIscsiUrl('iscsi://h/iqn.a:b/1', { env })).toMatchObject({ user: 'envuser', secret: 'envpw', targetUser: 'envtgt', targetSecret: 'envtpw' })
    expect(parseIscsiUrl('iscsi://me@h/iqn.a:b/1', { env })).toMatchObject({ user: 'me', secret: 'envpw' })
    expect(parseIscsiUrl('iscsi://me%mine@h/iqn.a:b/1', { env })).toMatchObject({ user: 'me', secret: 'mine' })
  })
})

describe('formatIscsiUrl', () => {
  it('formats the canonical form and redacts secrets on request', () => {
    const url: IscsiUrl = { host: '::1', port: 3261, targetName: 'iqn.a:b', lun: 2, user: 'u', secret: 'p@ss', targetUser: 't', targetSecret: 'q', headerDigest: 'CRC32C' }
    expect(formatIscsiUrl(url)).toBe('iscsi://u%p%40ss@[::1]:3261/iqn.a:b/2?header_digest=crc32c&target_user=t&target_password=q')
    expect(formatIscsiUrl(url, { redactSecret: true })).toBe('iscsi://u%***@[::1]:3261/iqn.a:b/2?header_digest=crc32c&target_user=t&target_password=***')
    expect(formatIscsiUrl({ host: 'h', port: 3260 })).toBe('iscsi://h')
  })

  it('refuses what a URL cannot carry', () => {
    expect(() => formatIscsiUrl({ host: 'h', port: 3260, lun: 1 })).toThrow(InitiatorError)
    expect(() => formatIscsiUrl({ host: 'h', port: 3260, user: 'a b' })).toThrow(/user name/)
  })

  it('round-trips through parseIscsiUrl', () => {
    const name = fc.stringMatching(/^[a-z0-9.:\- ]{1,20}$/).filter((s) => s.trim() === s && s !== '' && !s.includes('  '))
    const arbitrary = fc.record(
      {
        host: fc.oneof(fc.constantFrom('localhost', '10.1.2.3', '::1', 'fe80::2', 'storage.example')),
        port: fc.integer({ min: 1, max: 65535 }),
        targetName: name.filter((s) => !/\s/.test(s)),
        lun: fc.integer({ min: 0, max: 16383 }),
        user: fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/),
        secret: fc.string({ minLength: 1, maxLength: 16 }),
        headerDigest: fc.constantFrom('CRC32C', 'None', 'CRC32C,None', 'None,CRC32C') as fc.Arbitrary<IscsiUrl['headerDigest']>,
      },
      { requiredKeys: ['host', 'port'] },
    )
    fc.assert(
      fc.property(arbitrary, (value) => {
        const url = { ...value } as IscsiUrl
        if (url.lun !== undefined && url.targetName === undefined) delete url.lun
        if (url.user === undefined) delete url.secret
        const back = parseIscsiUrl(formatIscsiUrl(url), noEnv)
        expect(back).toEqual(url)
      }),
      { numRuns: 300 },
    )
  })
})
