import { describe, expect, it } from 'vitest'
import { Asc, type AscName } from './asc.js'
import { SenseKey, type SenseKeyName } from './sense-key.js'
import { SenseKeyText, ascName, ascText, senseKeyName, senseText } from './sense-text.js'

describe('sense text', () => {
  it('has text for every sense key and every ASC of the table', () => {
    for (const name of Object.keys(SenseKey) as SenseKeyName[]) {
      expect(senseKeyName(SenseKey[name])).toBe(name)
      expect(SenseKeyText[name].length).toBeGreaterThan(0)
    }
    for (const name of Object.keys(Asc) as AscName[]) {
      const [code, qualifier] = Asc[name].code
      expect(ascName(code, qualifier)).toBe(name)
      expect(ascText(code, qualifier)).toBe(Asc[name].text)
    }
  })

  it('keeps the ASC table sorted and free of duplicate codes', () => {
    const codes = Object.values(Asc).map(({ code }) => (code[0] << 8) | code[1])
    expect(codes).toEqual([...codes].sort((a, b) => a - b))
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('formats key, text and code', () => {
    expect(senseText(0x5, 0x24, 0x00)).toBe('ILLEGAL REQUEST: invalid field in cdb (24/00)')
    expect(senseText(0x6, 0x29, 0x00)).toBe('UNIT ATTENTION: power on, reset, or bus device reset occurred (29/00)')
  })

  it('names the SPC-4 ranges the table does not list', () => {
    expect(ascText(0x40, 0x81)).toBe('diagnostic failure on component 0x81')
    expect(ascText(0x90, 0x01)).toBe('vendor specific asc 0x90 ascq 0x01')
    expect(ascText(0x24, 0x90)).toBe('vendor specific qualifier 0x90 of asc 0x24')
    expect(ascText(0x7e, 0x01)).toBe('asc 0x7e ascq 0x01')
    // Sense key Ch is obsolete (SPC-4 table 47): no name.
    expect(senseText(0x0c, 0, 0)).toBe('SENSE KEY 0x0c: no additional sense information (00/00)')
  })
})
