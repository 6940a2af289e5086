// The command-line walk both harnesses share: `--flag value` or `--flag=value`, and usage errors that print the
// harness's usage and exit with 2.

/** Usage-error reporting and argument walking for the harness `name` (its `usage` text goes with every error). */
export function argParser(name, usage) {
  const usageError = (message) => {
    process.stderr.write(`${name}: ${message}\n\n${usage}\n`)
    process.exit(2)
  }
  const positiveInt = (flag, value) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) usageError(`${flag} wants a positive integer, not '${value}'`)
    return n
  }
  /** Calls handle(flag, value, arg) for each argument; value() takes the flag's value (after '=' or the next argument). */
  const forEachArg = (argv, handle) => {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]
      const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
      const [flag, inline] = eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]
      const value = () => {
        if (inline !== undefined) return inline
        const next = argv[++i]
        if (next === undefined) usageError(`${flag} needs a value`)
        return next
      }
      handle(flag, value, arg)
    }
  }
  return { usageError, positiveInt, forEachArg }
}
