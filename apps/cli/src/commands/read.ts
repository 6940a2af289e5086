// `iscsi read URL [--offset BYTES] [--length BYTES] [-o FILE]`: bytes of a LUN to stdout or a file. Any offset and
// length work; the blocks around them are read and cut.
import { open } from 'node:fs/promises'
import { type Register, examples } from '../action.js'
import { DEFAULT_CHUNK, DEFAULT_DEPTH, readRange } from '../block-io.js'
import { writeAll } from '../context.js'
import { UsageError, step } from '../errors.js'
import { formatBytes, parseCount, parseSize } from '../sizes.js'

interface ReadOptions {
  offset?: string
  length?: string
  output?: string
  bs?: string
  qd?: string
}

export const registerRead: Register = (program, run) => {
  program
    .command('read')
    .summary('read bytes from a LUN to stdout or a file')
    .description('Read bytes from a LUN (any offset and length) to stdout or a file.')
    .argument('<url>', 'iscsi://host[:port]/target-iqn/lun')
    .option('--offset <bytes>', 'where to start (bytes, suffixes like 4k, 1MiB)', '0')
    .option('--length <bytes>', 'how much to read (default: to the end of the LUN)')
    .option('-o, --output <file>', 'write to this file instead of stdout (- for stdout, even a terminal)')
    .option('--bs <bytes>', 'bytes per READ command', '1MiB')
    .option('--qd <n>', 'READ commands in flight', String(DEFAULT_DEPTH))
    .addHelpText(
      'after',
      examples([
        ['iscsi read iscsi://san1/iqn.2004-04.com.example:disk1/1 --length 512 | xxd', 'the first block'],
        ['iscsi read iscsi://san1/iqn.2004-04.com.example:disk1/1 --offset 1MiB --length 4k -o part.bin', 'a range to a file'],
        ['iscsi read iscsi://san1/iqn.2004-04.com.example:disk1/1 -o disk.img', 'the whole LUN (see also: iscsi cp)'],
      ]),
    )
    .action(
      run<ReadOptions>(async (context, [arg = ''], options) => {
        const offset = parseSize(options.offset ?? '0', '--offset')
        const requested = options.length === undefined ? undefined : parseSize(options.length, '--length')
        const chunkBytes = parseSize(options.bs ?? String(DEFAULT_CHUNK), '--bs')
        if (chunkBytes === 0) throw new UsageError('--bs must be more than 0')
        const depth = parseCount(options.qd ?? String(DEFAULT_DEPTH), '--qd', { max: 1024 })
        const toStdout = options.output === undefined || options.output === '-'
        // Like curl: binary data on a terminal only when asked for with `-o -`.
        if (options.output === undefined && !context.options.json && context.io.stdout.isTTY === true) {
          throw new UsageError('refusing to write binary data to a terminal: use -o FILE, -o - or a pipe')
        }
        const url = context.parseUrl(arg)
        const lun = url.lun ?? 0
        await context.withSession(url, async (session) => {
          const capacity = await step('read capacity', () => session.readCapacity(lun))
          const size = Number(capacity.blockCount * BigInt(capacity.blockSize))
          if (requested === undefined && offset >= size) throw new UsageError(`--offset ${offset} is at or past the end of the LUN (${size} bytes)`)
          // An explicit length past the end goes to the target, which answers with the sense data people expect.
          const length = requested ?? size - offset
          const pieces = readRange(session, lun, capacity.blockSize, offset, length, { chunkBytes, depth, ...(context.signal ? { signal: context.signal } : {}) })
          let done = 0
          if (toStdout && context.options.json) {
            const parts: Buffer[] = []
            if (length > 64 * 1024 * 1024) throw new UsageError('--json puts the data in the document: read at most 64 MiB that way, or use -o FILE')
            for await (const piece of pieces) parts.push(Buffer.from(piece))
            const data = Buffer.concat(parts)
            context.result({ offset, length: data.length, blockSize: capacity.blockSize, data: data.toString('base64') }, () => '')
            return
          }
          if (toStdout) {
            for await (const piece of pieces) {
              await writeAll(context.io.stdout, piece)
              done += piece.length
            }
            return
          }
          const file = await step('open output', () => open(options.output ?? '', 'w'))
          try {
            for await (const piece of pieces) {
              await step('write output', () => file.write(piece, 0, piece.length, null))
              done += piece.length
            }
          } finally {
            await file.close()
          }
          context.result({ offset, length: done, file: options.output }, () => '')
          context.note(`read ${formatBytes(done)} (${done} bytes) from offset ${offset} to ${options.output ?? ''}`)
        })
      }),
    )
}
