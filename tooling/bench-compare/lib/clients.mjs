// The benchmark clients and the parsers of what they print:
//   iscsi-perf (libiscsi)  "iops average 16658 (65 MB/s)" after its \r-refreshed progress lines
//   qemu-img bench         "Run completed in 0.932 seconds." for a fixed request count
//   iscsi bench (ours)     one JSON document with --json: iops, bytesPerSecond, latencyUs.p50/p99
// Every runner resolves { iops, bytesPerSecond, p50Us?, p99Us?, clientCpu, clientPeakRss, target } and rejects with
// the client's output when it fails or prints nothing we can read.
import { join } from 'node:path'
import { measuredRun } from './measured-run.mjs'
import { tailLines } from './processes.mjs'
import { findTool } from './tools.mjs'

/** The final average IOPS of iscsi-perf's output, or undefined. */
export function parseIscsiPerf(text) {
  const matches = [...text.matchAll(/iops average (\d+)/g)]
  const last = matches[matches.length - 1]
  return last === undefined ? undefined : Number(last[1])
}

/** iscsi-perf's block size from "capacity is N blocks or M byte", or undefined. */
export function parseIscsiPerfBlockSize(text) {
  const match = /capacity is (\d+) blocks or (\d+) byte/.exec(text)
  if (!match) return undefined
  const blocks = Number(match[1])
  return blocks > 0 ? Number(match[2]) / blocks : undefined
}

/** The negotiated HeaderDigest of a libiscsi login (LIBISCSI_DEBUG >= 6), or undefined. */
export function parseLibiscsiHeaderDigest(text) {
  const match = /TargetLoginReply: HeaderDigest=(\w+)/.exec(text)
  return match ? match[1] : undefined
}

/** Seconds from qemu-img bench's "Run completed in X seconds.", or undefined. */
export function parseQemuBench(text) {
  const match = /Run completed in ([\d.]+) seconds/.exec(text)
  return match ? Number(match[1]) : undefined
}

/** The figures of `iscsi --json bench`, or undefined when the JSON is not there or lacks them. */
export function parseOurBench(text) {
  const start = text.indexOf('{')
  if (start < 0) return undefined
  let doc
  try {
    doc = JSON.parse(text.slice(start))
  } catch {
    return undefined
  }
  if (typeof doc?.iops !== 'number' || typeof doc?.bytesPerSecond !== 'number') return undefined
  return {
    iops: doc.iops,
    bytesPerSecond: doc.bytesPerSecond,
    p50Us: doc.latencyUs?.p50,
    p99Us: doc.latencyUs?.p99,
    ios: doc.ios,
  }
}

function failure(what, result, reason) {
  return new Error(`${what} ${reason} (exit ${result.code}); its output:\n${tailLines(result.stdout + result.stderr)}`)
}

/**
 * iscsi-perf: `bytes` per read (a multiple of the LUN's block size), `depth` in flight, random or sequential, for
 * `seconds`. With `expectHeaderDigest` the login is logged (LIBISCSI_DEBUG=6) and must show HeaderDigest=CRC32C.
 */
export async function runIscsiPerf({ url, bytes, depth, random, seconds, targetPid, blockSize = 512, expectHeaderDigest = false }) {
  const file = findTool('iscsi-perf')
  const args = ['-m', String(depth), '-b', String(bytes / blockSize), '-t', String(seconds), ...(random ? ['-r'] : []), url]
  const env = { ...process.env }
  if (expectHeaderDigest) env.LIBISCSI_DEBUG = '6'
  else delete env.LIBISCSI_DEBUG
  const result = await measuredRun(file, args, { env, targetPid, timeoutMs: (seconds + 60) * 1000 })
  const what = `iscsi-perf ${args.join(' ')}`
  const all = result.stdout + result.stderr
  if (result.code !== 0) throw failure(what, result, 'failed')
  const seen = parseIscsiPerfBlockSize(all)
  if (seen !== undefined && seen !== blockSize) throw failure(what, result, `saw block size ${seen}, expected ${blockSize}`)
  const iops = parseIscsiPerf(all)
  if (iops === undefined) throw failure(what, result, 'printed no "iops average"')
  if (expectHeaderDigest && parseLibiscsiHeaderDigest(all) !== 'CRC32C') {
    throw failure(what, result, `did not negotiate HeaderDigest=CRC32C (got ${parseLibiscsiHeaderDigest(all) ?? 'nothing'})`)
  }
  return { ...result, iops, bytesPerSecond: iops * bytes }
}

/** qemu-img bench: `count` requests of `bytes` at `depth`, sequential from offset 0 (wrapping), reads or writes. */
export async function runQemuBench({ url, bytes, depth, count, write, targetPid }) {
  const file = findTool('qemu-img')
  const args = ['bench', '-f', 'raw', '-t', 'none', '-c', String(count), '-d', String(depth), '-s', String(bytes)]
  if (write) args.push('-w', '--pattern=165')
  args.push(url)
  const result = await measuredRun(file, args, { targetPid, timeoutMs: 600_000 })
  const what = `qemu-img ${args.join(' ')}`
  if (result.code !== 0) throw failure(what, result, 'failed')
  const seconds = parseQemuBench(result.stdout + result.stderr)
  if (seconds === undefined) throw failure(what, result, 'printed no "Run completed in"')
  const iops = count / Math.max(seconds, 1e-3)
  return { ...result, iops, bytesPerSecond: iops * bytes, seconds }
}

/** Our CLI's `iscsi bench` with --json. */
export async function runOurBench({ repoRoot, url, rw, bytes, depth, seconds, headerDigest = false, dataDigest = false, targetPid }) {
  const args = [
    join(repoRoot, 'apps/cli/dist/bin.js'),
    '--json', '--quiet',
    ...(headerDigest ? ['--header-digest'] : []),
    ...(dataDigest ? ['--data-digest'] : []),
    'bench', url,
    '--rw', rw, '--bs', String(bytes), '--qd', String(depth), '--time', `${seconds}s`,
  ]
  const result = await measuredRun(process.execPath, args, { targetPid, cwd: repoRoot, timeoutMs: (seconds + 60) * 1000 })
  const what = `iscsi ${args.slice(1).join(' ')}`
  if (result.code !== 0) throw failure(what, result, 'failed')
  const parsed = parseOurBench(result.stdout)
  if (parsed === undefined) throw failure(what, result, 'printed no JSON result')
  return { ...result, ...parsed }
}
