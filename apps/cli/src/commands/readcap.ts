// `iscsi readcap URL`: READ CAPACITY (16) parameter data (SBC-3 5.16.2), with the size in bytes and in words.
import { type Register, examples } from '../action.js'
import { step } from '../errors.js'
import { pairs } from '../output.js'
import type { Capacity } from '../session.js'
import { formatBytes } from '../sizes.js'

/** The JSON document of `readcap`: the decoded fields plus the derived sizes. */
export function capacityDocument(capacity: Capacity): Record<string, unknown> {
  const bytes = capacity.blockCount * BigInt(capacity.blockSize)
  return {
    blockSize: capacity.blockSize,
    blocks: capacity.blockCount,
    lastLba: capacity.blockCount - 1n,
    bytes,
    lbpme: capacity.lbpme,
    lbprz: capacity.lbprz,
    ...(capacity.physicalBlockExponent !== undefined ? { physicalBlockExponent: capacity.physicalBlockExponent, physicalBlockSize: capacity.blockSize * 2 ** capacity.physicalBlockExponent } : {}),
    ...(capacity.lowestAlignedLba !== undefined ? { lowestAlignedLba: capacity.lowestAlignedLba } : {}),
    ...(capacity.protectionEnabled !== undefined ? { protectionEnabled: capacity.protectionEnabled } : {}),
    ...(capacity.protectionType !== undefined ? { protectionType: capacity.protectionType } : {}),
  }
}

export function formatCapacity(capacity: Capacity): string {
  const bytes = capacity.blockCount * BigInt(capacity.blockSize)
  const entries: Array<[string, string]> = [
    ['block size', `${capacity.blockSize} bytes`],
    ['blocks', `${capacity.blockCount} (last LBA ${capacity.blockCount - 1n})`],
    ['size', `${formatBytes(bytes)} (${bytes} bytes)`],
  ]
  if (capacity.physicalBlockExponent !== undefined) {
    const physical = capacity.blockSize * 2 ** capacity.physicalBlockExponent
    entries.push(['physical block', `exponent ${capacity.physicalBlockExponent} (${physical} bytes)`])
  }
  if (capacity.lowestAlignedLba !== undefined) entries.push(['lowest aligned LBA', String(capacity.lowestAlignedLba)])
  entries.push(['provisioning', `LBPME ${capacity.lbpme ? 1 : 0} (${capacity.lbpme ? 'thin' : 'full'}), LBPRZ ${capacity.lbprz ? 1 : 0} (unmapped blocks read ${capacity.lbprz ? 'as zeros' : 'undefined'})`])
  if (capacity.protectionEnabled !== undefined) {
    entries.push(['protection', capacity.protectionEnabled ? `type ${(capacity.protectionType ?? 0) + 1}` : 'off'])
  }
  return pairs(entries)
}

export const registerReadcap: Register = (program, run) => {
  program
    .command('readcap')
    .summary('READ CAPACITY (16): block size, blocks, size, provisioning')
    .description('Print READ CAPACITY (16) data: block size, block count, size, LBPME/LBPRZ and physical block exponent.')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .addHelpText(
      'after',
      examples([
        ['iscsi readcap iscsi://san1/iqn.2004-04.com.example:disk1/1', 'capacity and provisioning'],
        ['iscsi --json readcap iscsi://san1/iqn.2004-04.com.example:disk1/1 | jq .bytes', 'size in bytes'],
      ]),
    )
    .action(
      run(async (context, [arg = '']) => {
        const url = context.parseUrl(arg)
        const capacity = await context.withSession(url, (session) => step('read capacity', () => session.readCapacity(url.lun ?? 0)))
        context.result(capacityDocument(capacity), () => formatCapacity(capacity))
      }),
    )
}
