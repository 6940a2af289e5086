// Mutations of valid PDU sequences. Two levels:
// - semantic: a field of the PDU value changed to an interesting value (boundaries, off-by-one, sign bit, all ones),
//   a flag flipped, the CDB or the data segment altered, text keys garbled; then re-encoded with correct digests, so
//   the PDU frames cleanly and reaches the session logic;
// - bytes: bit flips and field overwrites in the encoded header (with or without a recomputed header digest),
//   truncations, splices of two PDUs, junk inserted or in place of a PDU, duplicates, swaps.
// Every decision comes from the seeded Random, so a run is replayed from its seed.
import { crc32c, encodeLun, encodePdu, headerLength, writeDigest } from '@iscsi-ts/pdu'
import type { DigestOptions, Pdu } from '@iscsi-ts/pdu'
import type { Random } from '../random.js'

export type MutationKind =
  | 'none'
  | 'field'
  | 'flag'
  | 'cdb'
  | 'data'
  | 'text'
  | 'bit-flip'
  | 'header-field'
  | 'truncate'
  | 'splice'
  | 'junk'
  | 'insert-junk'
  | 'duplicate'
  | 'swap'

export interface MutatedStream {
  /** The bytes to send, one entry per unit the fuzzer counts as a PDU. */
  readonly units: Buffer[]
  /** How many units each mutation produced. */
  readonly mutations: Partial<Record<MutationKind, number>>
}

export interface MutationRates {
  /** Chance that a PDU is mutated at all. */
  readonly mutate: number
  /** Of mutated PDUs, the share mutated semantically (the rest at byte level). */
  readonly semantic: number
}

export const DEFAULT_RATES: MutationRates = { mutate: 0.35, semantic: 0.6 }

const U32_INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0x1000, 0x2000, 0x2001, 0xffff, 0x10000, 0x40000, 0x40001, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff]
const U16_INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff]
const U8_INTERESTING = [0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff]

/** Fields of the PDU value that hold small codes (8 bits) or 16-bit values; everything else numeric is 32 bits. */
const BYTE_FIELDS = new Set(['attribute', 'function', 'reasonCode', 'type', 'csg', 'nsg', 'versionMax', 'versionMin', 'response', 'status', 'statusClass', 'statusDetail', 'asyncEvent'])
const SHORT_FIELDS = new Set(['tsih', 'cid', 'time2Wait', 'time2Retain', 'asyncVCode'])
const LUN_VALUES = [0n, encodeLun(1), encodeLun(7), encodeLun(255), encodeLun(16383), 0x4000_0000_0000_0000n, 0xc000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn]

function interesting(random: Random, original: number, table: readonly number[], mask: number): number {
  let value: number
  switch (random.int(0, 4)) {
    case 0:
      value = random.pick(table)
      break
    case 1:
      value = original + random.pick([1, -1, 2, -2, 4, -4, 512, -512])
      break
    case 2:
      value = original ^ (1 << random.int(0, 31))
      break
    case 3:
      value = random.uint32()
      break
    default:
      value = original + (mask >>> 1) + 1
  }
  return (value & mask) >>> 0
}

/** Text data (key=value NUL ...) garbled at the key/value level. */
export function mutateText(random: Random, data: Buffer): Buffer {
  const pairs = data
    .toString('latin1')
    .split('\0')
    .filter((p) => p.length > 0)
  const choice = random.int(0, 9)
  const at = pairs.length === 0 ? 0 : random.int(0, pairs.length - 1)
  const [key = 'Key', value = ''] = (pairs[at] ?? 'Key=').split(/=(.*)/s)
  switch (choice) {
    case 0:
      pairs.splice(at, 1)
      break
    case 1:
      pairs.splice(at, 0, pairs[at] ?? 'Key=Value')
      break
    case 2:
      pairs[at] = `${key}=${random.pick(['', 'x'.repeat(300), '0', '-1', '99999999999999999999999', '0x', '0xZZ', '0b', '0b====', 'Yes,No', 'None,CRC32C,Bogus', 'Reject', 'Irrelevant', 'NotUnderstood', '\u00ff\u00fe', `0x${'ab'.repeat(1100)}`])}`
      break
    case 3:
      pairs[at] = `${random.pick(['', 'X-x', 'X#y', 'k'.repeat(64), 'CHAP_R', 'CHAP_C', 'TargetName', 'SessionType', 'SendTargets', 'AuthMethod', 'TaskReporting', 'iSCSIProtocolLevel', 'OFMarker', 'IFMarkInt'])}=${value}`
      break
    case 4:
      return Buffer.from(pairs.join('=').replace(/=/g, random.chance(0.5) ? '' : '=='), 'latin1')
    case 5:
      return Buffer.from(pairs.join(''), 'latin1')
    case 6:
      for (let i = random.int(1, 400); i > 0; i--) pairs.push(`X-k${i}=${'v'.repeat(random.int(0, 20))}`)
      break
    case 7:
      return random.bytes(random.int(1, 600))
    case 8:
      pairs[at] = `${key}=${value}${'\u0000'.repeat(random.int(1, 3))}${random.bytes(8).toString('latin1')}`
      break
    default:
      pairs.reverse()
  }
  return Buffer.from(pairs.map((p) => `${p}\0`).join(''), 'latin1')
}

