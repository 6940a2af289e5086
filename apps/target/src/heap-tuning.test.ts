import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { MEMORY_REDUCER_FLAG, SEMI_SPACE_GROWTH_FLAG } from './heap-tuning.js'

/** Run `script` in a fresh node with `flag` set at run time first (in TUNING_FLAG) and `nodeArgs`; returns its output. */
function node(script: string, flag: string | undefined, nodeArgs: string[] = []): string {
  const prelude = `const v8 = require('node:v8'); if (process.env.TUNING_FLAG) v8.setFlagsFromString(process.env.TUNING_FLAG);`
  const env = { ...process.env, TUNING_FLAG: flag ?? '' }
  return execFileSync(process.execPath, [...nodeArgs, '-e', prelude + script], { encoding: 'utf8', env })
}

describe('heap tuning of the binary', () => {
  it('keeps the young generation at its initial size when set at run time, where V8 would otherwise grow it', () => {
    const churn = `
      const ring = new Array(20000)
      for (let i = 0; i < 2e6; i++) ring[i % ring.length] = { i, list: [i, i] }
      const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
      process.stdout.write(String(space.space_size / 1048576))
    `
    expect(Number(node(churn, undefined))).toBeGreaterThan(8)
    expect(Number(node(churn, SEMI_SPACE_GROWTH_FLAG))).toBeLessThanOrEqual(4)
  })

  it('names a memory reducer flag this V8 has, with a delay that fits its int type', () => {
    // setFlagsFromString ignores unknown flags silently: check the name against the running V8's own list.
    const [name, value] = MEMORY_REDUCER_FLAG.split('=') as [string, string]
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' })
    expect(options).toMatch(new RegExp(`${name}\\s.*\\n\\s+type: int`))
    expect(Number(value)).toBeLessThanOrEqual(2 ** 31 - 1)
  })
})
