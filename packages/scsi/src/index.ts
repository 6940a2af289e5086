// @iscsi-ts/scsi: SCSI CDB and sense codecs, and a transport-free SPC-4/SBC-3 block device server over pluggable
// backstores.

// Errors and status
export { BackstoreError, CheckCondition, ScsiDecodeError, ScsiError, StatusError } from './errors.js'
export type { FieldPointer, ScsiErrorOptions } from './errors.js'
export { ScsiStatus } from './status.js'
export type { ScsiStatusName, ScsiStatusValue } from './status.js'

// Sense
export { SenseKey } from './sense/sense-key.js'
export type { SenseKeyName } from './sense/sense-key.js'
export { Asc } from './sense/asc.js'
export type { AscName } from './sense/asc.js'
export { SenseKeyText, ascName, ascText, senseKeyName, senseText } from './sense/sense-text.js'
export { decodeSense, encodeSense, senseEncodingLength, senseForError } from './sense/sense-data.js'
export type { DecodedSense, SenseData, SenseFormat } from './sense/sense-data.js'

// CDBs
export { Commands, commandNames, commandSpec, hasServiceActions } from './cdb/commands.js'
export type { CommandFeature, CommandName, CommandSet, CommandSpec, DataDirection } from './cdb/commands.js'
export { buildCdb, cdbEncodingLength, cdbFieldPointer, checkReservedBits, commandOf, decodeCdb, encodeCdb, invalidField, parseCdb } from './cdb/cdb.js'
export type { CdbInput, CdbOf, ParsedCdb } from './cdb/cdb.js'
export type { BitsField, CdbField, FlagField, UintField } from './cdb/fields.js'
export { cdbUsageData } from './cdb/usage.js'
export { dataInBytes, dataOutBytes, transferBlocks } from './cdb/transfer.js'
export {
  buildCompareAndWrite,
  buildExtendedCopy,
  buildGetLbaStatus,
  buildInquiry,
  buildModeSelect10,
  buildModeSelect6,
  buildModeSense10,
  buildModeSense6,
  buildOrwrite16,
  buildPersistentReserveIn,
  buildPersistentReserveOut,
  buildPreFetch10,
  buildPreFetch16,
  buildPreventAllowMediumRemoval,
  buildRead10,
  buildRead12,
  buildRead16,
  buildRead6,
  buildReadCapacity10,
  buildReadCapacity16,
  buildReadDefectData10,
  buildReadDefectData12,
  buildReceiveCopyResults,
  buildRelease10,
  buildRelease6,
  buildReportLuns,
  buildReportSupportedOperationCodes,
  buildReportSupportedTaskManagementFunctions,
  buildRequestSense,
  buildReserve10,
  buildReserve6,
  buildSanitize,
  buildStartStopUnit,
  buildSynchronizeCache10,
  buildSynchronizeCache16,
  buildTestUnitReady,
  buildUnmap,
  buildVerify10,
  buildVerify12,
  buildVerify16,
  buildWrite10,
  buildWrite12,
  buildWrite16,
  buildWrite6,
  buildWriteAndVerify10,
  buildWriteAndVerify12,
  buildWriteAndVerify16,
  buildWriteAtomic16,
  buildWriteSame10,
  buildWriteSame16,
} from './cdb/builders.js'
export { MAX_LUN, decodeLun, encodeLun } from './lun.js'

// Parameter data decoders (initiator side)
export { decodeBlockLimits, decodeDeviceIdentification, decodeLogicalBlockProvisioning, decodeStandardInquiry, decodeVpdPage } from './data/inquiry.js'
export type { BlockLimitsData, IdentificationDescriptor, LogicalBlockProvisioningData, StandardInquiryData } from './data/inquiry.js'
export { decodeLbaStatus, decodeReadCapacity10, decodeReadCapacity16, decodeReportLuns } from './data/capacity.js'
export type { Capacity, LbaStatusDescriptor } from './data/capacity.js'

// Backstores
export { backstoreErrno } from './backstore/backstore.js'
export type { AllocationExtent, Backstore } from './backstore/backstore.js'
export { MemoryBackstore } from './backstore/memory-backstore.js'
export type { MemoryBackstoreOptions } from './backstore/memory-backstore.js'
export { FileBackstore } from './backstore/file-backstore.js'
export type { FileBackstoreOptions } from './backstore/file-backstore.js'
export { FaultInjectingBackstore } from './backstore/fault-injecting-backstore.js'
export type { Fault, FaultEvent, FaultOperation, FaultPlan, FaultRule } from './backstore/fault-injecting-backstore.js'

// The device
export { ScsiTargetDevice } from './device/target-device.js'
export type { ScsiTargetDeviceOptions, TargetResetKind } from './device/target-device.js'
export { LogicalUnit } from './device/logical-unit.js'
export type { LogicalUnitOptions, UnitLimits } from './device/unit-state.js'
export type { Nexus, ScsiCommand, ScsiResult, TaskAttribute } from './device/nexus.js'
export { SanitizeReadBehavior, VersionDescriptor } from './device/inquiry-data.js'
export type { BlockLimits } from './device/inquiry-data.js'
export { VpdPage } from './device/inquiry.js'
export { ModePage } from './device/mode-pages.js'
export { ProvisioningStatus, encodeUnmapParameters } from './device/provisioning.js'
export type { UnmapDescriptor } from './device/provisioning.js'
export { SanitizeAction } from './device/sanitize.js'
export { PowerConditionCode } from './device/medium.js'
export { DefectListFormat } from './device/read-defect-data.js'
export { ReportingOptions, Support } from './device/report-supported.js'
export { SelectReport } from './device/report-luns.js'
export { commandChannel, internalErrorChannel, taskManagementChannel } from './diagnostics.js'
export type { CommandEvent } from './diagnostics.js'

// Reservations and third-party copy (modules of this package used by the device server)
export { Reservations, PrInServiceAction, PrOutServiceAction, PrType, ProtocolId, decodeTransportId, encodeIscsiTransportId } from './reservations/index.js'
export type { ReservationStore, ReservationsOptions, PrInServiceActionName, PrOutServiceActionName, PrTypeName, PrTypeValue, InitiatorIdentity, TransportId } from './reservations/index.js'
export { COPY_DEFAULTS, CopyManager, CopyManagerStatus, ListIdUsage, ReceiveCopyResultsAction } from './copy/index.js'
export type { CopyManagerOptions, CopyUnit, CopyLimits, OperatingParameters } from './copy/index.js'
