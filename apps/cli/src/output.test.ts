import { describe, expect, it } from 'vitest'
import { formatKey, formatPage, formatValue, jsonDocument, keyValues, labelOf, pairs, table, toJsonValue } from './output.js'

describe('toJsonValue', () => {
  it('turns bigints, bytes, maps and sets into JSON data', () => {
    expect(toJsonValue({ a: 5n, b: 2n ** 64n, c: Buffer.from([0xde, 0xad]), d: new Map([['x', 1n]]), e: new Set([1, 2]), f: undefined, g: Number.NaN })).toEqual({
      a: 5,
      b: '0x10000000000000000',
      c: 'dead',
      d: { x: 1 },
      e: [1, 2],
      g: null,
    })
  })
  it('prints one indented document with a newline', () => {
    expect(jsonDocument({ blocks: 10n, ok: true })).toBe('{\n  "blocks": 10,\n  "ok": true\n}\n')
  })
})

describe('labels and values', () => {
  it.each([
    ['maxTransferLength', 'max transfer length'],
    ['lbpme', 'lbpme'],
    ['peripheralDeviceType', 'peripheral device type'],
    ['naaIEEERegistered', 'naa ieee registered'],
    ['vendorSpecific2', 'vendor specific 2'],
    ['t10_vendor_id', 't10 vendor id'],
  ])('%s -> %s', (key, label) => {
    expect(labelOf(key)).toBe(label)
  })
  it('formats values by kind', () => {
    expect(formatValue(true)).toBe('yes')
    expect(formatValue(false)).toBe('no')
    expect(formatValue(undefined)).toBe('-')
    expect(formatValue('')).toBe('(empty)')
    expect(formatValue(0xabcn, 'reservationKey')).toBe('0x0000000000000abc')
    expect(formatValue(4096n, 'blocks')).toBe('4096')
    expect(formatValue(Buffer.from('0102', 'hex'))).toBe('0102')
    expect(formatValue([0, 128, 131])).toBe('0, 128, 131')
    expect(formatValue([0, 0x80, 0xb0], 'pages')).toBe('0x00, 0x80, 0xb0')
    expect(formatValue([0x4c0, 0x960], 'versionDescriptors')).toBe('0x04c0, 0x0960')
    expect(formatValue([])).toBe('(none)')
  })
  it('formats keys and pages', () => {
    expect(formatKey(0x1234n)).toBe('0x0000000000001234')
    expect(formatPage(0xb0)).toBe('0xb0')
    expect(formatPage(0)).toBe('0x00')
  })
})

describe('keyValues (golden)', () => {
  it('aligns labels and indents nested records and lists of records', () => {
    const text = keyValues({
      vendor: 'LIO-ORG',
      removable: false,
      maxTransferLength: 65535,
      designators: [
        { type: 'NAA', naa: 0x6001405abcdef012n },
        { type: 'T10', vendorId: 'LIO-ORG' },
      ],
      limits: { optimal: 8 },
      skipped: undefined,
    })
    expect(text).toBe(
      [
        'vendor:              LIO-ORG',
        'removable:           no',
        'max transfer length: 65535',
        'designators:',
        '  - type: NAA',
        '    naa:  0x6001405abcdef012',
        '  - type:      T10',
        '    vendor id: LIO-ORG',
        'limits:',
        '  optimal: 8',
      ].join('\n'),
    )
  })
})

describe('table (golden)', () => {
  it('aligns columns, right-aligns numbers and trims trailing spaces', () => {
    const rows = [
      { lun: 0, type: 'controller', size: '-' },
      { lun: 12, type: 'disk', size: '1 GiB' },
    ]
    const text = table(rows, [
      { header: 'LUN', value: (r) => String(r.lun), align: 'right' },
      { header: 'TYPE', value: (r) => r.type },
      { header: 'SIZE', value: (r) => r.size, align: 'right' },
    ], '  ')
    expect(text).toBe(['  LUN  TYPE         SIZE', '    0  controller      -', '   12  disk        1 GiB'].join('\n'))
  })
})

describe('pairs (golden)', () => {
  it('puts values in one column', () => {
    expect(pairs([['block size', '512 bytes'], ['blocks', '8']])).toBe('block size: 512 bytes\nblocks:     8')
  })
})
