// `iscsi write URL [-i FILE] [--offset BYTES] [--fua]`: bytes from stdin or a file onto a LUN. A partial first or
// last block is read, merged and written back, so the bytes around the range are kept.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { type Register, examples } from '../action.js'
import { BlockWriter, DEFAULT_CHUNK, DEFAULT_DEPTH } from '../block-io.js'
import { UsageError, step } from '../errors.js'
import { formatBytes, parseCount, parseSize } from '../sizes.js'

interface WriteOptions {
  input?: string
  offset?: string
  fua?: boolean
  bs?: string
  qd?: string
}

export const registerWrite: Register = (program, run) => {
  program
    .command('write')
    .summary('write bytes from stdin or a file onto a LUN')
    .description('Write bytes from stdin or a file onto a LUN at any offset (partial blocks are read-modify-written).')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .option('-i, --input <file>', 'read from this file instead of stdin')
    .option('--offset <bytes>', 'where to start on the LUN (bytes, suffixes like 4k, 1MiB)', '0')
    .option('--fua', 'force unit access: each WRITE is on stable media before it completes')
    .option('--bs <bytes>', 'bytes per WRITE command', '1MiB')
    .option('--qd <n>', 'WRITE commands in flight', String(DEFAULT_DEPTH))
    .addHelpText(
      'after',
      examples([
        ['echo hello | iscsi write iscsi://san1/iqn.2004-04.com.example:disk1/1 --offset 100', 'six bytes at offset 100'],
        ['iscsi write iscsi://san1/iqn.2004-04.com.example:disk1/1 -i boot.img --fua', 'a file from the start, FUA'],
      ]),
    )
    .action(
      run<WriteOptions>(async (context, [arg = ''], options) => {
        const offset = parseSize(options.offset ?? '0', '--offset')
        const chunkBytes = parseSize(options.bs ?? String(DEFAULT_CHUNK), '--bs')
        if (chunkBytes === 0) throw new UsageError('--bs must be more than 0')
        const depth = parseCount(options.qd ?? String(DEFAULT_DEPTH), '--qd', { max: 1024 })
        const fromStdin = options.input === undefined || options.input === '-'
        if (fromStdin && context.io.stdin.isTTY === true) throw new UsageError('no input: pipe data into stdin or use -i FILE')
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        if (!fromStdin) await step('open input', () => stat(options.input ?? ''))
        const input = fromStdin ? context.io.stdin : createReadStream(options.input ?? '', { highWaterMark: chunkBytes })
        await context.withSession(url, async (session) => {
          const capacity = await step('read capacity', () => session.readCapacity(lun))
          const writer = new BlockWriter(session, lun, capacity.blockSize, offset, {
            chunkBytes,
            depth,
            ...(options.fua === true ? { fua: true } : {}),
            ...(context.signal ? { signal: context.signal } : {}),
          })
          for await (const chunk of input) {
            context.checkAborted()
            await writer.write(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
          }
          const written = await writer.end()
          context.result({ offset, length: written, blockSize: capacity.blockSize, fua: options.fua === true }, () => '')
          context.note(`wrote ${formatBytes(written)} (${written} bytes) at offset ${offset}${options.fua === true ? ' with FUA' : ''}`)
        })
      }),
    )
}
