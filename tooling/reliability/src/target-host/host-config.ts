// The configuration of a target run in a child process (plain JSON: it travels in an environment variable) and the
// requests the parent may make of it over the IPC channel.
import type { AclConfig, AuthConfig, Limits } from '@iscsi-ts/target'
import type { FaultPlan } from '@iscsi-ts/scsi'

export interface HostLun {
  /** Bytes. */
  readonly size: number
  readonly blockSize?: number
  /** An image file (FileBackstore) instead of memory. */
  readonly file?: string
  /** Wrap the backstore in a FaultInjectingBackstore with this plan. */
  readonly faults?: FaultPlan
}

export interface HostTarget {
  readonly name: string
  readonly luns: readonly HostLun[]
  readonly acls?: AclConfig[]
  readonly auth?: AuthConfig
}

export interface HostConfig {
  /** Listen address (default 127.0.0.1); the port is always chosen by the system. */
  readonly host?: string
  readonly targets: readonly HostTarget[]
  readonly discoveryAuth?: AuthConfig
  readonly limits?: Limits
  /** Count the PDUs the target framed (subscribes to iscsi:target:pdu:receive). */
  readonly countPdus?: boolean
  /** Initiator names whose connection closes are recorded with the target's reason (HostEvents.closes). */
  readonly watchInitiators?: readonly string[]
}

export type HostOp = 'stats' | 'memory' | 'resources' | 'events' | 'close'

export interface HostRequest {
  readonly id: number
  readonly op: HostOp
}

export interface HostReply {
  readonly id: number
  readonly result?: unknown
  readonly error?: string
}

export interface HostReady {
  readonly type: 'ready'
  readonly port: number
}

export interface HostStats {
  readonly stats: { readonly sessions: number; readonly connections: number }
  readonly sessions: ReadonlyArray<{ readonly tsih: number; readonly initiatorName: string; readonly targetName: string; readonly connections: number }>
}

export interface HostMemory {
  /** After a full GC (the child runs with --expose-gc). */
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
  readonly arrayBuffers: number
}

export interface HostResources {
  /** process.getActiveResourcesInfo() counted by kind (Timeout, TCPSocketWrap, FSReqPromise...). */
  readonly active: Readonly<Record<string, number>>
  readonly fds: number
}

export interface HostEvents {
  /** iscsi:target:error events by kind. */
  readonly errorsByKind: Readonly<Record<string, number>>
  /** Messages of the events that mean a bug: target errors of kind "internal", iscsi:scsi:internal-error. */
  readonly internal: readonly string[]
  readonly logins: { readonly success: number; readonly failure: number }
  readonly connections: { readonly open: number; readonly close: number }
  /** PDUs the target framed and handled (with HostConfig.countPdus). */
  readonly pdusReceived: number
  /** Why the target closed connections of the watched initiators (HostConfig.watchInitiators). */
  readonly closes: readonly string[]
}
