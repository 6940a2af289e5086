// What the commands need from an iSCSI session and how they get one. The real implementation
// (`initiator-connector.ts`) wraps @iscsi-ts/initiator; tests pass an in-memory one. Commands see only these
// shapes, so they hold no protocol logic: every CDB, PDU and decoding lives in the initiator and scsi packages.

export interface Portal {
  readonly host: string
  readonly port: number
}

/** A parsed `iscsi://` URL (see @iscsi-ts/initiator parseIscsiUrl). */
export interface TargetUrl extends Portal {
  readonly targetName?: string
  readonly lun?: number
  readonly user?: string
  readonly secret?: string
  readonly targetUser?: string
  readonly targetSecret?: string
  /** true: CRC32C only; false: None only; absent: the target chooses. */
  readonly headerDigest?: boolean
  readonly dataDigest?: boolean
}

export interface DiscoveredTarget {
  readonly name: string
  readonly addresses: ReadonlyArray<{ readonly host: string; readonly port: number; readonly tpgt: number }>
}

export interface ConnectOptions extends Portal {
  readonly targetName: string
  readonly initiatorName?: string
  readonly isid?: Buffer
  readonly chap?: { readonly user: string; readonly secret: string }
  readonly mutualChap?: { readonly user: string; readonly secret: string }
  readonly headerDigest?: boolean
  readonly dataDigest?: boolean
  readonly timeoutMs?: number
}

export interface DiscoverOptions {
  readonly initiatorName?: string
  readonly chap?: { readonly user: string; readonly secret: string }
  readonly timeoutMs?: number
}

/** Standard INQUIRY data (SPC-4 6.6.2): the fields the CLI lists, and every decoded field for display. */
export interface StandardInquiry {
  readonly peripheralQualifier: number
  readonly peripheralDeviceType: number
  readonly vendor: string
  readonly product: string
  readonly revision: string
  /** Every field as decoded by the initiator, in its order, for `iscsi inquiry`. */
  readonly fields: Readonly<Record<string, unknown>>
}

/** A decoded VPD page (SPC-4 7.8): its code, a name, and the decoded fields. */
export interface VpdPage {
  readonly page: number
  readonly name: string
  readonly fields: Readonly<Record<string, unknown>>
}

/** READ CAPACITY (16) parameter data (SBC-3 5.16.2). */
export interface Capacity {
  readonly blockSize: number
  readonly blockCount: bigint
  readonly lbpme: boolean
  readonly lbprz: boolean
  readonly physicalBlockExponent?: number
  readonly lowestAlignedLba?: number
  readonly protectionEnabled?: boolean
  readonly protectionType?: number
}

/** One LBA status descriptor (SBC-3 5.4.2). */
export interface LbaStatusExtent {
  readonly lba: bigint
  readonly blocks: number
  readonly status: 'mapped' | 'deallocated' | 'anchored'
}

export interface RegisteredKeys {
  readonly generation: number
  readonly keys: readonly bigint[]
}

export interface ReservationInfo {
  readonly generation: number
  readonly reservation?: { readonly key: bigint; readonly type: number; readonly scope: number }
}

export type PrOutAction = 'register' | 'register-ignore' | 'reserve' | 'release' | 'clear' | 'preempt' | 'preempt-abort'

export interface PrOutOptions {
  readonly key?: bigint
  readonly serviceActionKey?: bigint
  readonly type?: number
  readonly aptpl?: boolean
}

export interface IoOptions {
  readonly fua?: boolean
  readonly signal?: AbortSignal
  /** read: receive the data into this buffer (at least blocks * blockSize bytes) instead of a new one. */
  readonly into?: Buffer
}

/** The SCSI command API the commands use; one session to one target. */
export interface CliSession {
  readonly targetName: string
  /** Negotiated login parameters (for `--json` and verbose output). */
  readonly parameters: Readonly<Record<string, unknown>>
  /** Largest data transfer worth issuing in one command (MaxBurstLength and the LU's limits), in bytes. */
  readonly maxTransferBytes?: number
  reportLuns(): Promise<number[]>
  testUnitReady(lun: number): Promise<void>
  inquiry(lun: number): Promise<StandardInquiry>
  vpd(lun: number, page: number): Promise<VpdPage>
  /** Page codes listed by the Supported VPD Pages page (0x00). */
  supportedVpdPages(lun: number): Promise<number[]>
  readCapacity(lun: number): Promise<Capacity>
  /** `lba` as a number (below 2^53) spares the I/O loop a BigInt per command. */
  read(lun: number, lba: bigint | number, blocks: number, options?: IoOptions): Promise<Buffer>
  write(lun: number, lba: bigint | number, data: Buffer, options?: IoOptions): Promise<void>
  writeSame(lun: number, lba: bigint, blocks: number, options: { unmap?: boolean; data: Buffer; signal?: AbortSignal }): Promise<void>
  unmap(lun: number, extents: ReadonlyArray<{ lba: bigint; blocks: number }>): Promise<void>
  syncCache(lun: number): Promise<void>
  getLbaStatus(lun: number, lba: bigint): Promise<LbaStatusExtent[]>
  readKeys(lun: number): Promise<RegisteredKeys>
  readReservation(lun: number): Promise<ReservationInfo>
  reportCapabilities(lun: number): Promise<Readonly<Record<string, unknown>>>
  persistentReserveOut(lun: number, action: PrOutAction, options: PrOutOptions): Promise<void>
  /** One NOP-Out/NOP-In round trip, in milliseconds. */
  ping(): Promise<number>
  logout(): Promise<void>
}

/** Everything the CLI needs from an initiator implementation. */
export interface Connector {
  parseUrl(url: string): TargetUrl
  discover(portal: Portal, options: DiscoverOptions): Promise<DiscoveredTarget[]>
  connect(options: ConnectOptions): Promise<CliSession>
}
