// Durability of FileBackstore against a process kill: a child process writes with FUA, or writes and unmaps then
// SYNCHRONIZE CACHE (flush), printing an acknowledgement once each completes; the test SIGKILLs it mid-stream,
// reopens the image and checks every acknowledged write (and unmap) is there, and that the allocation map never
// calls a block holding data deallocated.
//
// The child is plain JavaScript running the real FileBackstore: the package sources are transpiled into a temporary
// directory with the TypeScript compiler's transpileModule (no bundler, no loader hooks), which Node 20 runs as ESM.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileBackstore } from './file-backstore.js'

const sourceRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const BLOCKS = 64
let work: string

async function transpileTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name)
    if (entry.isDirectory()) {
      await transpileTree(source, join(to, entry.name))
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      const output = ts.transpileModule(await readFile(source, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        fileName: source,
      })
      const target = join(to, relative(from, source).replace(/\.ts$/, '.js'))
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, output.outputText)
    }
  }
}

const CHILD = `
import { FileBackstore } from './src/backstore/file-backstore.js'
const [path, mode] = process.argv.slice(2)
const BLOCKS = ${BLOCKS}
const store = await FileBackstore.open(path, { size: BLOCKS * 2 * 512 })
const block = (lba, round) => {
  const data = Buffer.alloc(512, (lba % 250) + 1)
  data.write('lba ' + lba + ' round ' + round + ';')
  return data
}
const say = (line) => new Promise((resolve) => process.stdout.write(line + '\\n', resolve))
for (let round = 0; ; round++) {
  if (mode === 'fua') {
    for (let lba = 0; lba < BLOCKS; lba++) {
      await store.write(lba, block(lba, round), { fua: true })
      await say('write ' + lba + ' ' + round)
    }
  } else {
    // Writes to the first half, write-then-unmap of the second half, then one flush acknowledges them all.
    await Promise.all(Array.from({ length: BLOCKS }, (_, lba) => store.write(lba, block(lba, round))))
    for (let lba = BLOCKS; lba < 2 * BLOCKS; lba += 8) {
      await store.write(lba, Buffer.concat(Array.from({ length: 8 }, (_, i) => block(lba + i, round))))
      await store.unmap(lba, 8)
    }
    await store.flush()
    await say('round ' + round)
  }
}
`

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iscsi-ts-durability-'))
  await transpileTree(sourceRoot, join(work, 'src'))
  await writeFile(join(work, 'package.json'), '{"type":"module"}')
  await writeFile(join(work, 'child.mjs'), CHILD)
}, 60_000)

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Run the child until it has acknowledged `acks` lines, SIGKILL it, and return the acknowledgements. */
async function runAndKill(image: string, mode: 'fua' | 'sync', acks: number): Promise<string[]> {
  const child = spawn(process.execPath, [join(work, 'child.mjs'), image, mode], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  const lines: string[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    lines.push(line)
    if (lines.length >= acks) {
      child.kill('SIGKILL')
      break
    }
  }
  const signal = await exited
  expect(stderr).toBe('')
  expect(signal).toBe('SIGKILL')
  return lines
}

function roundOf(data: Buffer, lba: number): number | undefined {
  if (data.every((byte) => byte === 0)) return undefined
  const match = /^lba (\d+) round (\d+);/.exec(data.toString('latin1', 0, 40))
  expect(match?.[1], `LBA ${lba} holds another block's data`).toBe(String(lba))
  return Number(match![2])
}

/** Every block that holds data must be reported mapped (the map may be conservative, never the reverse). */
async function checkMapIsConservative(store: FileBackstore): Promise<void> {
  const all = Buffer.alloc(store.blockCount * 512)
  await store.read(0, store.blockCount, all)
  for (const run of await store.allocationStatus(0, store.blockCount)) {
    if (run.mapped) continue
    expect(all.subarray(run.lba * 512, (run.lba + run.blocks) * 512).every((byte) => byte === 0), `deallocated run at ${run.lba} holds data`).toBe(true)
  }
}

describe('FileBackstore durability against SIGKILL', () => {
  it('keeps every acknowledged FUA write', async () => {
    const image = join(work, 'fua.img')
    for (const acks of [37, 150, 301]) {
      const lines = await runAndKill(image, 'fua', acks)
      const acked = new Map<number, number>()
      for (const line of lines) {
        const [, lba, round] = line.split(' ')
        acked.set(Number(lba), Number(round))
      }
      const store = await FileBackstore.open(image)
      const data = Buffer.alloc(512)
      for (const [lba, round] of acked) {
        await store.read(lba, 1, data)
        const found = roundOf(data, lba)
        // The acknowledged round, or the next one if its write landed before the kill.
        expect(found === round || found === round + 1, `LBA ${lba}: acknowledged round ${round}, found ${found}`).toBe(true)
      }
      await checkMapIsConservative(store)
      await store.close()
      await rm(image)
      await rm(`${image}.alloc`, { force: true })
    }
  }, 60_000)

  it('keeps every write and unmap acknowledged by a flush', async () => {
    const image = join(work, 'sync.img')
    for (const acks of [1, 4, 9]) {
      const lines = await runAndKill(image, 'sync', acks)
      const round = Number(lines.at(-1)!.split(' ')[1])
      const store = await FileBackstore.open(image)
      const data = Buffer.alloc(512)
      for (let lba = 0; lba < 2 * BLOCKS; lba++) {
        await store.read(lba, 1, data)
        const found = roundOf(data, lba)
        if (lba < BLOCKS) expect(found === round || found === round + 1, `LBA ${lba}: flushed round ${round}, found ${found}`).toBe(true)
        // An unmapped block reads zeros, unless the next (unacknowledged) round wrote it again.
        else expect(found === undefined || found === round + 1, `LBA ${lba}: unmapped in round ${round}, found ${found}`).toBe(true)
      }
      await checkMapIsConservative(store)
      await store.close()
      await rm(image)
      await rm(`${image}.alloc`, { force: true })
    }
  }, 60_000)
})
