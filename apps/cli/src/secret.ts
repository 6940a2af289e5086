// Reading a CHAP secret from the terminal without echoing it. Only ever used when stdin is a TTY.
import { CliError, ExitCode } from './errors.js'

export interface TtyInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean
  setRawMode?(mode: boolean): unknown
}

/** Prompt on `output`, read one line from the TTY `input` in raw mode (no echo). Ctrl-C or Ctrl-D abort. */
export function promptSecret(input: TtyInput, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let secret = ''
    const wasRaw = (input as { isRaw?: boolean }).isRaw === true
    const finish = (error?: Error): void => {
      input.removeListener('data', onData)
      input.setRawMode?.(wasRaw)
      input.pause()
      output.write('\n')
      if (error) reject(error)
      else resolve(secret)
    }
    const onData = (chunk: Buffer | string): void => {
      for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish()
        if (char === '\u0003' || char === '\u0004') return finish(new CliError('ISCSI_CLI_INTERRUPTED', 'no CHAP secret given', ExitCode.USAGE))
        if (char === '\u007f' || char === '\b') secret = [...secret].slice(0, -1).join('')
        else if (char >= ' ') secret += char
      }
    }
    output.write(prompt)
    input.setRawMode?.(true)
    input.on('data', onData)
    input.resume()
  })
}
