export { IscsiTarget } from './target.js'
export type { SessionInfo, CloseOptions } from './target.js'
export type {
  PortalConfig,
  PortalGroupConfig,
  ChapCredentials,
  ChapAlgorithmName,
  AuthConfig,
  AclConfig,
  TargetConfig,
  Limits,
  IscsiTargetOptions,
} from './config.js'
export { DEFAULT_LIMITS } from './config.js'
export { TargetError, TargetConfigError, LoginError, DataOutError, TargetErrorCode } from './errors.js'
export type { TargetReaction } from './errors.js'
export type { ConnectionEvent, LoginEvent, LogoutEvent, CommandEvent, ErrorEvent, PduEvent } from './channels.js'