function flipBit(bytes: Buffer, at: number, bit: number): void {
  bytes[at] = (bytes[at] ?? 0) ^ (1 << bit)
}

const TEXT_OPCODES = new Set([0x03, 0x04])

/** A semantically mutated copy of the PDU (still encodable), and what was done. */
export function mutateValue(random: Random, pdu: Pdu): { pdu: Pdu; kind: MutationKind } {
  const copy = { ...pdu } as Record<string, unknown>
  const choice = random.int(0, 9)
  if (choice <= 3) {
    const numeric = Object.keys(copy).filter((k) => k !== 'opcode' && typeof copy[k] === 'number')
    if (numeric.length > 0) {
      const key = random.pick(numeric)
      const original = copy[key] as number
      if (BYTE_FIELDS.has(key)) copy[key] = interesting(random, original, U8_INTERESTING, 0xff)
      else if (SHORT_FIELDS.has(key)) copy[key] = interesting(random, original, U16_INTERESTING, 0xffff)
      else copy[key] = interesting(random, original, U32_INTERESTING, 0xffffffff) >>> 0
      return { pdu: copy as unknown as Pdu, kind: 'field' }
    }
  }
  if (choice <= 5) {
    const flags = Object.keys(copy).filter((k) => typeof copy[k] === 'boolean')
    if (flags.length > 0) {
      const key = random.pick(flags)
      copy[key] = !(copy[key] as boolean)
      return { pdu: copy as unknown as Pdu, kind: 'flag' }
    }
  }
  if (choice === 6 && 'lun' in copy) {
    copy.lun = random.pick(LUN_VALUES)
    return { pdu: copy as unknown as Pdu, kind: 'field' }
  }
  if (choice === 7 && copy.cdb instanceof Buffer) {
    const cdb = Buffer.from(copy.cdb)
    for (let i = random.int(1, 4); i > 0; i--) cdb[random.int(0, cdb.length - 1)] = random.pick([0, 0xff, random.int(0, 255)])
    copy.cdb = cdb
    return { pdu: copy as unknown as Pdu, kind: 'cdb' }
  }
  const data = copy.data as Buffer
  if (TEXT_OPCODES.has(pdu.opcode) && random.chance(0.7)) {
    copy.data = mutateText(random, data)
    return { pdu: copy as unknown as Pdu, kind: 'text' }
  }
  switch (random.int(0, 3)) {
    case 0:
      copy.data = data.subarray(0, random.int(0, data.length))
      break
    case 1:
      copy.data = Buffer.concat([data, random.bytes(random.pick([1, 3, 4, 512, 8193]))])
      break
    default: {
      const bytes = Buffer.from(data.length > 0 ? data : random.bytes(random.int(1, 64)))
      for (let i = random.int(1, 8); i > 0; i--) flipBit(bytes, random.int(0, bytes.length - 1), random.int(0, 7))
      copy.data = bytes
    }
  }
  return { pdu: copy as unknown as Pdu, kind: 'data' }
}

/** Header fields as (offset, width) in the BHS (RFC 7143 11.2.1). */
const HEADER_FIELDS: ReadonlyArray<readonly [number, 1 | 2 | 3 | 4]> = [
  [0, 1], // I bit and opcode
  [1, 1], // flags
  [2, 1],
  [3, 1],
  [4, 1], // TotalAHSLength
  [5, 3], // DataSegmentLength
  [8, 4], // LUN / ISID ...
  [12, 4],
  [16, 4], // ITT
  [20, 4], // TTT / EDTL
  [24, 4], // CmdSN
  [28, 4], // ExpStatSN
  [32, 4],
  [36, 4],
  [40, 4],
  [44, 4],
]

function fixHeaderDigest(bytes: Buffer, headerEnd: number): void {
  writeDigest(crc32c(bytes.subarray(0, headerEnd - 4)), bytes, headerEnd - 4)
}

