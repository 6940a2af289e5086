// The child side of TargetHost: an IscsiTarget built from ISCSI_TS_HOST_CONFIG, listening on an ephemeral port,
// answering the parent's requests (stats, memory after GC, active resources, diagnostics events) over IPC. It has no
// crash handler on purpose: an uncaught exception or unhandled rejection ends the process, and the parent sees it.
import diagnostics from 'node:diagnostics_channel'
import { readdirSync } from 'node:fs'
import { FaultInjectingBackstore, FileBackstore, LogicalUnit, MemoryBackstore } from '@iscsi-ts/scsi'
import type { Backstore } from '@iscsi-ts/scsi'
import { IscsiTarget } from '@iscsi-ts/target'
import type { ErrorEvent, TargetConfig } from '@iscsi-ts/target'
import type { HostConfig, HostEvents, HostLun, HostMemory, HostReady, HostReply, HostRequest, HostResources, HostStats } from './host-config.js'

const MAX_INTERNAL_MESSAGES = 50

async function backstoreOf(lun: HostLun): Promise<Backstore> {
  const blockSize = lun.blockSize ?? 512
  const base = lun.file === undefined ? new MemoryBackstore({ size: lun.size, blockSize }) : await FileBackstore.open(lun.file, { size: lun.size, blockSize })
  return lun.faults === undefined ? base : new FaultInjectingBackstore(base, lun.faults)
}

async function main(): Promise<void> {
  const text = process.env.ISCSI_TS_HOST_CONFIG
  if (text === undefined || process.send === undefined) throw new Error('run by TargetHost only (needs ISCSI_TS_HOST_CONFIG and an IPC channel)')
  const config = JSON.parse(text) as HostConfig
  const host = config.host ?? '127.0.0.1'

  const errorsByKind: Record<string, number> = {}
  const internal: string[] = []
  const logins = { success: 0, failure: 0 }
  const connections = { open: 0, close: 0 }
  let pdusReceived = 0
  const closes: string[] = []
  const watched = new Set(config.watchInitiators ?? [])
  const watchedRemotes = new Map<string, string>()
  const noteInternal = (text: string): void => {
    if (internal.length < MAX_INTERNAL_MESSAGES) internal.push(text)
  }
  diagnostics.subscribe('iscsi:target:error', (message) => {
    const event = message as ErrorEvent
    errorsByKind[event.kind] = (errorsByKind[event.kind] ?? 0) + 1
    if (event.kind === 'internal') noteInternal(`target: ${event.message}`)
  })
  diagnostics.subscribe('iscsi:scsi:internal-error', (message) => {
    const event = message as { opcode?: number; error?: unknown }
    const error = event.error instanceof Error ? (event.error.stack ?? event.error.message) : String(event.error)
    noteInternal(`scsi: opcode 0x${(event.opcode ?? 0).toString(16)}: ${error}`)
  })
  diagnostics.subscribe('iscsi:target:login', (message) => {
    const event = message as { event: 'success' | 'failure'; initiatorName: string; remote: string }
    logins[event.event]++
    if (event.event === 'success' && watched.has(event.initiatorName)) watchedRemotes.set(event.remote, event.initiatorName)
  })
  if (config.countPdus === true) {
    diagnostics.subscribe('iscsi:target:pdu:receive', () => {
      pdusReceived++
    })
  }
  diagnostics.subscribe('iscsi:target:connection', (message) => {
    const event = message as { event: 'open' | 'close'; remote: string; reason?: string }
    connections[event.event]++
    const name = event.event === 'close' ? watchedRemotes.get(event.remote) : undefined
    if (name !== undefined) {
      watchedRemotes.delete(event.remote)
      if (closes.length < MAX_INTERNAL_MESSAGES) closes.push(`${name} (${event.remote}): ${event.reason ?? 'no reason given'}`)
    }
  })

  const targets: TargetConfig[] = []
  for (const t of config.targets) {
    const luns = new Map<number, LogicalUnit>()
    for (const [index, lun] of t.luns.entries()) {
      luns.set(index, new LogicalUnit({ backstore: await backstoreOf(lun), serial: `rel-${targets.length}-${index}` }))
    }
    targets.push({
      name: t.name,
      portalGroups: [1],
      luns,
      ...(t.acls !== undefined ? { acls: t.acls } : {}),
      ...(t.auth !== undefined ? { auth: t.auth } : {}),
    })
  }
  const target = new IscsiTarget({
    portalGroups: [{ tag: 1, portals: [{ host, port: 0 }] }],
    targets,
    ...(config.discoveryAuth !== undefined ? { discoveryAuth: config.discoveryAuth } : {}),
    ...(config.limits !== undefined ? { limits: config.limits } : {}),
  })
  const [bound] = await target.listen()
  if (bound === undefined) throw new Error('no portal bound')

  const gc = (globalThis as { gc?: () => void }).gc
  const answer = async (request: HostRequest): Promise<unknown> => {
    switch (request.op) {
      case 'stats':
        return {
          stats: target.stats,
          sessions: target.sessions().map((s) => ({ tsih: s.tsih, initiatorName: s.initiatorName, targetName: s.targetName, connections: s.connections })),
        } satisfies HostStats
      case 'memory': {
        gc?.()
        const m = process.memoryUsage()
        return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } satisfies HostMemory
      }
      case 'resources': {
        const active: Record<string, number> = {}
        for (const kind of process.getActiveResourcesInfo()) active[kind] = (active[kind] ?? 0) + 1
        return { active, fds: readdirSync('/proc/self/fd').length } satisfies HostResources
      }
      case 'events':
        return { errorsByKind: { ...errorsByKind }, internal: [...internal], logins: { ...logins }, connections: { ...connections }, pdusReceived, closes: [...closes] } satisfies HostEvents
      case 'close':
        await target.close()
        return true
    }
  }
  process.on('message', (message: HostRequest) => {
    answer(message).then(
      (result) => {
        process.send?.({ id: message.id, result } satisfies HostReply)
        if (message.op === 'close') process.disconnect()
      },
      (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies HostReply),
    )
  })
  // The parent went away: nobody will ever ask us to stop.
  process.on('disconnect', () => {
    void target.close().finally(() => process.exit(0))
  })
  process.send({ type: 'ready', port: bound.port } satisfies HostReady)
}

await main()
