// CRC32C (Castagnoli, reflected polynomial 0x82f63b78), the iSCSI header and data digest (RFC 7143 13.1,
// RFC 3720 appendix B.4). A native implementation (@node-rs/crc32, SSE4.2/ARMv8 CRC instructions) when it loads,
// a pure TypeScript slicing-by-16 fallback otherwise. Both chain: crc32c(b, crc32c(a)) === crc32c(a ++ b).
import { createRequire } from 'node:module'

type Crc32cFunction = (data: Uint8Array, previous?: number) => number

const POLY = 0x82f63b78

/** 16 tables of 256 entries: table k maps a byte to its CRC contribution k bytes ahead. */
const TABLE = makeTable()

function makeTable(): Int32Array {
  const t = new Int32Array(16 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number
    for (let k = 1; k < 16; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
}

/**
 * Pure TypeScript CRC32C, slicing-by-16. `previous` is the CRC of the bytes before `data` (0 to start), so calls
 * chain. Exported so tests and benchmarks can compare it with the native one.
 */
export function crc32cFallback(data: Uint8Array, previous = 0): number {
  return crc32cRange(data, 0, data.length, previous)
}

/** Word loads need the platform's byte order to be little-endian (x86, ARM, RISC-V in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
/** Below this length a typed-array view costs more than the byte loads it saves. */
const WORD_THRESHOLD = 256

/** CRC32C of `data[start, end)` without creating a view (internal; headers are digested in place). */
export function crc32cRange(data: Uint8Array, start: number, end: number, previous = 0): number {
  const t = TABLE
  let crc = ~previous
  let i = start
  if (LITTLE_ENDIAN && end - start >= WORD_THRESHOLD) {
    // Align to 4 bytes, then take 16 bytes as four 32-bit little-endian words per step.
    while (((data.byteOffset + i) & 3) !== 0) {
      crc = (t[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8)
      i++
    }
    const count = ((end - i) >>> 4) << 2
    const words = new Int32Array(data.buffer, data.byteOffset + i, count)
    for (let w = 0; w < count; w += 4) {
      const a = crc ^ (words[w] as number)
      const b = words[w + 1] as number
      const c = words[w + 2] as number
      const d = words[w + 3] as number
      crc =
        (t[0xf00 + (a & 0xff)] as number) ^
        (t[0xe00 + ((a >>> 8) & 0xff)] as number) ^
        (t[0xd00 + ((a >>> 16) & 0xff)] as number) ^
        (t[0xc00 + (a >>> 24)] as number) ^
        (t[0xb00 + (b & 0xff)] as number) ^
        (t[0xa00 + ((b >>> 8) & 0xff)] as number) ^
        (t[0x900 + ((b >>> 16) & 0xff)] as number) ^
        (t[0x800 + (b >>> 24)] as number) ^
        (t[0x700 + (c & 0xff)] as number) ^
        (t[0x600 + ((c >>> 8) & 0xff)] as number) ^
        (t[0x500 + ((c >>> 16) & 0xff)] as number) ^
        (t[0x400 + (c >>> 24)] as number) ^
        (t[0x300 + (d & 0xff)] as number) ^
        (t[0x200 + ((d >>> 8) & 0xff)] as number) ^
        (t[0x100 + ((d >>> 16) & 0xff)] as number) ^
        (t[d >>> 24] as number)
    }
    i += count * 4
  }
  const end16 = i + ((end - i) & ~15)
  while (i < end16) {
    const a = crc ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24))
    crc =
      (t[0xf00 + (a & 0xff)] as number) ^
      (t[0xe00 + ((a >>> 8) & 0xff)] as number) ^
      (t[0xd00 + ((a >>> 16) & 0xff)] as number) ^
      (t[0xc00 + (a >>> 24)] as number) ^
      (t[0xb00 + (data[i + 4] as number)] as number) ^
      (t[0xa00 + (data[i + 5] as number)] as number) ^
      (t[0x900 + (data[i + 6] as number)] as number) ^
      (t[0x800 + (data[i + 7] as number)] as number) ^
      (t[0x700 + (data[i + 8] as number)] as number) ^
      (t[0x600 + (data[i + 9] as number)] as number) ^
      (t[0x500 + (data[i + 10] as number)] as number) ^
      (t[0x400 + (data[i + 11] as number)] as number) ^
      (t[0x300 + (data[i + 12] as number)] as number) ^
      (t[0x200 + (data[i + 13] as number)] as number) ^
      (t[0x100 + (data[i + 14] as number)] as number) ^
      (t[data[i + 15] as number] as number)
    i += 16
  }
  while (i < end) {
    crc = (t[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8)
    i++
  }
  return ~crc >>> 0
}

function loadNative(): Crc32cFunction | undefined {
  try {
    const require = createRequire(import.meta.url)
    const mod = require('@node-rs/crc32') as { crc32c?: unknown }
    if (typeof mod.crc32c !== 'function') return undefined
    const fn = mod.crc32c as (data: Uint8Array, initial?: number) => number
    // Refuse a binding that disagrees with RFC 3720 B.4 (32 bytes of 0x00 -> 0x8a9136aa).
    if (fn(new Uint8Array(32), 0) >>> 0 !== 0x8a9136aa) return undefined
    return fn
  } catch {
    return undefined
  }
}

/** The native CRC32C, or undefined when @node-rs/crc32 couldn't load on this platform. */
export const crc32cNative: Crc32cFunction | undefined = loadNative()

/** Which implementation `crc32c` uses. */
export const crc32cImplementation: 'native' | 'fallback' = crc32cNative ? 'native' : 'fallback'

/**
 * Below this length the JS loop beats the cost of crossing into native code (48-byte headers are the common case).
 * Measured with tooling/bench/pdu.mjs.
 */
const NATIVE_THRESHOLD = 128

const native = crc32cNative

/** CRC32C of `data`, continuing from `previous` (the CRC of the preceding bytes, 0 to start). */
export const crc32c: (data: Uint8Array, previous?: number) => number = native
  ? (data, previous = 0) => (data.length < NATIVE_THRESHOLD ? crc32cFallback(data, previous) : native(data, previous) >>> 0)
  : crc32cFallback

/** CRC32C of `data[start, end)`, continuing from `previous`; the fastest path for the length (internal). */
export const crc32cSpan: (data: Uint8Array, start: number, end: number, previous: number) => number = native
  ? (data, start, end, previous) =>
      end - start < NATIVE_THRESHOLD ? crc32cRange(data, start, end, previous) : native(data.subarray(start, end), previous) >>> 0
  : crc32cRange

/** Incremental CRC32C: `new Crc32c().update(a).update(b).digest() === crc32c(a ++ b)`. */
export class Crc32c {
  #crc: number

  constructor(previous = 0) {
    this.#crc = previous >>> 0
  }

  update(data: Uint8Array): this {
    this.#crc = crc32c(data, this.#crc)
    return this
  }

  /** The CRC of everything so far (does not reset; more updates may follow). */
  digest(): number {
    return this.#crc
  }

  reset(): this {
    this.#crc = 0
    return this
  }
}

/**
 * Writes a CRC as an iSCSI digest. Real peers put the CRC register on the wire least significant byte first
 * (RFC 3720 B.4: 32 bytes of 0x00 have CRC 0x8a9136aa and travel as `aa 36 91 8a`).
 */
export function writeDigest(crc: number, buf: Uint8Array, offset: number): void {
  buf[offset] = crc
  buf[offset + 1] = crc >>> 8
  buf[offset + 2] = crc >>> 16
  buf[offset + 3] = crc >>> 24
}

/** Reads a 4-byte iSCSI digest as a CRC value (inverse of `writeDigest`). */
export function readDigest(buf: Uint8Array, offset: number): number {
  return (
    ((buf[offset] as number) | ((buf[offset + 1] as number) << 8) | ((buf[offset + 2] as number) << 16) | ((buf[offset + 3] as number) << 24)) >>>
    0
  )
}

/** The 4 wire bytes of the digest of `data` (e.g. `aa 36 91 8a` for 32 zero bytes). */
export function digestOf(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4)
  writeDigest(crc32c(data), out, 0)
  return out
}

/** True when the 4 bytes at `buf[offset]` are the iSCSI digest of `data`. */
export function checkDigest(data: Uint8Array, buf: Uint8Array, offset: number): boolean {
  return crc32c(data) === readDigest(buf, offset)
}
