// Locating the real peers interop tests run against (libiscsi's iscsi-ls, iscsi-inq, iscsi-readcapacity16,
// iscsi-test-cu; qemu-img; tgtd). `requirePeer(name)` returns the tool's absolute path. When the tool is missing:
// under CI (CI=true) it throws, so the test fails rather than silently passing; elsewhere it returns undefined and
// the caller skips with `skipReason(name)`.
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'

/** Directories searched after PATH: tools such as tgtd live in sbin, which a non-root PATH may omit. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** Debian packages that provide each peer, for the messages. */
const PACKAGES: Readonly<Record<string, string>> = {
  'iscsi-ls': 'libiscsi-bin',
  'iscsi-inq': 'libiscsi-bin',
  'iscsi-readcapacity16': 'libiscsi-bin',
  'iscsi-swp': 'libiscsi-bin',
  'iscsi-perf': 'libiscsi-bin',
  'iscsi-test-cu': 'libiscsi-bin',
  'qemu-img': 'qemu-utils (and qemu-block-extra for iscsi://)',
  tgtd: 'tgt',
  tgtadm: 'tgt',
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The absolute path of an executable on PATH (or the usual bin/sbin directories), or undefined. */
export function findPeer(name: string): string | undefined {
  if (name.length === 0 || name.includes('\0')) return undefined
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined
  if (name.includes('/')) return undefined
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0), ...EXTRA_DIRS]
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

export function isCi(): boolean {
  return process.env.CI === 'true'
}

/** Why a test is skipped when `name` is missing. */
export function skipReason(name: string): string {
  const pkg = PACKAGES[name]
  return `interop peer '${name}' is not installed${pkg === undefined ? '' : ` (apt-get install ${pkg}; or run tooling/scripts/install-peers.sh)`}: test skipped`
}

/**
 * The tool's path. Missing: throws under CI (CI=true), otherwise returns undefined so the test can be skipped with
 * `skipReason(name)`.
 */
export function requirePeer(name: string): string | undefined {
  const path = findPeer(name)
  if (path !== undefined) return path
  if (isCi()) throw new Error(`interop peer '${name}' is required in CI but was not found on PATH`)
  return undefined
}
