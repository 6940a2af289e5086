// `iscsi inquiry URL [--page N | --all]`: standard INQUIRY data (SPC-4 6.6.2) and VPD pages (SPC-4 7.8, SBC-3 6.6),
// as decoded by the initiator, printed as labelled fields.
import { type Register, examples } from '../action.js'
import { UsageError, describeCause, step } from '../errors.js'
import { formatPage, keyValues } from '../output.js'
import { deviceTypeName, vpdPageName } from '../names.js'
import type { StandardInquiry, VpdPage } from '../session.js'

interface InquiryOptions {
  page?: string
  all?: boolean
}

/** A VPD page code in hex, as every SCSI tool writes them: `80`, `0x83`, `b0`, `B2h`. */
export function parsePageCode(text: string): number {
  const match = /^(?:0x)?([0-9a-f]{1,2})h?$/i.exec(text.trim())
  if (!match) throw new UsageError(`invalid VPD page '${text}' (hex page code: 00, 80, 83, 0x86, b0)`)
  return Number.parseInt(match[1] ?? '', 16)
}

export interface PageResult {
  readonly page: number
  readonly name: string
  readonly fields?: Readonly<Record<string, unknown>>
  readonly error?: string
}

export function formatStandard(inquiry: StandardInquiry): string {
  const type = `${deviceTypeName(inquiry.peripheralDeviceType)} (0x${inquiry.peripheralDeviceType.toString(16).padStart(2, '0')})`
  return `Standard INQUIRY\n${keyValues({ deviceType: type, ...inquiry.fields }, '  ')}`
}

export function formatVpd(page: PageResult): string {
  const title = `VPD page ${formatPage(page.page)} (${page.name})`
  if (page.error !== undefined) return `${title}\n  ${page.error}`
  const body = keyValues(page.fields ?? {}, '  ')
  return body === '' ? `${title}\n  (no fields)` : `${title}\n${body}`
}

function pageResult(page: VpdPage): PageResult {
  return { page: page.page, name: page.name || vpdPageName(page.page), fields: page.fields }
}

export const registerInquiry: Register = (program, run) => {
  program
    .command('inquiry')
    .summary('standard INQUIRY and VPD pages, decoded')
    .description('Print standard INQUIRY data, one VPD page (--page), or all supported VPD pages (--all).')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .option('-p, --page <code>', 'VPD page code in hex (00, 80, 83, 86, b0, b1, b2, ...)')
    .option('-a, --all', 'standard data and every page listed by the supported VPD pages page')
    .addHelpText(
      'after',
      examples([
        ['iscsi inquiry iscsi://san1/iqn.2004-04.com.example:disk1/1', 'vendor, product, revision, flags'],
        ['iscsi inquiry iscsi://san1/iqn.2004-04.com.example:disk1/1 --page 83', 'device identification (NAA, T10)'],
        ['iscsi inquiry iscsi://san1/iqn.2004-04.com.example:disk1/1 --page b0', 'block limits'],
        ['iscsi inquiry iscsi://san1/iqn.2004-04.com.example:disk1/1 --all --json', 'everything, as JSON'],
      ]),
    )
    .action(
      run<InquiryOptions>(async (context, [arg = ''], options) => {
        if (options.page !== undefined && options.all === true) throw new UsageError('use either --page or --all')
        const page = options.page === undefined ? undefined : parsePageCode(options.page)
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        await context.withSession(url, async (session) => {
          if (page !== undefined) {
            const result = pageResult(await step(`VPD page ${formatPage(page)}`, () => session.vpd(lun, page)))
            context.result(result, () => formatVpd(result))
            return
          }
          const standard = await step('inquiry', () => session.inquiry(lun))
          if (options.all !== true) {
            context.result({ standard }, () => formatStandard(standard))
            return
          }
          const supported = await step('VPD page 0x00', () => session.supportedVpdPages(lun))
          const pages: PageResult[] = []
          for (const code of supported) {
            try {
              pages.push(pageResult(await session.vpd(lun, code)))
            } catch (error) {
              pages.push({ page: code, name: vpdPageName(code), error: describeCause(error).message })
            }
          }
          context.result({ standard, pages }, () => [formatStandard(standard), ...pages.map(formatVpd)].join('\n\n'))
        })
      }),
    )
}
