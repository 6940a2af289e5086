// @iscsi-ts/initiator: a user-space iSCSI initiator (RFC 7143) with a promise-based SCSI command API.
export { parseIscsiUrl, formatIscsiUrl, DEFAULT_ISCSI_PORT } from './url.js'
export type { IscsiUrl, DigestPreference, ParseIscsiUrlOptions } from './url.js'

export { discover } from './discovery.js'
export type { DiscoveredTarget, DiscoverOptions } from './discovery.js'

export { Session, sessionOptionsFromUrl } from './session.js'
export type { CommandOptions, ReadOptions, WriteOptions, PersistentReserveOutOptions } from './session.js'
export type { ExecuteOptions, CommandResult, Residual, TaskAttributeName } from './command.js'
export type { AsyncEventInfo } from './async-event.js'
export type { SessionEvents, SessionState } from './session-core.js'
export { defaultInitiatorName, randomIsid } from './session-options.js'
export type { SessionOptions, SessionParameters, ChapCredentials, ReconnectOptions } from './session-options.js'

export {
  PrType,
  PrInAction,
  PrOutAction,
  decodeInquiry,
  decodeVpdPage,
  decodeReadCapacity10,
  decodeReadCapacity16,
  decodeReportLuns,
  decodeLbaStatus,
  decodePersistentReserveIn,
  encodeUnmapParameters,
  encodePersistentReserveOutParameters,
} from './scsi-data.js'
export type {
  InquiryData,
  VpdPage,
  VpdDesignator,
  Capacity,
  LbaStatusDescriptor,
  ProvisioningStatus,
  UnmapExtent,
  PrInActionName,
  PrOutActionName,
  PrInResult,
  PrReadKeys,
  PrReadReservation,
  PrCapabilities,
  PrFullStatus,
  PrFullStatusEntry,
} from './scsi-data.js'
export type { DecodedSense } from './sense.js'

export {
  InitiatorError,
  InitiatorErrorCode,
  LoginError,
  TimeoutError,
  ConnectionError,
  ProtocolError,
  AbortError,
  TaskManagementError,
  RejectError,
  ScsiCommandError,
  describeLoginStatus,
  describeScsiStatus,
  describeTmfResponse,
} from './errors.js'

export { CHANNEL_NAMES } from './diagnostics.js'
