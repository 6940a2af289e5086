// ping, reserve, release and pr against an in-memory LUN.
import { describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, runCli } from '../testing/memory-target.js'
import { parseKey, parseType } from './pr.js'
import { summarize } from './ping.js'

const TARGET = 'iqn.2026-11.io.iscsi-ts.test:disk'
const URL = `iscsi://127.0.0.1/${TARGET}/0`

function setup(): { connector: MemoryConnector; lun: MemoryLun } {
  const connector = new MemoryConnector()
  const lun = new MemoryLun({ size: 1024 * 1024 })
  connector.addTarget(TARGET).luns.set(0, lun)
  return { connector, lun }
}

describe('ping', () => {
  it('prints each round trip and a summary (golden)', async () => {
    const r = await runCli(['ping', URL.replace(/\/0$/, ''), '-c', '3', '-i', '1ms'], setup().connector)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        `PING ${TARGET} (127.0.0.1:3260)`,
        'nop_seq=1 time=0.250 ms',
        'nop_seq=2 time=0.250 ms',
        'nop_seq=3 time=0.250 ms',
        '',
        `--- ${TARGET} ping statistics ---`,
        '3 NOPs sent, 3 answered, 0% lost',
        'rtt min/avg/max/mdev = 0.250/0.250/0.250/0.000 ms',
        '',
      ].join('\n'),
    )
  })

  it('--json has every time and the summary', async () => {
    const r = await runCli(['--json', 'ping', URL, '-c', '2', '-i', '1ms'], setup().connector)
    expect(JSON.parse(r.stdout)).toEqual({ target: TARGET, portal: { host: '127.0.0.1', port: 3260 }, times: [0.25, 0.25], sent: 2, received: 2, lost: 0, minMs: 0.25, avgMs: 0.25, maxMs: 0.25, mdevMs: 0 })
  })

  it('-q prints only the summary', async () => {
    const r = await runCli(['-q', 'ping', URL, '-c', '2', '-i', '1ms'], setup().connector)
    expect(r.stdout.split('\n')[0]).toBe(`--- ${TARGET} ping statistics ---`)
  })

  it('summarizes min/avg/max/mdev', () => {
    expect(summarize([1, 2, 3], 4)).toEqual({ sent: 4, received: 3, lost: 1, minMs: 1, avgMs: 2, maxMs: 3, mdevMs: Math.sqrt(2 / 3) })
    expect(summarize([], 2)).toMatchObject({ received: 0, lost: 2, minMs: 0, maxMs: 0 })
  })
})

describe('persistent reservations', () => {
  it('reserve, inspect, conflict for another nexus, release, unregister', async () => {
    const { connector } = setup()
    const reserve = await runCli(['reserve', URL, '--key', '0xabc', '--type', 'we'], connector)
    expect(reserve.code).toBe(0)
    expect(reserve.stdout).toBe('reserved with key 0x0000000000000abc, type write-exclusive\n')

    const keys = await runCli(['pr', URL, 'read-keys'], connector)
    expect(keys.stdout).toBe('PR generation: 0x1\n1 registered key:\n  0x0000000000000abc\n')
    const res = await runCli(['--json', 'pr', URL, 'read-reservation'], connector)
    expect(JSON.parse(res.stdout)).toEqual({ generation: 1, reservation: { key: '0x0000000000000abc', type: 'write-exclusive', typeCode: 1, scope: 0 } })

    // Another initiator may read but not write under write exclusive.
    const other = ['--initiator-name', 'iqn.2026-11.io.test:other']
    expect((await runCli([...other, 'read', URL, '--length', '512'], connector)).code).toBe(0)
    const write = await runCli([...other, 'write', URL], connector, { stdin: Buffer.alloc(512) })
    expect(write.code).toBe(4)
    expect(write.stderr).toBe('iscsi: write failed: RESERVATION CONFLICT (status 0x18)\n')

    const wrongType = await runCli(['release', URL, '--key', '0xabc', '--type', 'ea'], connector)
    expect(wrongType.code).toBe(4)
    expect(wrongType.stderr).toContain('invalid release of persistent reservation (0x26/0x04)')

    const release = await runCli(['release', URL, '--key', '0xabc', '--unregister'], connector)
    expect(release.code).toBe(0)
    expect(release.stdout).toBe('released reservation of key 0x0000000000000abc and unregistered it\n')
    expect((await runCli(['pr', URL, 'read-reservation'], connector)).stdout).toBe('PR generation: 0x2\nno reservation\n')
    expect((await runCli(['pr', URL, 'read-keys'], connector)).stdout).toBe('PR generation: 0x2\nno registered keys\n')
  })

  it('register, preempt and clear between two initiators', async () => {
    const { connector, lun } = setup()
    const a = ['--initiator-name', 'iqn.2026-11.io.test:a']
    const b = ['--initiator-name', 'iqn.2026-11.io.test:b']
    expect((await runCli([...a, 'reserve', URL, '--key', '1', '--type', 'exclusive-access'], connector)).code).toBe(0)
    expect((await runCli([...b, 'pr', URL, 'register', '--key', '2'], connector)).stdout).toBe('registered key 0x0000000000000002\n')
    const preempt = await runCli([...b, 'pr', URL, 'preempt', '--key', '2', '--preempt-key', '1', '--type', 'ea'], connector)
    expect(preempt.code).toBe(0)
    expect(preempt.stdout).toBe('preempted 0x0000000000000001: reservation now exclusive-access held by 0x0000000000000002\n')
    expect(lun.reservation?.key).toBe(2n)
    expect([...lun.registrations.values()]).toEqual([2n])
    expect((await runCli([...b, 'pr', URL, 'clear', '--key', '2'], connector)).code).toBe(0)
    expect(lun.registrations.size).toBe(0)
    expect(lun.reservation).toBeUndefined()
  })

  it('register with the wrong old key is a reservation conflict', async () => {
    const { connector } = setup()
    await runCli(['pr', URL, 'register', '--key', '5'], connector)
    const r = await runCli(['pr', URL, 'register', '--key', '6', '--old-key', '7'], connector)
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('iscsi: register failed: RESERVATION CONFLICT (status 0x18)\n')
  })

  it('report-capabilities prints the decoded flags', async () => {
    const r = await runCli(['pr', URL, 'report-capabilities'], setup().connector)
    expect(r.stdout).toContain('persist through power loss capable: yes')
  })

  it('parses keys and types', () => {
    expect(parseKey('0xFFFFFFFFFFFFFFFF')).toBe(0xffff_ffff_ffff_ffffn)
    expect(parseKey('42')).toBe(42n)
    expect(() => parseKey('0x10000000000000000')).toThrow(/64 bits/)
    expect(() => parseKey('18446744073709551616')).toThrow(/64 bits/)
    expect(parseType('we')).toBe(1)
    expect(parseType('exclusive-access-all-registrants')).toBe(8)
    expect(parseType('ea-ro')).toBe(6)
    expect(parseType('0x5')).toBe(5)
    expect(() => parseType('2')).toThrow(/invalid --type/)
  })
})
