import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CheckCondition } from '../errors.js'
import { type ParsedCdb, buildCdb, checkReservedBits, decodeCdb, encodeCdb, parseCdb } from './cdb.js'
import { buildCompareAndWrite, buildInquiry, buildRead16, buildRead6, buildWrite16 } from './builders.js'
import { Commands, commandNames, commandSpec } from './commands.js'
import { fieldWidth } from './fields.js'

const hex = (text: string) => Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

interface Vector {
  readonly title: string
  readonly bytes: Buffer
  readonly parsed: ParsedCdb
}

const vectors: Vector[] = [
  {
    title: 'READ(6) LBA 1FFFFFh, 0 blocks (meaning 256)',
    bytes: hex(`
      08        # 0: OPERATION CODE READ(6)
      1f ff ff  # 1-3: LOGICAL BLOCK ADDRESS (21 bits)
      00        # 4: TRANSFER LENGTH 0 = 256 blocks
      00        # 5: CONTROL
    `),
    parsed: { name: 'READ_6', opcode: 0x08, control: 0, lba: 0x1fffff, blocks: 0 },
  },
  {
    title: 'READ(16) DPO FUA',
    bytes: hex(`
      88                       # 0: READ(16)
      18                       # 1: RDPROTECT 0, DPO 1, FUA 1, RARC 0
      00 00 00 01 00 00 00 02  # 2-9: LOGICAL BLOCK ADDRESS 1_0000_0002h
      00 00 01 00              # 10-13: TRANSFER LENGTH 256
      05                       # 14: GROUP NUMBER 5
      00                       # 15: CONTROL
    `),
    parsed: { name: 'READ_16', opcode: 0x88, control: 0, rdprotect: 0, dpo: true, fua: true, rarc: false, lba: 0x1_0000_0002, blocks: 256, group: 5 },
  },
  {
    title: 'WRITE(10) WRPROTECT 3, FUA',
    bytes: hex(`
      2a           # 0: WRITE(10)
      68           # 1: WRPROTECT 011b, DPO 0, FUA 1
      00 00 10 00  # 2-5: LBA 4096
      00           # 6: GROUP NUMBER
      00 08        # 7-8: TRANSFER LENGTH 8
      04           # 9: CONTROL, NACA 1
    `),
    parsed: { name: 'WRITE_10', opcode: 0x2a, control: 0x04, wrprotect: 3, dpo: false, fua: true, lba: 4096, group: 0, blocks: 8 },
  },
  {
    title: 'COMPARE AND WRITE of 1 block',
    bytes: hex(`
      89                       # 0: COMPARE AND WRITE
      08                       # 1: FUA
      00 00 00 00 00 00 00 07  # 2-9: LBA 7
      00 00 00                 # 10-12: reserved
      01                       # 13: NUMBER OF LOGICAL BLOCKS
      00 00                    # 14: GROUP NUMBER, 15: CONTROL
    `),
    parsed: { name: 'COMPARE_AND_WRITE', opcode: 0x89, control: 0, wrprotect: 0, dpo: false, fua: true, lba: 7, blocks: 1, group: 0 },
  },
  {
    title: 'INQUIRY EVPD page B0h',
    bytes: hex(`
      12     # 0: INQUIRY
      01     # 1: EVPD 1
      b0     # 2: PAGE CODE B0h
      00 40  # 3-4: ALLOCATION LENGTH 64
      00     # 5: CONTROL
    `),
    parsed: { name: 'INQUIRY', opcode: 0x12, control: 0, cmddt: false, evpd: true, pageCode: 0xb0, allocationLength: 64 },
  },
  {
    title: 'MODE SENSE(10) LLBAA, changeable values of all pages',
    bytes: hex(`
      5a           # 0: MODE SENSE(10)
      10           # 1: LLBAA 1, DBD 0
      7f           # 2: PC 01b (changeable), PAGE CODE 3Fh
      00           # 3: SUBPAGE CODE
      00 00 00     # 4-6: reserved
      10 00        # 7-8: ALLOCATION LENGTH 4096
      00           # 9: CONTROL
    `),
    parsed: { name: 'MODE_SENSE_10', opcode: 0x5a, control: 0, llbaa: true, dbd: false, pc: 1, pageCode: 0x3f, subpageCode: 0, allocationLength: 4096 },
  },
  {
    title: 'READ CAPACITY(16) (SERVICE ACTION IN(16) 10h)',
    bytes: hex(`
      9e                       # 0: SERVICE ACTION IN(16)
      10                       # 1: SERVICE ACTION 10h
      00 00 00 00 00 00 00 00  # 2-9: LBA
      00 00 00 20              # 10-13: ALLOCATION LENGTH 32
      00 00                    # 14: PMI 0, 15: CONTROL
    `),
    parsed: { name: 'READ_CAPACITY_16', opcode: 0x9e, control: 0, lba: 0, allocationLength: 32, pmi: false },
  },
  {
    title: 'REPORT SUPPORTED OPERATION CODES, one command with service action, RCTD',
    bytes: hex(`
      a3           # 0: MAINTENANCE IN
      0c           # 1: SERVICE ACTION 0Ch
      82           # 2: RCTD 1, REPORTING OPTIONS 010b
      9e           # 3: REQUESTED OPERATION CODE
      00 10        # 4-5: REQUESTED SERVICE ACTION
      00 00 02 00  # 6-9: ALLOCATION LENGTH 512
      00 00        # 10: reserved, 11: CONTROL
    `),
    parsed: { name: 'REPORT_SUPPORTED_OPERATION_CODES', opcode: 0xa3, control: 0, rctd: true, reportingOptions: 2, requestedOperationCode: 0x9e, requestedServiceAction: 0x10, allocationLength: 512 },
  },
  {
    title: 'PERSISTENT RESERVE OUT REGISTER AND MOVE',
    bytes: hex(`
      5f           # 0: PERSISTENT RESERVE OUT
      07           # 1: SERVICE ACTION 07h REGISTER AND MOVE
      01           # 2: SCOPE 0, TYPE 1 (write exclusive)
      00 00        # 3-4: reserved
      00 00 00 30  # 5-8: PARAMETER LIST LENGTH 48
      00           # 9: CONTROL
    `),
    parsed: { name: 'PERSISTENT_RESERVE_OUT', opcode: 0x5f, control: 0, serviceAction: 7, scope: 0, type: 1, parameterListLength: 48 },
  },
  {
    title: 'WRITE SAME(16) UNMAP NDOB',
    bytes: hex(`
      93                       # 0: WRITE SAME(16)
      09                       # 1: UNMAP 1, NDOB 1
      00 00 00 00 00 00 01 00  # 2-9: LBA 256
      00 00 08 00              # 10-13: NUMBER OF LOGICAL BLOCKS 2048
      00 00                    # 14: GROUP NUMBER, 15: CONTROL
    `),
    parsed: { name: 'WRITE_SAME_16', opcode: 0x93, control: 0, wrprotect: 0, anchor: false, unmap: true, ndob: true, lba: 256, blocks: 2048, group: 0 },
  },
  {
    title: 'SANITIZE OVERWRITE, IMMED, AUSE',
    bytes: hex(`
      48           # 0: SANITIZE
      a1           # 1: IMMED 1, AUSE 1, SERVICE ACTION 01h OVERWRITE
      00 00 00 00 00  # 2-6: reserved
      00 08        # 7-8: PARAMETER LIST LENGTH 8
      00           # 9: CONTROL
    `),
    parsed: { name: 'SANITIZE', opcode: 0x48, control: 0, immed: true, ause: true, serviceAction: 1, parameterListLength: 8 },
  },
]

