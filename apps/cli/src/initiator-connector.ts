// The CLI's Connector over @iscsi-ts/initiator: URL parsing, SendTargets discovery and sessions, with the
// initiator's decoded SCSI data mapped onto the shapes the commands print. No CDB or PDU is built here.
import {
  Session,
  discover,
  parseIscsiUrl,
  type DigestPreference,
  type InquiryData,
  type SessionOptions,
  type VpdPage as InitiatorVpdPage,
} from '@iscsi-ts/initiator'
import { associationName, codeSetName, designatorTypeName, protocolName, reservationTypeName, vpdPageName } from './names.js'
import type {
  Capacity,
  CliSession,
  ConnectOptions,
  Connector,
  DiscoverOptions,
  DiscoveredTarget,
  IoOptions,
  LbaStatusExtent,
  Portal,
  PrOutAction,
  PrOutOptions,
  RegisteredKeys,
  ReservationInfo,
  StandardInquiry,
  TargetUrl,
  VpdPage,
} from './session.js'

/** `CRC32C` or `CRC32C,None`: ask for digests; `None`: refuse them; `None,CRC32C`: let the target choose. */
export function digestWish(preference: DigestPreference | undefined): boolean | undefined {
  if (preference === undefined || preference === 'None,CRC32C') return undefined
  return preference !== 'None'
}

export function standardInquiry(data: InquiryData): StandardInquiry {
  const { kind: _kind, ...fields } = data
  return {
    peripheralQualifier: data.peripheralQualifier,
    peripheralDeviceType: data.peripheralDeviceType,
    vendor: data.vendor,
    product: data.product,
    revision: data.revision,
    fields,
  }
}

/** The decoded fields of a VPD page, with designators spelled out. */
export function vpdFields(page: InitiatorVpdPage): Record<string, unknown> {
  const { kind: _kind, peripheralQualifier: _pq, peripheralDeviceType: _pdt, pageCode: _code, name, data, ...fields } = page
  if (name === 'other') return { data }
  if ('designators' in fields) {
    return {
      designators: fields.designators.map((d) => ({
        type: designatorTypeName(d.type),
        association: associationName(d.association),
        codeSet: codeSetName(d.codeSet),
        ...(d.protocolIdentifier !== undefined ? { protocol: protocolName(d.protocolIdentifier) } : {}),
        value: d.text,
      })),
    }
  }
  return fields
}

class InitiatorSession implements CliSession {
  readonly #session: Session
  readonly targetName: string

  constructor(session: Session, targetName: string) {
    this.#session = session
    this.targetName = targetName
  }

