// Terminal behaviour: progress bars only on a TTY stderr (never with --json or -q), and the CHAP secret prompt.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, runCli } from './testing/memory-target.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL = `iscsi://127.0.0.1/${TARGET}/0`

function setup(): MemoryConnector {
  const c = new MemoryConnector()
  c.addTarget(TARGET).luns.set(0, new MemoryLun({ size: 4 * 1024 * 1024 }))
  c.addTarget('iqn.2026-11.io.iscsi-ts.test:chap', { user: 'alice', secret: 'secretsecret12' }).luns.set(0, new MemoryLun({ size: 1024 * 1024 }))
  return c
}

let dir = ''
let file = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iscsi-cli-tty-'))
  file = join(dir, 'img')
  await writeFile(file, randomBytes(3 * 1024 * 1024))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('progress', () => {
  it('cp draws a progress bar on a terminal stderr and keeps stdout clean', async () => {
    const r = await runCli(['cp', file, URL, '--bs', '256k'], setup(), { stderrTty: true })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/cp \[/)
    expect(r.stdout).toMatch(/^copied 3 MiB/)
  })

  it('bench shows live IOPS on a terminal', async () => {
    const r = await runCli(['bench', URL, '--time', '600ms'], setup(), { stderrTty: true })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/randread \[.*IOPS/)
  })

  it.each([['--json'], ['-q']])('%s: no progress even on a terminal', async (flag) => {
    const r = await runCli([flag, 'cp', file, URL], setup(), { stderrTty: true })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  })

  it('no progress when stderr is not a terminal', async () => {
    const r = await runCli(['cp', file, URL], setup())
    expect(r.stderr).toBe('')
  })
})

describe('CHAP secret prompt', () => {
  function tty(input: string): PassThrough & { isTTY: boolean; modes: boolean[]; setRawMode(mode: boolean): void } {
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      modes: [] as boolean[],
      setRawMode(mode: boolean): void {
        stream.modes.push(mode)
      },
    })
    setTimeout(() => stream.write(input), 10)
    return stream
  }

  it('asks on the terminal without echo, handles backspace, and logs in', async () => {
    const stdin = tty('secretsecret1x\u007f2\r')
    const c = setup()
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], c, { stdin })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('CHAP secret for alice: \n')
    expect(r.stderr).not.toContain('secret1')
    expect(stdin.modes).toEqual([true, false])
    expect(c.connectOptions[0]?.chap).toEqual({ user: 'alice', secret: 'secretsecret12' })
  })

  it('Ctrl-C at the prompt is a usage error', async () => {
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], setup(), { stdin: tty('\u0003') })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('iscsi: no CHAP secret given')
  })

  it('the environment variable wins over the prompt', async () => {
    const stdin = tty('wrong\r')
    const r = await runCli(['--chap-user', 'alice', 'readcap', 'iscsi://127.0.0.1/iqn.2026-11.io.iscsi-ts.test:chap/0'], setup(), { stdin, env: { ISCSI_CHAP_SECRET: 'secretsecret12' } })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  })
})
