// `iscsi reserve URL --key K [--type T]`: take a persistent reservation (SPC-4 5.12.9). The key is registered first
// (REGISTER AND IGNORE EXISTING KEY), so one command is enough; like `iscsi pr` and `iscsi release` it logs in with
// the stable ISID, so a later run acts for the same I_T nexus.
import { type Register, examples } from '../action.js'
import { step } from '../errors.js'
import { formatKey } from '../output.js'
import { reservationTypeName } from '../names.js'
import { TYPE_HELP, parseKey, parseType } from './pr.js'

interface ReserveOptions {
  key: string
  type?: string
}

export const registerReserve: Register = (program, run) => {
  program
    .command('reserve')
    .summary('register a key and take a persistent reservation')
    .description('Register KEY (if needed) and reserve the LUN with a persistent reservation.')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .requiredOption('--key <key>', 'reservation key (hex 0x... or decimal)')
    .option('--type <type>', TYPE_HELP, 'write-exclusive')
    .addHelpText(
      'after',
      examples([
        ['iscsi reserve iscsi://san1/iqn.2004-04.com.example:disk1/1 --key 0xabc', 'write exclusive'],
        ['iscsi reserve iscsi://san1/iqn.2004-04.com.example:disk1/1 --key 0xabc --type ea-ro', 'exclusive access, registrants only'],
      ]),
    )
    .action(
      run<ReserveOptions>(async (context, [arg = ''], options) => {
        const key = parseKey(options.key)
        const type = parseType(options.type ?? 'write-exclusive')
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        await context.withSession(
          url,
          async (session) => {
            await step('register', () => session.persistentReserveOut(lun, 'register-ignore', { serviceActionKey: key }))
            await step('reserve', () => session.persistentReserveOut(lun, 'reserve', { key, type }))
          },
          { stableIsid: true },
        )
        context.result({ reserved: true, key: formatKey(key), type: reservationTypeName(type), typeCode: type }, () => `reserved with key ${formatKey(key)}, type ${reservationTypeName(type)}`)
      }),
    )
}
