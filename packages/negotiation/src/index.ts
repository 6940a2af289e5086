// @iscsi-ts/negotiation: iSCSI key=value text, the login and text negotiation engines, SendTargets and CHAP.
export { LoginStage, RejectReason, ChapAlgorithm, RESERVED_TAG } from './types.js'
export type {
  TextPair,
  LoginStatusCode,
  NegotiationReaction,
  DigestName,
  AuthMethodName,
  SessionTypeName,
  TaskReportingName,
  NegotiationRole,
  ChapAlgorithmName,
  ChapSecret,
  OperationalPreferences,
  SessionParameters,
  ConnectionParameters,
  NegotiatedParameters,
  LoginRequestFields,
  LoginResponseFields,
  TargetLoginStep,
  InitiatorLoginStep,
  AuthPolicy,
  TargetPortalAddress,
  TargetAddress,
  TargetResolution,
  LoginContext,
  TargetListing,
  TargetLoginPolicy,
  TargetLoginOptions,
  InitiatorLoginOptions,
  TextRequestFields,
  TextResponseFields,
  TargetTextStep,
  InitiatorTextStep,
  DiscoveredTarget,
} from './types.js'

export { NegotiationError, NegotiationErrorCode, LoginRejectedError } from './errors.js'

export { LoginStatus, LoginStatusClass, loginStatusName, loginStatusText, isRedirect } from './login-status.js'
export type { LoginStatusName } from './login-status.js'

export { parseText, buildText, textLength, splitSegments, MAX_KEY_LENGTH } from './text.js'
export type { ParseTextOptions } from './text.js'
export { TextAccumulator, DEFAULT_MAX_TEXT_LENGTH } from './text-accumulator.js'
export { parseNumber, parseBinary, formatBinary, parseBoolean, formatBoolean, parseList } from './values.js'

export { KEYS, SessionType, keyDefinition, isExtensionKey, MAX_VALUE_LENGTH } from './keys.js'
export type { KeyDefinition, KeyKind, ResultFunction, KeyStage, KeyUse, KeySender } from './keys.js'

export { Answer, acceptValue, resolveAnswer } from './negotiator.js'
export {
  INITIATOR_DEFAULTS,
  TARGET_DEFAULTS,
  DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
  LOGIN_MAX_DATA_SEGMENT_LENGTH,
} from './parameters.js'

export {
  chapResponse,
  verifyChapResponse,
  chapAlgorithmByName,
  chapDigestLength,
  ChapChallengeCache,
  DEFAULT_CHAP_ALGORITHMS,
} from './chap.js'

export {
  formatTargetAddress,
  parseTargetAddress,
  buildSendTargetsAnswer,
  parseSendTargetsAnswer,
  ISCSI_PORT,
} from './send-targets.js'

export { TargetLoginNegotiation } from './target-login.js'
export { InitiatorLoginNegotiation } from './initiator-login.js'
export { TargetTextNegotiation, InitiatorTextNegotiation } from './text-negotiation.js'
export type { TargetTextOptions, InitiatorTextOptions } from './text-negotiation.js'

export { LOGIN_CHANNEL, TEXT_CHANNEL } from './diagnostics.js'
export type { LoginEvent, TextEvent } from './diagnostics.js'
