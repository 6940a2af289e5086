// `iscsi pr URL ACTION`: persistent reservations (SPC-4 5.12, 6.15 PERSISTENT RESERVE IN, 6.16 PERSISTENT RESERVE
// OUT). Reservation state belongs to an I_T nexus, so these commands log in with a stable ISID derived from the
// initiator name: a key registered by one run is the key of the next.
import { type Register, examples } from '../action.js'
import type { Context } from '../context.js'
import { UsageError, step } from '../errors.js'
import { formatKey, keyValues } from '../output.js'
import { reservationTypeCode, reservationTypeName } from '../names.js'
import type { CliSession, RegisteredKeys, ReservationInfo } from '../session.js'

/** A reservation key: `0x1234abcd` (hex) or decimal, at most 64 bits. */
export function parseKey(text: string, what = '--key'): bigint {
  const value = text.trim()
  if (!/^(0x[0-9a-f]{1,16}|\d{1,20})$/i.test(value)) throw new UsageError(`invalid ${what} '${text}' (hex 0x... or decimal, at most 64 bits)`)
  const key = BigInt(value)
  if (key > 0xffff_ffff_ffff_ffffn) throw new UsageError(`${what} does not fit in 64 bits: ${text}`)
  return key
}

/** A reservation type name, alias or code (see names.ts). */
export function parseType(text: string): number {
  const code = reservationTypeCode(text)
  if (code === undefined) {
    throw new UsageError(`invalid --type '${text}' (write-exclusive, exclusive-access, write-exclusive-registrants-only, exclusive-access-registrants-only, write-exclusive-all-registrants, exclusive-access-all-registrants, or we, ea, we-ro, ea-ro, we-ar, ea-ar)`)
  }
  return code
}

export const TYPE_HELP = 'reservation type: write-exclusive (we), exclusive-access (ea), we-ro, ea-ro, we-ar, ea-ar'

export function formatKeys(keys: RegisteredKeys): string {
  const head = `PR generation: 0x${keys.generation.toString(16)}`
  if (keys.keys.length === 0) return `${head}\nno registered keys`
  return [`${head}`, `${keys.keys.length} registered key${keys.keys.length === 1 ? '' : 's'}:`, ...keys.keys.map((k) => `  ${formatKey(k)}`)].join('\n')
}

export function formatReservation(info: ReservationInfo): string {
  const head = `PR generation: 0x${info.generation.toString(16)}`
  const r = info.reservation
  if (r === undefined) return `${head}\nno reservation`
  return `${head}\nreservation: key ${formatKey(r.key)}, type ${reservationTypeName(r.type)} (0x${r.type.toString(16)}), scope ${r.scope === 0 ? 'LU' : `0x${r.scope.toString(16)}`}`
}

function keysDocument(keys: RegisteredKeys): Record<string, unknown> {
  return { generation: keys.generation, keys: keys.keys.map(formatKey) }
}

function reservationDocument(info: ReservationInfo): Record<string, unknown> {
  const r = info.reservation
  return { generation: info.generation, reservation: r === undefined ? null : { key: formatKey(r.key), type: reservationTypeName(r.type), typeCode: r.type, scope: r.scope } }
}

interface PrOptions {
  key?: string
  oldKey?: string
  preemptKey?: string
  type?: string
  abort?: boolean
  aptpl?: boolean
}

const ACTIONS = ['read-keys', 'read-reservation', 'report-capabilities', 'register', 'unregister', 'clear', 'preempt'] as const
type PrAction = (typeof ACTIONS)[number]

function need(value: string | undefined, option: string, action: string): string {
  if (value === undefined) throw new UsageError(`pr ${action} needs ${option}`)
  return value
}

