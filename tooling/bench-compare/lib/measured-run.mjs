// Runs one benchmark client and measures it and the target serving it. The client runs under a small bash wrapper
// that reports the client's pid on fd 3 when it starts and bash's `times` when it ends: the second line of `times` is
// the user and system CPU of the waited-for child, exact even though the child is gone by the time we read it. The
// client's peak RSS is its VmHWM, sampled every 100 ms while it runs. The target is watched with a ProcessMonitor
// over the same window.
import { ProcessMonitor, memory } from './proc-stats.mjs'
import { spawnTracked, killGroup, tailLines } from './processes.mjs'

const WRAPPER = 'ulimit -n 65536 2>/dev/null; "$@" 3>&- & c=$!; echo "$c" >&3; wait "$c"; s=$?; times >&3; exit "$s"'

/** CPU seconds of the children from the output of bash's `times` (second line: `0m1.250s 0m0.310s`). */
export function parseBashTimes(text) {
  const lines = text.trim().split('\n')
  const line = lines[lines.length - 1] ?? ''
  const match = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(line)
  if (!match) return undefined
  return Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4])
}

/**
 * Run `file args` to completion. Resolves { code, stdout, stderr, clientCpu, clientPeakRss, target } where target is
 * the ProcessMonitor result for `targetPid` (undefined without one). Rejects when the client outlives `timeoutMs`.
 * @param {string} file
 * @param {readonly string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, targetPid?: number, timeoutMs: number }} options
 */
export async function measuredRun(file, args, { env, cwd, targetPid, timeoutMs }) {
  const targetMonitor = targetPid === undefined ? undefined : new ProcessMonitor(targetPid).start()
  let stdout = ''
  let stderr = ''
  let fd3 = ''
  let clientPid
  let clientHwm = 0
  const tracked = spawnTracked('bash', ['-c', WRAPPER, 'bash', file, ...args], {
    env,
    cwd,
    extraFds: 1,
    onStdout: (chunk) => {
      stdout += chunk.toString('utf8')
    },
  })
  tracked.child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString('utf8')
  })
  tracked.child.stdio[3]?.on('data', (chunk) => {
    fd3 += chunk.toString('utf8')
    if (clientPid === undefined) {
      const match = /^(\d+)\n/.exec(fd3)
      if (match) clientPid = Number(match[1])
    }
  })
  const sampleClient = () => {
    if (clientPid === undefined) return
    const mem = memory(clientPid)
    if (mem !== undefined && mem.hwm > clientHwm) clientHwm = mem.hwm
  }
  const sampler = setInterval(sampleClient, 100)
  let timedOut = false
  const killer = setTimeout(() => {
    timedOut = true
    killGroup(tracked.child, 'SIGKILL')
  }, timeoutMs)
  const { code, signal } = await tracked.exited
  clearTimeout(killer)
  clearInterval(sampler)
  const target = targetMonitor?.stop()
  await tracked.closed
  if (timedOut) {
    throw new Error(`${file} did not finish within ${Math.round(timeoutMs / 1000)} s; its output:\n${tailLines(stdout + stderr)}`)
  }
  return {
    code: code ?? (signal ? 128 : 1),
    stdout,
    stderr,
    clientCpu: parseBashTimes(fd3.split('\n').slice(1).join('\n')),
    clientPeakRss: clientHwm,
    target,
  }
}
