// read and write against an in-memory LUN: any offset and length, partial blocks kept intact, FUA, files.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, runCli } from '../testing/memory-target.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL = `iscsi://127.0.0.1/${TARGET}/0`
const SIZE = 256 * 1024

function setup(blockSize = 512): { connector: MemoryConnector; lun: MemoryLun } {
  const connector = new MemoryConnector()
  const lun = new MemoryLun({ size: SIZE, blockSize })
  connector.addTarget(TARGET).luns.set(0, lun)
  return { connector, lun }
}

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-rw-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('read', () => {
  it('reads an unaligned range to stdout', async () => {
    const { connector, lun } = setup()
    const pattern = randomBytes(SIZE)
    lun.fill(0, pattern)
    const r = await runCli(['read', URL, '--offset', '1000', '--length', '3000'], connector)
    expect(r.code).toBe(0)
    expect(r.stdoutBytes.equals(pattern.subarray(1000, 4000))).toBe(true)
  })

  it('reads the whole LUN by default, in pipelined chunks', async () => {
    const { connector, lun } = setup()
    const pattern = randomBytes(SIZE)
    lun.fill(0, pattern)
    const r = await runCli(['read', URL, '--bs', '16k', '--qd', '4'], connector)
    expect(r.code).toBe(0)
    expect(r.stdoutBytes.equals(pattern)).toBe(true)
    expect(lun.counts.read).toBe(SIZE / 16384)
  })

  it('reads to a file with -o and notes it on stderr', async () => {
    const { connector, lun } = setup()
    lun.fill(4096, Buffer.from('hello'))
    const file = join(dir, 'out.bin')
    const r = await runCli(['read', URL, '--offset', '4k', '--length', '5', '-o', file], connector)
    expect(r.code).toBe(0)
    expect(await readFile(file, 'utf8')).toBe('hello')
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`read 5 B (5 bytes) from offset 4096 to ${file}\n`)
  })

  it('--json carries the data in base64', async () => {
    const { connector, lun } = setup()
    lun.fill(0, Buffer.from('abc'))
    const r = await runCli(['--json', 'read', URL, '--length', '3'], connector)
    expect(JSON.parse(r.stdout)).toEqual({ offset: 0, length: 3, blockSize: 512, data: Buffer.from('abc').toString('base64') })
  })

  it('refuses binary data on a terminal unless asked with -o -', async () => {
    const { connector, lun } = setup()
    lun.fill(0, Buffer.from('hi'))
    const refused = await runCli(['read', URL, '--length', '2'], connector, { stdoutTty: true })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('iscsi: refusing to write binary data to a terminal: use -o FILE, -o - or a pipe\n')
    const forced = await runCli(['read', URL, '--length', '2', '-o', '-'], connector, { stdoutTty: true })
    expect(forced.code).toBe(0)
    expect(forced.stdout).toBe('hi')
  })

  it('refuses an offset at the end without a length', async () => {
    const { connector } = setup()
    const r = await runCli(['read', URL, '--offset', String(SIZE)], connector)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('past the end of the LUN')
  })

  it('a missing output directory is an I/O error (exit 1)', async () => {
    const { connector } = setup()
    const r = await runCli(['read', URL, '--length', '1', '-o', join(dir, 'no', 'such', 'dir')], connector)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^iscsi: open output failed: ENOENT/)
  })
})

describe('write', () => {
  it('writes stdin at an unaligned offset and keeps the bytes around it (read-modify-write)', async () => {
    const { connector, lun } = setup()
    const before = randomBytes(SIZE)
    lun.fill(0, before)
    const r = await runCli(['write', URL, '--offset', '700'], connector, { stdin: 'hello world' })
    expect(r.code).toBe(0)
    const expected = Buffer.from(before)
    Buffer.from('hello world').copy(expected, 700)
    expect(lun.data.equals(expected)).toBe(true)
    expect(r.stderr).toBe('wrote 11 B (11 bytes) at offset 700\n')
  })

  it('round-trips random ranges (property)', async () => {
    const { connector, lun } = setup(4096)
    const mirror = Buffer.alloc(SIZE)
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE - 1 }), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 5 }), async (offset, wanted, qd) => {
        const length = Math.min(wanted, SIZE - offset)
        const data = randomBytes(length)
        const w = await runCli(['write', URL, '--offset', String(offset), '--bs', '8k', '--qd', String(qd)], connector, { stdin: data })
        expect(w.code).toBe(0)
        data.copy(mirror, offset)
        expect(lun.data.equals(mirror)).toBe(true)
        const r = await runCli(['read', URL, '--offset', String(offset), '--length', String(length)], connector)
        expect(r.stdoutBytes.equals(data)).toBe(true)
      }),
      { numRuns: 40, interruptAfterTimeLimit: 2500 },
    )
  })

  it('writes a file with FUA on every WRITE', async () => {
    const { connector, lun } = setup()
    const file = join(dir, 'in.bin')
    const data = randomBytes(64 * 1024)
    await writeFile(file, data)
    const r = await runCli(['--json', 'write', URL, '-i', file, '--fua', '--bs', '16k'], connector)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ offset: 0, length: data.length, blockSize: 512, fua: true })
    expect(lun.data.subarray(0, data.length).equals(data)).toBe(true)
    expect(lun.counts.write).toBe(4)
    expect(lun.counts.fua).toBe(4)
  })

  it('writing past the end fails with the target\'s sense', async () => {
    const { connector } = setup()
    const r = await runCli(['write', URL, '--offset', String(SIZE - 512)], connector, { stdin: randomBytes(1024) })
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('iscsi: write failed: ILLEGAL REQUEST: logical block address out of range (0x21/0x00)\n')
  })

  it('a missing input file is an I/O error', async () => {
    const { connector } = setup()
    const r = await runCli(['write', URL, '-i', join(dir, 'missing.bin')], connector)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/open input failed: ENOENT/)
  })

  it('refuses to read data from a terminal', async () => {
    const { connector } = setup()
    const r = await runCli(['write', URL], connector, { stdinTty: true })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no input')
  })
})
