// The adapter over @iscsi-ts/initiator: URLs, and the initiator's decoded INQUIRY data mapped to what the CLI prints.
import { decodeInquiry, decodeVpdPage } from '@iscsi-ts/initiator'
import { describe, expect, it } from 'vitest'
import { createInitiatorConnector, digestWish, standardInquiry, vpdFields } from './initiator-connector.js'

describe('parseUrl', () => {
  const connector = createInitiatorConnector({ env: {} })

  it('maps a full URL, IPv6 included', () => {
    expect(connector.parseUrl('iscsi://alice%s3cret@[fe80::1]:3261/iqn.2004-04.com.example:disk1/7?header_digest=crc32c&data_digest=none')).toEqual({
      host: 'fe80::1',
      port: 3261,
      targetName: 'iqn.2004-04.com.example:disk1',
      lun: 7,
      user: 'alice',
      secret: 's3cret',
      headerDigest: true,
      dataDigest: false,
    })
  })

  it('leaves digests to the target when the URL says nothing', () => {
    expect(connector.parseUrl('iscsi://10.0.0.1/iqn.2004-04.com.example:disk1/0')).toEqual({ host: '10.0.0.1', port: 3260, targetName: 'iqn.2004-04.com.example:disk1', lun: 0 })
  })

  it('takes CHAP from LIBISCSI_CHAP_* like libiscsi', () => {
    const withEnv = createInitiatorConnector({ env: { LIBISCSI_CHAP_USERNAME: 'bob', LIBISCSI_CHAP_PASSWORD: 'pw123456789012' } })
    expect(withEnv.parseUrl('iscsi://h/iqn.2004-04.com.example:d/0')).toMatchObject({ user: 'bob', secret: 'pw123456789012' })
  })

  it('throws the initiator\'s typed error on a bad URL', () => {
    expect(() => connector.parseUrl('iscsi://h:99999/x/0')).toThrow(expect.objectContaining({ code: 'ISCSI_ERR_URL' }))
  })

  it('maps digest preferences', () => {
    expect(digestWish('CRC32C')).toBe(true)
    expect(digestWish('CRC32C,None')).toBe(true)
    expect(digestWish('None')).toBe(false)
    expect(digestWish('None,CRC32C')).toBeUndefined()
    expect(digestWish(undefined)).toBeUndefined()
  })
})

describe('INQUIRY mapping', () => {
  it('standard data keeps every decoded field but the union tag', () => {
    const bytes = Buffer.alloc(36)
    bytes[0] = 0x00 // connected disk
    bytes[2] = 0x06 // SPC-4
    bytes[3] = 0x12 // HiSup, response data format 2
    bytes[7] = 0x02 // CmdQue
    bytes.write('ISCSI-TS', 8, 'latin1')
    bytes.write('VIRTUAL DISK    ', 16, 'latin1')
    bytes.write('0001', 32, 'latin1')
    const mapped = standardInquiry(decodeInquiry(bytes))
    expect(mapped).toMatchObject({ peripheralQualifier: 0, peripheralDeviceType: 0, vendor: 'ISCSI-TS', product: 'VIRTUAL DISK', revision: '0001' })
    expect(mapped.fields).toMatchObject({ version: 6, hisup: true, cmdque: true })
    expect(mapped.fields).not.toHaveProperty('kind')
  })

  it('device identification designators are spelled out', () => {
    // Page 83h with an NAA designator (binary, target port, iSCSI with PIV) and a SCSI name string (target device).
    const naa = Buffer.from([0x51, 0x93, 0x00, 0x08, 0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12])
    const name = Buffer.concat([Buffer.from([0x53, 0xa8, 0x00, 0x0c]), Buffer.from('iqn.x:y,t,1\0', 'latin1')])
    const page = Buffer.concat([Buffer.from([0x00, 0x83, 0x00, naa.length + name.length]), naa, name])
    expect(vpdFields(decodeVpdPage(page))).toEqual({
      designators: [
        { type: 'NAA', association: 'target port', codeSet: 'binary', protocol: 'iSCSI', value: '6001405abcdef012' },
        { type: 'SCSI name string', association: 'target device', codeSet: 'UTF-8', protocol: 'iSCSI', value: 'iqn.x:y,t,1' },
      ],
    })
  })

  it('a page the initiator does not decode keeps its bytes', () => {
    const page = Buffer.from([0x00, 0x86, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04])
    expect(vpdFields(decodeVpdPage(page))).toEqual({ data: Buffer.from([1, 2, 3, 4]) })
  })

  it('block limits keep their decoded numbers', () => {
    const body = Buffer.alloc(60)
    body.writeUInt32BE(65535, 4) // maximum transfer length
    body.writeUInt32BE(8192, 16) // maximum unmap LBA count
    const fields = vpdFields(decodeVpdPage(Buffer.concat([Buffer.from([0x00, 0xb0, 0x00, 60]), body])))
    expect(fields).toMatchObject({ maximumTransferLength: 65535, maximumUnmapLbaCount: 8192 })
    expect(fields).not.toHaveProperty('data')
    expect(fields).not.toHaveProperty('pageCode')
  })
})