async function runAction(context: Context, session: CliSession, lun: number, action: PrAction, options: PrOptions): Promise<void> {
  switch (action) {
    case 'read-keys': {
      const keys = await step('read keys', () => session.readKeys(lun))
      context.result(keysDocument(keys), () => formatKeys(keys))
      return
    }
    case 'read-reservation': {
      const info = await step('read reservation', () => session.readReservation(lun))
      context.result(reservationDocument(info), () => formatReservation(info))
      return
    }
    case 'report-capabilities': {
      const caps = await step('report capabilities', () => session.reportCapabilities(lun))
      context.result(caps, () => keyValues(caps))
      return
    }
    case 'register': {
      const key = parseKey(need(options.key, '--key', action))
      const old = options.oldKey === undefined ? undefined : parseKey(options.oldKey, '--old-key')
      // Without --old-key: REGISTER AND IGNORE EXISTING KEY, so registering again (or changing the key) just works.
      await step('register', () =>
        session.persistentReserveOut(lun, old === undefined ? 'register-ignore' : 'register', {
          ...(old !== undefined ? { key: old } : {}),
          serviceActionKey: key,
          ...(options.aptpl === true ? { aptpl: true } : {}),
        }),
      )
      context.result({ action, key: formatKey(key) }, () => `registered key ${formatKey(key)}`)
      return
    }
    case 'unregister': {
      const key = parseKey(need(options.key, '--key', action))
      // REGISTER with the current key and a service action key of zero removes the registration (SPC-4 5.12.11.1).
      await step('unregister', () => session.persistentReserveOut(lun, 'register', { key, serviceActionKey: 0n }))
      context.result({ action, key: formatKey(key) }, () => `unregistered key ${formatKey(key)}`)
      return
    }
    case 'clear': {
      const key = parseKey(need(options.key, '--key', action))
      await step('clear', () => session.persistentReserveOut(lun, 'clear', { key }))
      context.result({ action, key: formatKey(key) }, () => 'cleared every registration and the reservation')
      return
    }
    case 'preempt': {
      const key = parseKey(need(options.key, '--key', action))
      const victim = parseKey(need(options.preemptKey, '--preempt-key', action), '--preempt-key')
      const type = parseType(options.type ?? 'write-exclusive')
      await step('preempt', () => session.persistentReserveOut(lun, options.abort === true ? 'preempt-abort' : 'preempt', { key, serviceActionKey: victim, type }))
      context.result({ action, key: formatKey(key), preempted: formatKey(victim), type: reservationTypeName(type) }, () => `preempted ${formatKey(victim)}${options.abort === true ? ' (and aborted its tasks)' : ''}: reservation now ${reservationTypeName(type)} held by ${formatKey(key)}`)
      return
    }
  }
}

export const registerPr: Register = (program, run) => {
  program
    .command('pr')
    .summary('persistent reservations: read-keys, read-reservation, register, ...')
    .description(`Persistent reservations. ACTION is one of: ${ACTIONS.join(', ')}.`)
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .argument('<action>', ACTIONS.join('|'))
    .option('--key <key>', 'this initiator\'s reservation key (hex 0x... or decimal)')
    .option('--old-key <key>', 'register: the key registered now (default: replace whatever it is)')
    .option('--preempt-key <key>', 'preempt: the key whose registration and reservation to take')
    .option('--type <type>', TYPE_HELP, 'write-exclusive')
    .option('--abort', 'preempt: also abort the preempted initiator\'s tasks (PREEMPT AND ABORT)')
    .option('--aptpl', 'register: keep registrations across target power loss')
    .addHelpText(
      'after',
      examples([
        ['iscsi pr iscsi://san1/iqn.2004-04.com.example:disk1/1 read-keys', 'registered keys'],
        ['iscsi pr iscsi://san1/iqn.2004-04.com.example:disk1/1 register --key 0xabc', 'register a key'],
        ['iscsi pr iscsi://san1/iqn.2004-04.com.example:disk1/1 read-reservation', 'who holds it, which type'],
        ['iscsi pr iscsi://san1/iqn.2004-04.com.example:disk1/1 preempt --key 0xabc --preempt-key 0xdef --type ea', 'take over'],
        ['iscsi pr iscsi://san1/iqn.2004-04.com.example:disk1/1 clear --key 0xabc', 'drop all registrations'],
      ]),
    )
    .action(
      run<PrOptions>(async (context, [arg = '', actionArg = ''], options) => {
        const action = ACTIONS.find((a) => a === actionArg)
        if (action === undefined) throw new UsageError(`unknown pr action '${actionArg}' (${ACTIONS.join(', ')})`)
        if (options.type !== undefined) parseType(options.type)
        const url = context.parseUrl(arg)
        await context.withSession(url, (session) => runAction(context, session, url.lun ?? 0, action, options), { stableIsid: true })
      }),
    )
}
