// Our target (apps/target, bin iscsi-target) as a child process: one image-file LUN (LUN 0) on a free loopback port.
// It runs under `bash -c 'ulimit -n ...; exec node ...'` so the open-file limit is raised for thousands of sessions
// while the pid stays node's. With `cpuProfileDir` node writes a V8 CPU profile there when the target exits
// (which needs the graceful SIGTERM path of stop(), not a kill).
import { join } from 'node:path'
import { freePort, waitForPort } from './net.mjs'
import { spawnTracked, stopTracked, tailLines } from './processes.mjs'

const LAUNCH = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'

/**
 * Start the target. Options: repoRoot, key (a name for logs and the profile file), iqn, image (or configFile, which
 * must then name iqn with one LUN 0), dataDir, headerDigest, dataDigest (each required when set), cpuProfileDir, logLevel, extraArgs, env. Resolves { pid, port, url, tracked, output(), stop() }.
 */
export async function startOurTarget(options) {
  const { repoRoot, key, iqn, image, dataDir, configFile, headerDigest = false, dataDigest = false, cpuProfileDir, logLevel = 'warn', extraArgs = [], env } = options
  const host = '127.0.0.1'
  const port = await freePort()
  const nodeArgs = []
  if (cpuProfileDir !== undefined) {
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-name', `${key}.cpuprofile`)
  }
  const args = [
    ...nodeArgs,
    join(repoRoot, 'apps/target/dist/bin.js'),
    '--listen', `${host}:${port}`,
    // A config file names the targets and LUNs itself; --listen, --data and --log-level still override it.
    ...(configFile !== undefined ? ['--config', configFile] : ['--iqn', iqn, '--lun', image]),
    '--data', dataDir,
    '--log-format', 'json',
    '--log-level', logLevel,
    ...(headerDigest ? ['--header-digest'] : []),
    ...(dataDigest ? ['--data-digest'] : []),
    ...extraArgs,
  ]
  const tracked = spawnTracked('bash', ['-c', LAUNCH, 'bash', process.execPath, ...args], { cwd: repoRoot, env })
  const describe = () => `; our target (${key}) said:\n${tailLines(tracked.output())}`
  try {
    await waitForPort(host, port, { alive: tracked.isRunning, describe })
  } catch (error) {
    throw new Error(`our target ${error.message}`)
  }
  return {
    pid: tracked.pid,
    port,
    url: `iscsi://${host}:${port}/${iqn}/0`,
    tracked,
    output: tracked.output,
    describe,
    // SIGTERM is a graceful shutdown (and lets --cpu-prof write its file); a hang gets SIGKILL after 20 s.
    stop: () => stopTracked(tracked, { signal: 'SIGTERM', graceMs: 20000 }),
  }
}
