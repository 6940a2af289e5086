// The peer tools the harnesses run, found on PATH or in the sbin directories a non-root PATH may omit. A missing
// tool is an error that names the Debian package to install (tooling/scripts/install-peers.sh installs them all).
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export const PACKAGES = {
  tgtd: 'tgt',
  tgtadm: 'tgt',
  'iscsi-perf': 'libiscsi-bin',
  'qemu-img': 'qemu-utils and qemu-block-extra',
  bash: 'bash',
}

function isExecutable(path) {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Absolute path of `name`, or undefined. */
export function lookupTool(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS]
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

/** Absolute path of `name`; throws a message naming the package when it is missing. */
export function findTool(name) {
  const path = lookupTool(name)
  if (path !== undefined) return path
  const pkg = PACKAGES[name]
  throw new Error(
    `'${name}' is not installed${pkg === undefined ? '' : ` (apt-get install ${pkg}, or run tooling/scripts/install-peers.sh)`}`,
  )
}
