// Benchmarks for @iscsi-ts/pdu: CRC32C, framer PDU rate, framer throughput with and without digests.
// Runs against the built package (pnpm build first): node tooling/bench/pdu.mjs
import {
  crc32cFallback,
  crc32cNative,
  encodeHeader,
  encodePdu,
  PduFramer,
  serializePdu,
} from '../../packages/pdu/dist/index.js'
import { buildDataIn, buildNopOut, buildScsiCommand } from '../../packages/pdu/dist/testing.js'

const CHUNK = 64 * 1024
const rows = []

/** Runs `fn` (which processes `bytesPerRun` bytes or `itemsPerRun` items) until `seconds` elapse; best of 3. */
function measure(fn, seconds = 0.4) {
  fn() // warm up
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    let runs = 0
    const start = process.hrtime.bigint()
    let elapsed = 0
    while (elapsed < seconds / 3) {
      fn()
      runs++
      elapsed = Number(process.hrtime.bigint() - start) / 1e9
    }
    best = Math.min(best, elapsed / runs)
  }
  return best // seconds per run
}

function row(name, value, unit, goal) {
  rows.push({ name, value, unit, goal })
}

// --- CRC32C ---------------------------------------------------------------------------------------------------
const big = Buffer.alloc(1 << 20)
for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
const crcSizes = [
  ['512 B', 512],
  ['8 KiB', 8192],
  ['1 MiB', 1 << 20],
]
const crcImpls = [
  ['native', crc32cNative],
  ['fallback', crc32cFallback],
]
for (const [implName, fn] of crcImpls) {
  if (!fn) {
    row(`CRC32C ${implName}`, NaN, 'unavailable', '')
    continue
  }
  for (const [sizeName, size] of crcSizes) {
    const buf = big.subarray(0, size)
    const reps = Math.max(1, Math.floor((1 << 22) / size))
    let sink = 0
    const t = measure(() => {
      for (let i = 0; i < reps; i++) sink ^= fn(buf, sink)
    })
    const goal = size === 1 << 20 ? (implName === 'native' ? '>= 5' : '>= 1') : ''
    row(`CRC32C ${implName} ${sizeName}`, (reps * size) / t / 1e9, 'GB/s', goal)
  }
}

// --- Framer: header-only PDUs ------------------------------------------------------------------------------------
function chunked(bytes) {
  const chunks = []
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK))
  return chunks
}

// The consumer keeps the last PDU and reads a field of each, so the decoded objects really escape.
let lastPdu
let ittSum = 0

function framerRun(chunks, digests, max, placeData) {
  let count = 0
  const framer = new PduFramer({
    ...digests,
    maxRecvDataSegmentLength: max,
    placeData,
    onPdu: (pdu) => {
      count++
      ittSum += pdu.itt ?? 0
      lastPdu = pdu
    },
    onError: (error) => {
      throw error
    },
  })
  for (const chunk of chunks) framer.push(chunk)
  return count
}

const N = 10_000
for (const [name, build] of [
  ['NOP-Out', (i) => buildNopOut({ itt: i, cmdSN: i })],
  ['SCSI Command', (i) => buildScsiCommand({ itt: i, cmdSN: i, read: true, expectedDataTransferLength: 4096, cdb: Buffer.from('28000000000000000800000000000000', 'hex') })],
]) {
  for (const digests of [{}, { headerDigest: true }]) {
    const bytes = Buffer.concat(Array.from({ length: N }, (_, i) => encodePdu(build(i), digests)))
    const chunks = chunked(bytes)
    if (framerRun(chunks, digests, 8192) !== N) throw new Error('framer lost PDUs')
    const t = measure(() => framerRun(chunks, digests, 8192))
    row(`framer ${name}, header digest ${digests.headerDigest ? 'on ' : 'off'}`, N / t / 1e6, 'M PDU/s', digests.headerDigest ? '' : '>= 1')
  }
}

// --- Framer: 256 KiB Data-In -------------------------------------------------------------------------------------
// 64 KiB chunks: every data segment spans chunks, so the framer copies it into one Buffer (digests off: one memcpy
// into fresh memory; digests on: the same memcpy plus CRC32C over header and data). Off and on are measured in
// alternation, best of several rounds, to keep GC and frequency noise out of the ratio.
const SEGMENT = 256 * 1024
const PDUS = 32
const payload = big.subarray(0, SEGMENT)
const DIGESTS_ON = { headerDigest: true, dataDigest: true }
function dataInChunks(digests) {
  return chunked(Buffer.concat(Array.from({ length: PDUS }, (_, i) => encodePdu(buildDataIn({ itt: i, dataSN: i, data: payload }), digests))))
}
const offChunks = dataInChunks({})
const onChunks = dataInChunks(DIGESTS_ON)
if (framerRun(offChunks, {}, SEGMENT) !== PDUS || framerRun(onChunks, DIGESTS_ON, SEGMENT) !== PDUS) throw new Error('framer lost PDUs')

