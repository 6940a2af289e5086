// `iscsi discover PORTAL`: a SendTargets discovery session (RFC 7143 12.3), listing each target with the addresses
// and portal group tags it answers on.
import { type Register, examples } from '../action.js'
import type { Context } from '../context.js'
import { ExitCode, describeCause, step } from '../errors.js'
import { formatPortal } from '../portal.js'
import type { DiscoveredTarget, Portal, TargetUrl } from '../session.js'

/**
 * SendTargets through `portal`. CHAP credentials, when given, are offered first (the initiator then offers CHAP
 * only); a portal that refuses them at login is asked again without, since many portals leave discovery open
 * while their targets need CHAP. If that fails too, the first failure is reported.
 */
export async function discoverTargets(context: Context, portal: Portal, url?: TargetUrl): Promise<DiscoveredTarget[]> {
  const base = {
    ...(context.options.initiatorName !== undefined ? { initiatorName: context.options.initiatorName } : {}),
    ...(context.options.timeoutMs !== undefined ? { timeoutMs: context.options.timeoutMs } : {}),
  }
  const chap = await context.chap(url)
  try {
    return await step('discovery', () => context.io.connector.discover(portal, { ...base, ...(chap ? { chap } : {}) }))
  } catch (error) {
    if (chap === undefined || describeCause(error).exitCode !== ExitCode.LOGIN) throw error
    try {
      return await context.io.connector.discover(portal, base)
    } catch {
      throw error
    }
  }
}

/** Human text of a discovery: each target, its addresses indented as `host:port,tpgt`. */
export function formatDiscovery(portal: Portal, targets: readonly DiscoveredTarget[]): string {
  if (targets.length === 0) return `no targets at ${formatPortal(portal)}`
  return targets
    .map((target) => [target.name, ...target.addresses.map((a) => `  ${formatPortal(a)},${a.tpgt}`)].join('\n'))
    .join('\n')
}

export const registerDiscover: Register = (program, run) => {
  program
    .command('discover')
    .summary('list the targets a portal offers')
    .description('List the targets a portal offers (SendTargets discovery) with their addresses and portal group tags.')
    .argument('<portal>', 'host[:port] (default port 3260; IPv6 in brackets) or an iscsi:// URL')
    .addHelpText(
      'after',
      examples([
        ['iscsi discover 192.168.1.10', 'targets at the default port 3260'],
        ['iscsi discover [fe80::1%eth0]:3261', 'IPv6 portal with a port'],
        ['iscsi --json discover san1 | jq -r ".targets[].name"', 'names only'],
      ]),
    )
    .action(
      run(async (context, [portalArg = '']) => {
        const { portal, url } = context.parsePortalOrUrl(portalArg)
        const targets = await discoverTargets(context, portal, url)
        context.result({ portal, targets }, () => formatDiscovery(portal, targets))
      }),
    )
}
