// `iscsi ls PORTAL|URL`: every target behind a portal and each of its LUNs with type, size and identity, like
// `iscsi-ls -s`. A target that refuses the login is listed with the reason and the others still are.
import { type Register, examples } from '../action.js'
import type { Context } from '../context.js'
import { CliError, ExitCode, type ExitCodeValue, describeCause, step } from '../errors.js'
import { type Column, table } from '../output.js'
import { deviceTypeName, hasBlockCapacity } from '../names.js'
import { formatPortal } from '../portal.js'
import { discoverTargets } from './discover.js'
import type { CliSession, DiscoveredTarget, Portal, TargetUrl } from '../session.js'
import { formatBytes } from '../sizes.js'

export interface LunListing {
  readonly lun: number
  readonly type: string
  readonly peripheralDeviceType: number
  readonly peripheralQualifier: number
  readonly vendor: string
  readonly product: string
  readonly revision: string
  readonly blockSize?: number
  readonly blocks?: bigint
  readonly bytes?: bigint
  readonly thin?: boolean
  readonly error?: string
}

export interface TargetListing {
  readonly name: string
  readonly addresses: DiscoveredTarget['addresses']
  readonly luns: LunListing[]
  readonly error?: string
  readonly exitCode?: ExitCodeValue
}

/** What one LUN is: INQUIRY, and READ CAPACITY (16) for block devices. Failures land in `error`. */
export async function describeLun(session: CliSession, lun: number): Promise<LunListing> {
  const inquiry = await step('inquiry', () => session.inquiry(lun))
  const base = {
    lun,
    type: deviceTypeName(inquiry.peripheralDeviceType),
    peripheralDeviceType: inquiry.peripheralDeviceType,
    peripheralQualifier: inquiry.peripheralQualifier,
    vendor: inquiry.vendor.trim(),
    product: inquiry.product.trim(),
    revision: inquiry.revision.trim(),
  }
  if (!hasBlockCapacity(inquiry.peripheralDeviceType) || inquiry.peripheralQualifier !== 0) return base
  try {
    const capacity = await session.readCapacity(lun)
    return { ...base, blockSize: capacity.blockSize, blocks: capacity.blockCount, bytes: capacity.blockCount * BigInt(capacity.blockSize), thin: capacity.lbpme }
  } catch (error) {
    return { ...base, error: `read capacity failed: ${describeCause(error).message}` }
  }
}

/**
 * One target's LUNs. `fallback`: when listing a whole portal with CHAP credentials, a target that refuses them at
 * login (it does not use CHAP) is tried again without, so one set of credentials lists every target.
 */
async function listTarget(context: Context, url: TargetUrl, addresses: DiscoveredTarget['addresses'], onlyLun?: number, fallback = false): Promise<TargetListing> {
  const name = url.targetName ?? ''
  const list = (noChap: boolean): Promise<TargetListing> =>
    context.withSession(
      url,
      async (session) => {
        const luns = onlyLun !== undefined ? [onlyLun] : await step('report luns', () => session.reportLuns())
        const listings: LunListing[] = []
        for (const lun of [...luns].sort((a, b) => a - b)) listings.push(await describeLun(session, lun))
        return { name, addresses, luns: listings }
      },
      { noChap },
    )
  try {
    return await list(false)
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.USAGE) throw error
    const described = describeCause(error)
    if (fallback && described.exitCode === ExitCode.LOGIN && context.hasChapUser(url)) {
      const retried = await list(true).catch(() => undefined)
      if (retried) return retried
    }
    return { name, addresses, luns: [], error: described.message, exitCode: described.exitCode }
  }
}

const COLUMNS: ReadonlyArray<Column<LunListing>> = [
  { header: 'LUN', value: (l) => String(l.lun), align: 'right' },
  { header: 'TYPE', value: (l) => (l.peripheralQualifier === 0 ? l.type : `${l.type} (not connected)`) },
  { header: 'SIZE', value: (l) => (l.bytes === undefined ? '-' : formatBytes(l.bytes)), align: 'right' },
  { header: 'BYTES', value: (l) => (l.bytes === undefined ? '-' : l.bytes.toString()), align: 'right' },
  { header: 'BLOCK', value: (l) => (l.blockSize === undefined ? '-' : String(l.blockSize)), align: 'right' },
  { header: 'THIN', value: (l) => (l.thin === undefined ? '-' : l.thin ? 'yes' : 'no') },
  { header: 'VENDOR', value: (l) => l.vendor || '-' },
  { header: 'PRODUCT', value: (l) => l.product || '-' },
  { header: 'REV', value: (l) => l.revision || '-' },
]

/** Human text: a header line per target, then its LUN table (errors in place of what could not be read). */
export function formatListing(targets: readonly TargetListing[], portal: Portal): string {
  if (targets.length === 0) return `no targets at ${formatPortal(portal)}`
  return targets
    .map((target) => {
      const where = target.addresses.map((a) => `${formatPortal(a)},${a.tpgt}`).join(' ')
      const header = `Target: ${target.name}${where ? `  Portal: ${where}` : ''}`
      if (target.error !== undefined) return `${header}\n  ${target.error}`
      if (target.luns.length === 0) return `${header}\n  no LUNs`
      const errors = target.luns.filter((l) => l.error !== undefined).map((l) => `  LUN ${l.lun}: ${l.error ?? ''}`)
      return [header, table(target.luns, COLUMNS, '  '), ...errors].join('\n')
    })
    .join('\n\n')
}

export const registerLs: Register = (program, run) => {
  program
    .command('ls')
    .summary('list targets and their LUNs with type and size')
    .description('List the targets of a portal (or the one target of a URL) and each LUN: type, size, vendor, product.')
    .argument('<portal|url>', 'host[:port] to list every target, or iscsi://host/target[/lun] for one')
    .addHelpText(
      'after',
      examples([
        ['iscsi ls 192.168.1.10', 'every target and LUN of a portal'],
        ['iscsi ls iscsi://san1/iqn.2004-04.com.example:disk1', 'one target'],
        ['iscsi --json ls san1', 'as JSON (sizes in bytes)'],
      ]),
    )
    .action(
      run(async (context, [arg = '']) => {
        const { portal, url } = context.parsePortalOrUrl(arg)
        let targets: TargetListing[]
        if (url?.targetName !== undefined && url.targetName !== '') {
          targets = [await listTarget(context, url, [], url.lun)]
        } else {
          const discovered = await discoverTargets(context, portal, url)
          targets = []
          for (const target of discovered) {
            // Log in through the portal the user named: discovery may report addresses this host cannot reach.
            targets.push(await listTarget(context, { ...(url ?? {}), host: portal.host, port: portal.port, targetName: target.name }, target.addresses, undefined, true))
          }
        }
        context.result({ portal, targets }, () => formatListing(targets, portal))
        for (const target of targets) {
          if (target.exitCode !== undefined) context.fail(target.exitCode, `could not list ${target.name}: ${target.error ?? ''}`)
        }
      }),
    )
}
