// Parsers of the benchmark clients' output, fed what the real tools print.
import { describe, expect, it } from 'vitest'
import { parseIscsiPerf, parseIscsiPerfBlockSize, parseLibiscsiHeaderDigest, parseOurBench, parseQemuBench } from './clients.mjs'

// iscsi-perf 0.1 (libiscsi 1.19) against tgtd: progress lines refreshed with \r, then the final average.
const ISCSI_PERF =
  'iscsi-perf version 0.1 - (c) 2014-2015 by Peter Lieven <pl@kamp.de>\n\n' +
  'connected to iscsi://127.0.0.1:13260/iqn.2026-01.test:t1/1\n' +
  'capacity is 2097152 blocks or 1073741824 byte (1024 MB)\n' +
  'performing RANDOM READ with 32 parallel requests\n' +
  'FIXED transfer size of 8 blocks (4096 byte)\n' +
  'will run for 3 seconds.\n\n' +
  '\r00:00:02 - lba 1661363, iops current 19080 (74 MB/s), iops average 19080 (74 MB/s), in_flight 32, busy 0        ' +
  '\r00:00:01 - lba 308466, iops current 15606 (60 MB/s), iops average 17343 (67 MB/s), in_flight 32, busy 0        ' +
  '\riops average 16658 (65 MB/s)                                                        \n\nfinished.\n'

describe('parseIscsiPerf', () => {
  it('takes the last "iops average", the run total, not a progress line', () => {
    expect(parseIscsiPerf(ISCSI_PERF)).toBe(16658)
  })
  it('is undefined when the run printed no average (a failed login)', () => {
    expect(parseIscsiPerf('iscsi_connect failed. Failed to log in to target\n')).toBeUndefined()
  })
  it('reads the block size from the capacity line', () => {
    expect(parseIscsiPerfBlockSize(ISCSI_PERF)).toBe(512)
    expect(parseIscsiPerfBlockSize('capacity is 262144 blocks or 1073741824 byte (1024 MB)')).toBe(4096)
    expect(parseIscsiPerfBlockSize('nothing')).toBeUndefined()
  })
})

describe('parseLibiscsiHeaderDigest', () => {
  it('reads the negotiated HeaderDigest from LIBISCSI_DEBUG=6 login lines', () => {
    const log = 'libiscsi:6 TargetLoginReply: TargetPortalGroupTag=1 [iqn.x]\nlibiscsi:6 TargetLoginReply: HeaderDigest=CRC32C [iqn.x]\n'
    expect(parseLibiscsiHeaderDigest(log)).toBe('CRC32C')
    expect(parseLibiscsiHeaderDigest('libiscsi:6 TargetLoginReply: HeaderDigest=None [iqn.x]')).toBe('None')
    expect(parseLibiscsiHeaderDigest(ISCSI_PERF)).toBeUndefined()
  })
})

describe('parseQemuBench', () => {
  it('reads the seconds of "Run completed in"', () => {
    const out = 'Sending 20000 write requests, 4096 bytes each, 32 in parallel (starting at offset 0, step size 4096)\nRun completed in 0.932 seconds.\n'
    expect(parseQemuBench(out)).toBe(0.932)
    expect(parseQemuBench('qemu-img: Could not open')).toBeUndefined()
  })
})

describe('parseOurBench', () => {
  const doc = {
    rw: 'randread', blockSize: 512, ioSize: 4096, queueDepth: 32, seconds: 2.0016, ios: 22212, bytes: 90980352,
    iops: 11096.9, bytesPerSecond: 45452884.9,
    latencyUs: { min: 576.5, mean: 2854.5, max: 32930.2, stddev: 2595.4, p50: 1998.8, p90: 5308.4, p99: 12255.2, 'p99.9': 28180.4 },
  }
  it('reads IOPS, bandwidth, p50 and p99 of the --json document', () => {
    expect(parseOurBench(JSON.stringify(doc, null, 2))).toEqual({ iops: 11096.9, bytesPerSecond: 45452884.9, p50Us: 1998.8, p99Us: 12255.2, ios: 22212 })
  })
  it('is undefined for text that is not the result document', () => {
    expect(parseOurBench('iscsi: login failed')).toBeUndefined()
    expect(parseOurBench('{"error": "x"}')).toBeUndefined()
    expect(parseOurBench('{ broken')).toBeUndefined()
  })
})
