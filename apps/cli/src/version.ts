// The package version, printed by `iscsi --version` and sent nowhere else.
import pkg from '../package.json' with { type: 'json' }

export const VERSION: string = pkg.version