  get parameters(): Readonly<Record<string, unknown>> {
    return { ...this.#session.parameters }
  }

  reportLuns(): Promise<number[]> {
    return this.#session.reportLuns()
  }

  testUnitReady(lun: number): Promise<void> {
    return this.#session.testUnitReady(lun)
  }

  async inquiry(lun: number): Promise<StandardInquiry> {
    const data = await this.#session.inquiry(lun)
    if (data.kind !== 'standard') throw new TypeError('INQUIRY returned a VPD page')
    return standardInquiry(data)
  }

  async vpd(lun: number, page: number): Promise<VpdPage> {
    const data = await this.#session.inquiry(lun, { page })
    if (data.kind !== 'vpd') throw new TypeError('INQUIRY returned standard data for a VPD page')
    return { page: data.pageCode, name: vpdPageName(data.pageCode), fields: vpdFields(data) }
  }

  async supportedVpdPages(lun: number): Promise<number[]> {
    const data = await this.#session.inquiry(lun, { page: 0x00 })
    return data.kind === 'vpd' && data.name === 'supported-pages' ? data.pages : []
  }

  async readCapacity(lun: number): Promise<Capacity> {
    const c = await this.#session.readCapacity(lun)
    return {
      blockSize: c.blockSize,
      blockCount: c.blockCount,
      lbpme: c.lbpme,
      lbprz: c.lbprz,
      physicalBlockExponent: c.logicalBlocksPerPhysicalBlockExponent,
      lowestAlignedLba: c.lowestAlignedLba,
      protectionEnabled: c.protectionEnabled,
    }
  }

  read(lun: number, lba: bigint | number, blocks: number, options: IoOptions = {}): Promise<Buffer> {
    return this.#session.read(lun, lba, blocks, options)
  }

  write(lun: number, lba: bigint | number, data: Buffer, options: IoOptions = {}): Promise<void> {
    return this.#session.write(lun, lba, data, options)
  }

  writeSame(lun: number, lba: bigint, blocks: number, options: { unmap?: boolean; data: Buffer; signal?: AbortSignal }): Promise<void> {
    return this.#session.writeSame(lun, lba, blocks, options)
  }

  unmap(lun: number, extents: ReadonlyArray<{ lba: bigint; blocks: number }>): Promise<void> {
    return this.#session.unmap(lun, [...extents])
  }

  syncCache(lun: number): Promise<void> {
    return this.#session.syncCache(lun)
  }

  async getLbaStatus(lun: number, lba: bigint): Promise<LbaStatusExtent[]> {
    return this.#session.getLbaStatus(lun, lba)
  }

  async readKeys(lun: number): Promise<RegisteredKeys> {
    const r = await this.#session.persistentReserveIn(lun, 'read-keys')
    return { generation: r.generation, keys: r.keys }
  }

  async readReservation(lun: number): Promise<ReservationInfo> {
    const r = await this.#session.persistentReserveIn(lun, 'read-reservation')
    return { generation: r.generation, ...(r.reservation ? { reservation: r.reservation } : {}) }
  }

  async reportCapabilities(lun: number): Promise<Readonly<Record<string, unknown>>> {
    const c = await this.#session.persistentReserveIn(lun, 'report-capabilities')
    return {
      compatibleReservationHandling: c.crh,
      specifyInitiatorPortsCapable: c.sipC,
      allTargetPortsCapable: c.atpC,
      persistThroughPowerLossCapable: c.ptplC,
      persistThroughPowerLossActivated: c.ptplA,
      typeMaskValid: c.tmv,
      allowCommands: c.allowCommands,
      ...(c.tmv ? { types: c.types.map(reservationTypeName) } : {}),
    }
  }

  persistentReserveOut(lun: number, action: PrOutAction, options: PrOutOptions): Promise<void> {
    return this.#session.persistentReserveOut(lun, action, options)
  }

  ping(): Promise<number> {
    return this.#session.ping()
  }

  logout(): Promise<void> {
    return this.#session.logout()
  }
}

/** The Connector of the real `iscsi` program; `env` supplies LIBISCSI_CHAP_* defaults like libiscsi's tools. */
export function createInitiatorConnector(options: { env?: Readonly<Record<string, string | undefined>> } = {}): Connector {
  return {
    parseUrl(text: string): TargetUrl {
      const url = parseIscsiUrl(text, { env: options.env ?? {} })
      const headerDigest = digestWish(url.headerDigest)
      const dataDigest = digestWish(url.dataDigest)
      return {
        host: url.host,
        port: url.port,
        ...(url.targetName !== undefined ? { targetName: url.targetName } : {}),
        ...(url.lun !== undefined ? { lun: url.lun } : {}),
        ...(url.user !== undefined ? { user: url.user } : {}),
        ...(url.secret !== undefined ? { secret: url.secret } : {}),
        ...(url.targetUser !== undefined ? { targetUser: url.targetUser } : {}),
        ...(url.targetSecret !== undefined ? { targetSecret: url.targetSecret } : {}),
        ...(headerDigest !== undefined ? { headerDigest } : {}),
        ...(dataDigest !== undefined ? { dataDigest } : {}),
      }
    },

    discover(portal: Portal, discoverOptions: DiscoverOptions): Promise<DiscoveredTarget[]> {
      return discover(portal, {
        ...(discoverOptions.initiatorName !== undefined ? { initiatorName: discoverOptions.initiatorName } : {}),
        ...(discoverOptions.chap ? { chap: { ...discoverOptions.chap } } : {}),
        ...(discoverOptions.timeoutMs !== undefined ? { timeoutMs: discoverOptions.timeoutMs } : {}),
      })
    },

    async connect(connect: ConnectOptions): Promise<CliSession> {
      const sessionOptions: SessionOptions = {
        host: connect.host,
        port: connect.port,
        targetName: connect.targetName,
        ...(connect.initiatorName !== undefined ? { initiatorName: connect.initiatorName } : {}),
        ...(connect.isid ? { isid: connect.isid } : {}),
        ...(connect.chap ? { chap: { ...connect.chap } } : {}),
        ...(connect.mutualChap ? { mutualChap: { ...connect.mutualChap } } : {}),
        ...(connect.headerDigest !== undefined ? { headerDigest: connect.headerDigest } : {}),
        ...(connect.dataDigest !== undefined ? { dataDigest: connect.dataDigest } : {}),
        ...(connect.timeoutMs !== undefined ? { timeoutMs: connect.timeoutMs, loginTimeoutMs: connect.timeoutMs } : {}),
        // A CLI run is short: a lost connection is an error to report, not something to ride out.
        reconnect: false,
      }
      const session = await Session.login(sessionOptions)
      return new InitiatorSession(session, connect.targetName)
    },
  }
}