describe('CDB vectors (decode, encode, round trip)', () => {
  for (const vector of vectors) {
    it(vector.title, () => {
      expect(parseCdb(vector.bytes)).toEqual(vector.parsed)
      expect(encodeCdb(vector.parsed)).toEqual(vector.bytes)
      expect(encodeCdb(parseCdb(vector.bytes))).toEqual(vector.bytes)
    })
  }

  it('named builders write the same bytes', () => {
    expect(buildRead16({ lba: 0x1_0000_0002, blocks: 256, fua: true, dpo: true, group: 5 })).toEqual(vectors[1]!.bytes)
    expect(buildRead6({ lba: 0x1fffff })).toEqual(vectors[0]!.bytes)
    expect(buildCompareAndWrite({ lba: 7n, blocks: 1, fua: true })).toEqual(vectors[3]!.bytes)
    expect(buildInquiry({ evpd: true, pageCode: 0xb0, allocationLength: 64 })).toEqual(vectors[4]!.bytes)
  })

  it('parses a CDB inside a longer buffer (the 16-byte iSCSI CDB field) and reports its length', () => {
    const padded = Buffer.concat([vectors[4]!.bytes, Buffer.alloc(10, 0xee)])
    expect(decodeCdb(padded)).toEqual({ value: vectors[4]!.parsed, bytesRead: 6 })
  })
})

