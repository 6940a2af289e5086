// The glue between commander and a command: each command's action gets a Context, its positional arguments and
// its own options; help text gets the same "Examples:" section everywhere.
import type { Command } from 'commander'
import type { Context } from './context.js'

export type CommandAction<Options> = (context: Context, args: string[], options: Options) => Promise<void>

/** Wraps a command body as a commander action (which receives positionals, then options, then the command). */
export type Run = <Options>(body: CommandAction<Options>) => (...args: unknown[]) => Promise<void>

/** The "Examples:" section of a command's --help. */
export function examples(lines: ReadonlyArray<readonly [command: string, what: string]>): string {
  const width = Math.max(...lines.map(([command]) => command.length))
  return `\nExamples:\n${lines.map(([command, what]) => `  $ ${command.padEnd(width)}  # ${what}`).join('\n')}\n`
}

/** Register a command on the program: each command module exports one of these. */
export type Register = (program: Command, run: Run) => void