function mutateBytes(random: Random, bytes: Buffer, headerEnd: number, digests: DigestOptions, other: Buffer | undefined): { units: Buffer[]; kind: MutationKind } {
  const copy = Buffer.from(bytes)
  const header = Math.min(48, copy.length)
  const fixDigest = (): void => {
    if (digests.headerDigest === true && headerEnd <= copy.length && random.chance(0.7)) fixHeaderDigest(copy, headerEnd)
  }
  switch (random.weighted<MutationKind>([
    ['bit-flip', 4],
    ['header-field', 6],
    ['truncate', 2],
    ['splice', 1],
    ['junk', 1],
    ['insert-junk', 1],
    ['duplicate', 2],
  ])) {
    case 'bit-flip':
      for (let i = random.int(1, 8); i > 0; i--) {
        flipBit(copy, random.chance(0.85) ? random.int(0, header - 1) : random.int(0, copy.length - 1), random.int(0, 7))
      }
      fixDigest()
      return { units: [copy], kind: 'bit-flip' }
    case 'header-field': {
      const [offset, width] = random.pick(HEADER_FIELDS)
      if (width === 1) copy[offset] = offset === 0 ? (random.chance(0.5) ? random.int(0, 0x7f) : (copy[0]! & 0x40) | random.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x1c, 0x1d, 0x1e, 0x20, 0x3f])) : random.pick(U8_INTERESTING)
      else if (width === 3) copy.writeUIntBE(interesting(random, copy.readUIntBE(offset, 3), U32_INTERESTING, 0xffffff), offset, 3)
      else copy.writeUInt32BE(interesting(random, copy.readUInt32BE(offset), U32_INTERESTING, 0xffffffff) >>> 0, offset)
      fixDigest()
      return { units: [copy], kind: 'header-field' }
    }
    case 'truncate':
      return { units: [copy.subarray(0, random.int(0, copy.length - 1))], kind: 'truncate' }
    case 'splice': {
      const tail = other ?? random.bytes(64)
      return { units: [Buffer.concat([copy.subarray(0, random.int(1, copy.length)), tail.subarray(random.int(0, tail.length - 1))])], kind: 'splice' }
    }
    case 'junk': {
      const junk = random.bytes(random.pick([1, 7, 47, 48, 52, random.int(1, 300)]))
      if (junk.length >= 48 && random.chance(0.5)) {
        // A header-sized block with a real initiator opcode and a small DataSegmentLength: looks like a PDU.
        junk[0] = random.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x41, 0x42, 0x46])
        junk[4] = 0
        junk.writeUIntBE(random.int(0, Math.max(0, junk.length - 48)), 5, 3)
      }
      return { units: [junk], kind: 'junk' }
    }
    case 'insert-junk':
      return { units: [random.bytes(random.int(1, 64)), copy], kind: 'insert-junk' }
    default:
      return { units: [copy, Buffer.from(copy)], kind: 'duplicate' }
  }
}

/** Encode `pdus` with `digests`, mutating some of them; returns the byte units to send. */
export function mutateSequence(random: Random, pdus: readonly Pdu[], digests: DigestOptions, rates: MutationRates = DEFAULT_RATES): MutatedStream {
  const units: Buffer[] = []
  const mutations: Partial<Record<MutationKind, number>> = {}
  const note = (kind: MutationKind): void => {
    mutations[kind] = (mutations[kind] ?? 0) + 1
  }
  let previous: Buffer | undefined
  for (let i = 0; i < pdus.length; i++) {
    const original = pdus[i]!
    if (!random.chance(rates.mutate)) {
      const bytes = encodePdu(original, digests)
      units.push(bytes)
      previous = bytes
      note('none')
      continue
    }
    if (random.chance(rates.semantic)) {
      const { pdu, kind } = mutateValue(random, original)
      try {
        const bytes = encodePdu(pdu, digests)
        units.push(bytes)
        previous = bytes
        note(kind)
        continue
      } catch {
        // The value no longer encodes (a field out of range): mutate the bytes instead.
      }
    }
    const bytes = encodePdu(original, digests)
    if (random.chance(0.05) && i + 1 < pdus.length) {
      // Swap with the next PDU.
      const next = encodePdu(pdus[i + 1]!, digests)
      units.push(next, bytes)
      i++
      previous = bytes
      note('swap')
      continue
    }
    const result = mutateBytes(random, bytes, headerLength(original, digests), digests, previous)
    units.push(...result.units)
    previous = bytes
    note(result.kind)
  }
  return { units, mutations }
}

/** Split a stream into chunks at random points (the target's framer must cope with any split). */
export function chunk(random: Random, units: readonly Buffer[]): Buffer[] {
  const whole = Buffer.concat(units)
  const out: Buffer[] = []
  let offset = 0
  while (offset < whole.length) {
    const n = random.chance(0.7) ? whole.length - offset : random.int(1, Math.min(whole.length - offset, random.pick([1, 13, 48, 49, 512, 4096, 65536])))
    out.push(whole.subarray(offset, offset + n))
    offset += n
  }
  return out
}
