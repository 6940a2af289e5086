// CPU time and memory of a process from Linux procfs. CPU seconds are utime + stime of /proc/PID/stat (fields 14
// and 15, in clock ticks; they cover every thread of the process). Memory is VmRSS (sampled every 100 ms for the
// peak during a window) and VmHWM (the kernel's own lifetime peak) of /proc/PID/status.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let clockTicks
/** sysconf(_SC_CLK_TCK), 100 on every mainstream Linux. */
export function clockTicksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** utime + stime in ticks from the text of /proc/PID/stat (the command name may hold spaces and parentheses). */
export function parseStatTicks(text) {
  const close = text.lastIndexOf(')')
  if (close < 0) throw new Error('malformed /proc/PID/stat')
  // After "pid (comm) " the fields start at #3 (state): utime is #14, stime #15, so indices 11 and 12 here.
  const fields = text.slice(close + 2).trim().split(/\s+/)
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('malformed /proc/PID/stat')
  return utime + stime
}

/** A `Vm...: N kB` field of /proc/PID/status in bytes, or undefined. */
export function parseStatusField(text, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)
  return match ? Number(match[1]) * 1024 : undefined
}

/** CPU seconds used so far by `pid`, or undefined when it is gone. */
export function cpuSeconds(pid) {
  try {
    return parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond()
  } catch {
    return undefined
  }
}

/** { rss, hwm } in bytes of `pid`, or undefined when it is gone. */
export function memory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    return { rss: parseStatusField(text, 'VmRSS') ?? 0, hwm: parseStatusField(text, 'VmHWM') ?? 0 }
  } catch {
    return undefined
  }
}

/**
 * Watches a process over a window: CPU seconds spent in it, peak and last VmRSS (100 ms samples plus one at each
 * end), and the VmHWM seen. `stop()` returns the figures; a process that died keeps its last sampled values.
 */
export class ProcessMonitor {
  constructor(pid, intervalMs = 100) {
    this.pid = pid
    this.intervalMs = intervalMs
    this.startCpu = undefined
    this.lastCpu = undefined
    this.peakRss = 0
    this.lastRss = 0
    this.hwm = 0
    this.timer = undefined
  }

  sample() {
    const cpu = cpuSeconds(this.pid)
    if (cpu !== undefined) {
      if (this.startCpu === undefined) this.startCpu = cpu
      this.lastCpu = cpu
    }
    const mem = memory(this.pid)
    if (mem !== undefined) {
      this.lastRss = mem.rss
      if (mem.rss > this.peakRss) this.peakRss = mem.rss
      if (mem.hwm > this.hwm) this.hwm = mem.hwm
    }
  }

  start() {
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
    return this
  }

  stop() {
    clearInterval(this.timer)
    this.sample()
    return {
      cpuSeconds: this.startCpu === undefined || this.lastCpu === undefined ? undefined : this.lastCpu - this.startCpu,
      peakRss: this.peakRss,
      lastRss: this.lastRss,
      hwm: this.hwm,
    }
  }
}
