// @iscsi-ts/cli as a library: run the `iscsi` program in-process (tests, wrappers) with your own streams and
// initiator connector.
export { main, createProgram } from './program.js'
export { ExitCode, CliError, UsageError } from './errors.js'
export type { ExitCodeName, ExitCodeValue } from './errors.js'
export type { CliIo, GlobalOptions, OutputStream } from './context.js'
export type {
  Capacity,
  CliSession,
  ConnectOptions,
  Connector,
  DiscoverOptions,
  DiscoveredTarget,
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
export { createInitiatorConnector } from './initiator-connector.js'
export { Histogram } from './histogram.js'
export type { HistogramSnapshot } from './histogram.js'