describe('CDB errors', () => {
  const sense = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      expect(error).toBeInstanceOf(CheckCondition)
      const check = error as CheckCondition
      return { key: check.key, asc: check.ascName, pointer: check.fieldPointer }
    }
    throw new Error('did not throw')
  }

  it('an unknown opcode is INVALID COMMAND OPERATION CODE', () => {
    expect(sense(() => parseCdb(Buffer.from([0xc0, 0, 0, 0, 0, 0])))).toEqual({ key: 'ILLEGAL_REQUEST', asc: 'INVALID_COMMAND_OPERATION_CODE', pointer: undefined })
  })
  it('an unknown service action points at the SERVICE ACTION field', () => {
    expect(sense(() => parseCdb(Buffer.from([0x9e, 0x11, ...new Array<number>(14).fill(0)])))).toEqual({
      key: 'ILLEGAL_REQUEST',
      asc: 'INVALID_FIELD_IN_CDB',
      pointer: { inCdb: true, byte: 1, bit: 4 },
    })
    expect(sense(() => parseCdb(Buffer.from([0x48, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]))).asc).toBe('INVALID_FIELD_IN_CDB')
  })
  it('a truncated CDB is INVALID FIELD IN CDB', () => {
    expect(sense(() => parseCdb(Buffer.from([0x88, 0, 0]))).asc).toBe('INVALID_FIELD_IN_CDB')
    expect(sense(() => parseCdb(Buffer.alloc(0))).asc).toBe('INVALID_COMMAND_OPERATION_CODE')
  })
  it('a command that checks its reserved bits refuses any bit outside its fields (SPC-4 3.3.9), pointing at it', () => {
    const sanitize = hex(`
      48        # 0: SANITIZE
      a2        # 1: IMMED 1, reserved 0, AUSE 1, SERVICE ACTION 02h (BLOCK ERASE)
      00 00 00  # 2-4: reserved
      00 00     # 5-6: reserved
      00 00     # 7-8: PARAMETER LIST LENGTH
      c3        # 9: CONTROL (vendor bits, NACA and LINK are not reserved bits of this check)
    `)
    expect(() => checkReservedBits('SANITIZE', sanitize)).not.toThrow()
    const bit6 = Buffer.from(sanitize)
    bit6[1] = 0xe2
    expect(sense(() => checkReservedBits('SANITIZE', bit6))).toEqual({ key: 'ILLEGAL_REQUEST', asc: 'INVALID_FIELD_IN_CDB', pointer: { inCdb: true, byte: 1, bit: 6 } })
    const byte5 = Buffer.from(sanitize)
    byte5[5] = 0x11
    expect(sense(() => checkReservedBits('SANITIZE', byte5)).pointer).toEqual({ inCdb: true, byte: 5, bit: 4 })
    // READ(10) does not check: its reserved bits pass untouched.
    expect(() => checkReservedBits('READ_10', Buffer.from([0x28, 0x02, 0, 0, 0, 0, 0xe0, 0, 1, 0]))).not.toThrow()
  })
  it('builders refuse values that do not fit', () => {
    expect(() => buildRead6({ lba: 0x200000 })).toThrow(RangeError)
    expect(() => buildWrite16({ blocks: -1 })).toThrow(RangeError)
    expect(() => buildWrite16({ blocks: 1.5 })).toThrow(RangeError)
    expect(() => buildCdb('READ_16', { control: 256 })).toThrow(RangeError)
  })
})

describe('every command of the table', () => {
  it('has a CDB length matching its group code (SPC-4 4.2.5.1) and fields inside it', () => {
    for (const name of commandNames) {
      const spec = commandSpec(name)
      const group = spec.opcode >> 5
      const expected = group === 0 ? 6 : group === 1 || group === 2 ? 10 : group === 4 ? 16 : group === 5 ? 12 : undefined
      expect(spec.length, name).toBe(expected)
      for (const field of Object.values(spec.fields)) {
        expect(field.byte, name).toBeGreaterThan(0)
        expect(field.byte + (field.kind === 'uint' ? field.bytes : 1), name).toBeLessThan(spec.length)
      }
    }
  })

  it('parse(build(fields)) gives the fields back, for random field values of every command', () => {
    const arbitraries = commandNames.map((name) => {
      const spec = commandSpec(name)
      const fields: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [field, layout] of Object.entries(spec.fields)) {
        if (field === 'serviceAction' && spec.serviceActions !== undefined) fields[field] = fc.constantFrom(...spec.serviceActions)
        else if (layout.kind === 'flag') fields[field] = fc.boolean()
        else fields[field] = fc.integer({ min: 0, max: Math.min(2 ** fieldWidth(layout), Number.MAX_SAFE_INTEGER) - 1 })
      }
      return fc.record({ name: fc.constant(name), fields: fc.record(fields), control: fc.integer({ min: 0, max: 255 }) })
    })
    fc.assert(
      fc.property(fc.oneof(...arbitraries), ({ name, fields, control }) => {
        const cdb = buildCdb(name, { ...fields, control } as never)
        expect(cdb.length).toBe(Commands[name].length)
        expect(parseCdb(cdb)).toEqual({ name, opcode: Commands[name].opcode, control, ...fields })
      }),
      { numRuns: 3000 },
    )
  })

  it('random bytes parse to a command or throw a CheckCondition, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 20 }), (bytes) => {
        try {
          const parsed = parseCdb(Buffer.from(bytes))
          expect(commandSpec(parsed.name).opcode).toBe(bytes[0])
        } catch (error) {
          expect(error).toBeInstanceOf(CheckCondition)
        }
      }),
      { numRuns: 3000 },
    )
  })
})
