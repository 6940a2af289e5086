// discover, ls, inquiry and readcap: golden human output and JSON documents.
import { describe, expect, it } from 'vitest'
import { MemoryConnector, MemoryLun, runCli } from '../testing/memory-target.js'

const DISK = 'iqn.2026-11.io.iscsi-ts.test:disk'
const CHAP = 'iqn.2026-11.io.iscsi-ts.test:secure'

function connector(): MemoryConnector {
  const c = new MemoryConnector()
  const disk = c.addTarget(DISK)
  disk.luns.set(0, new MemoryLun({ size: 1024 ** 3, thin: true }))
  disk.luns.set(3, new MemoryLun({ size: 64 * 1024 * 1024, blockSize: 4096, thin: false, vendor: 'ACME', product: 'FAST DISK' }))
  c.addTarget(CHAP, { user: 'alice', secret: 'secretsecret12' }).luns.set(0, new MemoryLun({ size: 1024 * 1024 }))
  return c
}

describe('discover', () => {
  it('lists targets with address and portal group tag (golden)', async () => {
    const r = await runCli(['discover', '127.0.0.1'], connector())
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`${DISK}\n  127.0.0.1:3260,1\n${CHAP}\n  127.0.0.1:3260,1\n`)
  })

  it('accepts an iscsi:// URL as the portal and prints JSON', async () => {
    const r = await runCli(['--json', 'discover', 'iscsi://127.0.0.1:3260'], connector())
    expect(JSON.parse(r.stdout)).toEqual({
      portal: { host: '127.0.0.1', port: 3260 },
      targets: [
        { name: DISK, addresses: [{ host: '127.0.0.1', port: 3260, tpgt: 1 }] },
        { name: CHAP, addresses: [{ host: '127.0.0.1', port: 3260, tpgt: 1 }] },
      ],
    })
  })

  it('asks a portal that refuses CHAP again without it', async () => {
    const r = await runCli(['--chap-user', 'alice', 'discover', '127.0.0.1'], connector(), { env: { ISCSI_CHAP_SECRET: 'secretsecret12' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(DISK)
  })

  it('says so when a portal has no targets', async () => {
    const r = await runCli(['discover', '127.0.0.1'], new MemoryConnector())
    expect(r.stdout).toBe('no targets at 127.0.0.1:3260\n')
  })
})

describe('ls', () => {
  it('lists every LUN of every target; a refused login is reported and exits 3 (golden)', async () => {
    const r = await runCli(['ls', '127.0.0.1'], connector())
    expect(r.code).toBe(3)
    expect(r.stdout).toBe(
      [
        `Target: ${DISK}  Portal: 127.0.0.1:3260,1`,
        '  LUN  TYPE    SIZE       BYTES  BLOCK  THIN  VENDOR    PRODUCT      REV',
        '    0  disk   1 GiB  1073741824    512  yes   ISCSI-TS  MEMORY DISK  0001',
        '    3  disk  64 MiB    67108864   4096  no    ACME      FAST DISK    0001',
        '',
        `Target: ${CHAP}  Portal: 127.0.0.1:3260,1`,
        '  login failed: authentication failure (0x0201)',
        '',
      ].join('\n'),
    )
    expect(r.stderr).toBe(`iscsi: could not list ${CHAP}: login failed: authentication failure (0x0201)\n`)
  })

  it('with CHAP credentials every target lists: those without CHAP are tried again without (exit 0)', async () => {
    const c = connector()
    const r = await runCli(['--chap-user', 'alice', 'ls', '127.0.0.1'], c, { env: { ISCSI_CHAP_SECRET: 'secretsecret12' } })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain(`Target: ${CHAP}`)
    expect(r.stdout).toContain('FAST DISK')
    expect(r.stdout).not.toContain('login failed')
    // DISK: refused with CHAP, then without; CHAP: with.
    expect(c.connectOptions.map((o) => [o.targetName, o.chap?.user])).toEqual([
      [DISK, 'alice'],
      [DISK, undefined],
      [CHAP, 'alice'],
    ])
  })

  it('a wrong secret still fails on the CHAP target, and says so', async () => {
    const r = await runCli(['--chap-user', 'alice', 'ls', '127.0.0.1'], connector(), { env: { ISCSI_CHAP_SECRET: 'nope' } })
    expect(r.code).toBe(3)
    expect(r.stdout).toContain(`Target: ${CHAP}  Portal: 127.0.0.1:3260,1\n  login failed: authentication failure (0x0201)`)
  })

  it('a single target named by URL gets no fallback: CHAP refused is exit 3', async () => {
    const r = await runCli(['--chap-user', 'alice', 'ls', `iscsi://127.0.0.1/${DISK}`], connector(), { env: { ISCSI_CHAP_SECRET: 'secretsecret12' } })
    expect(r.code).toBe(3)
  })

  it('lists one target or one LUN from a URL, as JSON with sizes in bytes', async () => {
    const r = await runCli(['--json', 'ls', `iscsi://127.0.0.1/${DISK}/3`], connector())
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as { targets: Array<{ name: string; luns: unknown[] }> }
    expect(doc.targets).toHaveLength(1)
    expect(doc.targets[0]!.luns).toEqual([
      { lun: 3, type: 'disk', peripheralDeviceType: 0, peripheralQualifier: 0, vendor: 'ACME', product: 'FAST DISK', revision: '0001', blockSize: 4096, blocks: 16384, bytes: 67108864, thin: false },
    ])
  })
})

describe('inquiry', () => {
  const url = `iscsi://127.0.0.1/${DISK}/0`

  it('prints standard INQUIRY data (golden)', async () => {
    const r = await runCli(['inquiry', url], connector())
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        'Standard INQUIRY',
        '  device type:            disk (0x00)',
        '  peripheral qualifier:   0',
        '  peripheral device type: 0',
        '  removable:              no',
        '  version:                6',
        '  vendor:                 ISCSI-TS',
        '  product:                MEMORY DISK',
        '  revision:               0001',
        '  command queuing:        yes',
        '',
      ].join('\n'),
    )
  })

  it('prints one VPD page given in hex (golden)', async () => {
    for (const page of ['83', '0x83', '83h']) {
      const r = await runCli(['inquiry', url, '--page', page], connector())
      expect(r.stdout).toBe(
        ['VPD page 0x83 (device identification)', '  designators:', '    - type:        NAA', '      association: logical unit', '      naa:         0x6001405abcdef012', ''].join('\n'),
      )
    }
  })

  it('--all prints every supported page; page 00 lists codes in hex', async () => {
    const r = await runCli(['inquiry', url, '--all'], connector())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('VPD page 0x00 (supported VPD pages)\n  pages: 0x00, 0x80, 0x83, 0xb0\n')
    expect(r.stdout).toContain('VPD page 0x80 (unit serial number)\n  serial number: serial-0\n')
    expect(r.stdout).toContain('VPD page 0xb0 (block limits)\n  maximum transfer length: 65535\n')
  })

  it('--all --json is one document', async () => {
    const r = await runCli(['inquiry', url, '--all', '--json'], connector())
    const doc = JSON.parse(r.stdout) as { standard: { vendor: string }; pages: Array<{ page: number; fields: Record<string, unknown> }> }
    expect(doc.standard.vendor).toBe('ISCSI-TS')
    expect(doc.pages.map((p) => p.page)).toEqual([0x00, 0x80, 0x83, 0xb0])
    expect(doc.pages[2]!.fields).toEqual({ designators: [{ type: 'NAA', association: 'logical unit', naa: '0x6001405abcdef012' }] })
  })

  it('an unsupported page is a SCSI error (exit 4)', async () => {
    const r = await runCli(['inquiry', url, '--page', 'b7'], connector())
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('iscsi: VPD page 0xb7 failed: ILLEGAL REQUEST: invalid field in cdb (0x24/0x00)\n')
  })
})

describe('readcap', () => {
  it('decodes READ CAPACITY (16) (golden)', async () => {
    const r = await runCli(['readcap', `iscsi://127.0.0.1/${DISK}/0`], connector())
    expect(r.stdout).toBe(
      [
        'block size:         512 bytes',
        'blocks:             2097152 (last LBA 2097151)',
        'size:               1 GiB (1073741824 bytes)',
        'physical block:     exponent 0 (512 bytes)',
        'lowest aligned LBA: 0',
        'provisioning:       LBPME 1 (thin), LBPRZ 1 (unmapped blocks read as zeros)',
        '',
      ].join('\n'),
    )
  })

  it('--json has bytes and the raw fields', async () => {
    const r = await runCli(['--json', 'readcap', `iscsi://127.0.0.1/${DISK}/3`], connector())
    expect(JSON.parse(r.stdout)).toEqual({
      blockSize: 4096,
      blocks: 16384,
      lastLba: 16383,
      bytes: 67108864,
      lbpme: false,
      lbprz: false,
      physicalBlockExponent: 0,
      physicalBlockSize: 4096,
      lowestAlignedLba: 0,
    })
  })
})