function alternate(runOff, runOn, rounds = 6, seconds = 0.25) {
  let off = Infinity
  let on = Infinity
  for (let i = 0; i < rounds; i++) {
    off = Math.min(off, measure(runOff, seconds))
    on = Math.min(on, measure(runOn, seconds))
  }
  return { off: (PDUS * SEGMENT) / off / 1e9, on: (PDUS * SEGMENT) / on / 1e9 }
}

const copied = alternate(() => framerRun(offChunks, {}, SEGMENT), () => framerRun(onChunks, DIGESTS_ON, SEGMENT))
row('framer 256 KiB Data-In, digests off', copied.off, 'GB/s', '')
row('framer 256 KiB Data-In, digests on', copied.on, 'GB/s', '')
row('framer 256 KiB Data-In, digests on/off', (copied.on / copied.off) * 100, '%', '>= 80')

// Same streams with placeData: each segment lands in the caller's (reused, cache-warm) read buffer, as an initiator
// would do, so the framer's own copy is the only one.
{
  const readBuffer = Buffer.alloc(SEGMENT)
  const place = (_pdu, length) => readBuffer.subarray(0, length)
  const placed = alternate(() => framerRun(offChunks, {}, SEGMENT, place), () => framerRun(onChunks, DIGESTS_ON, SEGMENT, place), 4)
  row('framer Data-In into placeData buffer, digests off', placed.off, 'GB/s', '')
  row('framer Data-In into placeData buffer, digests on', placed.on, 'GB/s', '')
  row('framer Data-In into placeData buffer, on/off', (placed.on / placed.off) * 100, '%', '')
}

// One whole PDU per chunk: data segments are zero-copy views; digests on is then pure CRC32C speed.
{
  const plain = Array.from({ length: PDUS }, (_, i) => encodePdu(buildDataIn({ itt: i, data: payload })))
  const digested = Array.from({ length: PDUS }, (_, i) => encodePdu(buildDataIn({ itt: i, data: payload }), DIGESTS_ON))
  const viewed = alternate(() => framerRun(plain, {}, SEGMENT), () => framerRun(digested, DIGESTS_ON, SEGMENT), 3)
  row('framer Data-In, one PDU per chunk (views), digests off', viewed.off, 'GB/s', '')
  row('framer Data-In, one PDU per chunk (views), digests on', viewed.on, 'GB/s', '')
}

// Reference: the two costs the split-segment case is made of, on the same bytes.
{
  const dst = []
  const tCopy = measure(() => {
    for (let i = 0; i < PDUS; i++) {
      const out = Buffer.allocUnsafe(SEGMENT)
      payload.copy(out)
      dst[i & 3] = out
    }
  })
  const tCrc = measure(() => {
    for (let i = 0; i < PDUS; i++) crc32cNative?.(payload, 0)
  })
  row('reference: memcpy 256 KiB into fresh Buffers', (PDUS * SEGMENT) / tCopy / 1e9, 'GB/s', '')
  row('reference: native CRC32C of 256 KiB', (PDUS * SEGMENT) / tCrc / 1e9, 'GB/s', '')
  row('reference: bound on on/off = copy / (copy + crc)', (tCopy / (tCopy + tCrc)) * 100, '%', '')
}

// --- Encoding hot path -------------------------------------------------------------------------------------------
{
  const scratch = Buffer.alloc(52)
  const pdu = buildDataIn({ data: payload })
  const reps = 10_000
  const t = measure(() => {
    for (let i = 0; i < reps; i++) {
      pdu.dataSN = i
      encodeHeader(pdu, scratch, 0)
    }
  })
  row('encodeHeader Data-In into a reused buffer', reps / t / 1e6, 'M PDU/s', '')
  const t2 = measure(() => {
    for (let i = 0; i < reps; i++) serializePdu(buildNopOut({ itt: i }))
  })
  row('serializePdu NOP-Out (build + iovecs)', reps / t2 / 1e6, 'M PDU/s', '')
}

// --- Report ------------------------------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.name.length))
console.log(`@iscsi-ts/pdu benchmark (node ${process.version}, ${CHUNK / 1024} KiB chunks, checksum ${ittSum > 0 ? 'ok' : '?'}${lastPdu ? '' : '?'})`)
console.log(`${'case'.padEnd(width)}  ${'value'.padStart(9)}  ${'unit'.padEnd(8)}  goal`)
console.log(`${'-'.repeat(width)}  ${'-'.repeat(9)}  ${'-'.repeat(8)}  ------`)
for (const { name, value, unit, goal } of rows) {
  const pass = goal === '' ? '' : value >= Number(goal.replace('>= ', '')) ? '  ok' : '  MISSED'
  console.log(`${name.padEnd(width)}  ${Number.isNaN(value) ? '-'.padStart(9) : value.toFixed(2).padStart(9)}  ${unit.padEnd(8)}  ${goal}${pass}`)
}
