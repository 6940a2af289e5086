// `iscsi release URL --key K [--type T] [--unregister]`: give back a persistent reservation (SPC-4 5.12.11.2), with
// the stable ISID of `iscsi reserve`, so it acts for the I_T nexus that reserved.
import { type Register, examples } from '../action.js'
import { step } from '../errors.js'
import { formatKey } from '../output.js'
import { reservationTypeName } from '../names.js'
import { TYPE_HELP, parseKey, parseType } from './pr.js'

interface ReleaseOptions {
  key: string
  type?: string
  unregister?: boolean
}

export const registerRelease: Register = (program, run) => {
  program
    .command('release')
    .summary('release a persistent reservation')
    .description('Release the persistent reservation held with KEY (the type must match the reservation\'s).')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .requiredOption('--key <key>', 'reservation key (hex 0x... or decimal)')
    .option('--type <type>', TYPE_HELP, 'write-exclusive')
    .option('--unregister', 'also remove the key\'s registration')
    .addHelpText(
      'after',
      examples([
        ['iscsi release iscsi://san1/iqn.2004-04.com.example:disk1/1 --key 0xabc', 'release a write exclusive reservation'],
        ['iscsi release iscsi://san1/iqn.2004-04.com.example:disk1/1 --key 0xabc --unregister', 'and drop the key'],
      ]),
    )
    .action(
      run<ReleaseOptions>(async (context, [arg = ''], options) => {
        const key = parseKey(options.key)
        const type = parseType(options.type ?? 'write-exclusive')
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        await context.withSession(
          url,
          async (session) => {
            await step('release', () => session.persistentReserveOut(lun, 'release', { key, type }))
            if (options.unregister === true) await step('unregister', () => session.persistentReserveOut(lun, 'register', { key, serviceActionKey: 0n }))
          },
          { stableIsid: true },
        )
        context.result({ released: true, key: formatKey(key), type: reservationTypeName(type), unregistered: options.unregister === true }, () => `released reservation of key ${formatKey(key)}${options.unregister === true ? ' and unregistered it' : ''}`)
      }),
    )
}
