import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Watermark, loadState, removeState, saveState } from './copy-state.js'

const identity = { source: '/img', destination: 'iscsi://h/iqn.x:y/0', size: 10_000, chunkBytes: 1000 }

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-state-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('Watermark', () => {
  it('advances only over contiguous completed chunks', () => {
    const w = new Watermark(1000, 10_000, 0)
    w.complete(1)
    w.complete(2)
    expect(w.done).toBe(0)
    w.complete(0)
    expect(w.done).toBe(3000)
    w.complete(4)
    expect(w.done).toBe(3000)
    w.complete(3)
    expect(w.done).toBe(5000)
  })

  it('starts at a resumed chunk and stops at the size', () => {
    const w = new Watermark(1000, 9500, 8)
    expect(w.done).toBe(8000)
    w.complete(8)
    w.complete(9)
    expect(w.done).toBe(9500)
  })
})

describe('state file', () => {
  it('saves atomically and loads back', async () => {
    const path = join(dir, 'a.state')
    await saveState(path, identity, 4000)
    const state = await loadState(path, identity)
    expect(state).toMatchObject({ version: 1, ...identity, done: 4000 })
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ done: 4000 })
    await removeState(path)
    expect(await loadState(path, identity)).toBeUndefined()
  })

  it('refuses a state of another copy, a corrupt one, and an impossible offset', async () => {
    const path = join(dir, 'b.state')
    await saveState(path, identity, 1000)
    await expect(loadState(path, { ...identity, chunkBytes: 2000 })).rejects.toThrow(/belongs to another copy \(chunkBytes differ\)/)
    await expect(loadState(path, { ...identity, source: '/other', size: 5 })).rejects.toThrow(/source, size differ/)
    await writeFile(path, '{not json')
    await expect(loadState(path, identity)).rejects.toThrow(/not valid JSON/)
    await writeFile(path, JSON.stringify({ version: 1, ...identity, done: 20_000 }))
    await expect(loadState(path, identity)).rejects.toThrow(/belongs to another copy/)
  })
})
