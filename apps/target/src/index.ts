// @iscsi-ts/target-server: the iscsi-target app, embeddable (runServer) and testable (loadConfig, parseConfig).
export { runServer, exposureWarnings, connectUrls } from './server.js'
export type { RunServerOptions, RunningServer, BoundPortal } from './server.js'
export {
  loadConfig,
  parseConfig,
  parseConfigText,
  configSchema,
  configIssues,
  formatPath,
  defaultDataDir,
  parseIscsiName,
  DEFAULT_IQN,
  DEFAULT_PORTAL,
  DEFAULT_DATA_DIR,
  LOG_LEVELS,
  BLOCK_SIZES,
  CHAP_ALGORITHMS,
} from './config.js'
export type {
  ServerConfig,
  ConfigInput,
  ConfigContext,
  LoadConfigOptions,
  LunConfig,
  FileLunConfig,
  MemoryLunConfig,
  TargetSettings,
  AclSettings,
  AuthSettings,
  ChapCredentialsConfig,
  PortalGroupSettings,
  LimitSettings,
  TimerSettings,
  LogLevel,
  ChapAlgorithm,
  Digest,
} from './config.js'
export { parseCommandLine, configFromFlags, applyOverrides, parseLunSpec, createProgram, DEFAULT_IMAGE, DEFAULT_IMAGE_SIZE } from './cli.js'
export type { CliFlags, CliEnvironment, Invocation, LunSpec } from './cli.js'
export { UnitPool, openUnit, ensureImage, serialFor, unitKey, toTargetOptions, toLimits } from './build.js'
export type { PooledUnit, PreparedUnits, UnitOpener, UnitSite, ImageAction } from './build.js'
export { FileReservationStore } from './reservation-store.js'
export { createLogger, formatPretty, subscribeLogs, REDACT_PATHS } from './logging.js'
export type { Logger, LogFormat, LogSink, CreateLoggerOptions } from './logging.js'
export { ServerMetrics, startMetricsServer, labelValue } from './metrics.js'
export type { MetricsServer, ServerMetricsOptions, TargetStatsSource } from './metrics.js'
export { Channel } from './events.js'
export type { ChannelName } from './events.js'
export { parseHostPort, formatHostPort, isLoopback, ISCSI_PORT } from './address.js'
export type { HostPort } from './address.js'
export { parseSize, formatSize, parseDuration } from './units.js'
export { TargetServerError, UsageError, ConfigError, StartupError, ExitCode, exitCodeOf } from './errors.js'
export type { ConfigIssue, ExitCodeValue } from './errors.js'
