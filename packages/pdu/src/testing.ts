// Test helpers for other packages (`@iscsi-ts/pdu/testing`): one builder per PDU kind with sane defaults, and
// helpers to turn PDUs into wire bytes and back. Not for production paths.
import { decodePdu, encodePdu } from './codec.js'
import type { DecodeOptions } from './codec.js'
import { PduFramer } from './framer.js'
import type { FramerOptions } from './framer.js'
import type { PduError } from './errors.js'
import { LoginStage, Opcode, RESERVED_TAG, TaskAttribute, TaskManagementFunction } from './opcode.js'
import type {
  AsyncMessagePdu,
  DataInPdu,
  DataOutPdu,
  DigestOptions,
  LoginRequestPdu,
  LoginResponsePdu,
  LogoutRequestPdu,
  LogoutResponsePdu,
  NopInPdu,
  NopOutPdu,
  Pdu,
  R2TPdu,
  RejectPdu,
  ScsiCommandPdu,
  ScsiResponsePdu,
  SnackRequestPdu,
  TaskManagementRequestPdu,
  TaskManagementResponsePdu,
  TextRequestPdu,
  TextResponsePdu,
} from './types.js'

/** An ISID of the "random" type (RFC 7143 11.12.5, T=10b) for tests. */
export const TEST_ISID: Buffer = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x00, 0x01])

const empty = (): Buffer => Buffer.alloc(0)

/** Login text from key=value pairs, each NUL-terminated (RFC 7143 6.1). */
export function loginText(pairs: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(pairs)
      .map(([key, value]) => `${key}=${value}\0`)
      .join(''),
    'utf8',
  )
}

export function buildNopOut(p: Partial<NopOutPdu> = {}): NopOutPdu {
  return { opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 1, ttt: RESERVED_TAG, cmdSN: 1, expStatSN: 1, data: empty(), ...p }
}

export function buildNopIn(p: Partial<NopInPdu> = {}): NopInPdu {
  return { opcode: Opcode.NopIn, lun: 0n, itt: 1, ttt: RESERVED_TAG, statSN: 1, expCmdSN: 2, maxCmdSN: 33, data: empty(), ...p }
}

/** A SCSI Command, by default TEST UNIT READY (opcode 0x00) to LUN 0, simple attribute. */
export function buildScsiCommand(p: Partial<ScsiCommandPdu> = {}): ScsiCommandPdu {
  return {
    opcode: Opcode.ScsiCommand,
    immediate: false,
    final: true,
    read: false,
    write: false,
    attribute: TaskAttribute.Simple,
    lun: 0n,
    itt: 1,
    expectedDataTransferLength: 0,
    cmdSN: 1,
    expStatSN: 1,
    cdb: Buffer.alloc(16),
    data: empty(),
    ...p,
  }
}

export function buildScsiResponse(p: Partial<ScsiResponsePdu> = {}): ScsiResponsePdu {
  return {
    opcode: Opcode.ScsiResponse,
    bidiOverflow: false,
    bidiUnderflow: false,
    overflow: false,
    underflow: false,
    response: 0,
    status: 0,
    itt: 1,
    snackTag: 0,
    statSN: 1,
    expCmdSN: 2,
    maxCmdSN: 33,
    expDataSN: 0,
    bidiReadResidualCount: 0,
    residualCount: 0,
    data: empty(),
    ...p,
  }
}

export function buildTaskManagementRequest(p: Partial<TaskManagementRequestPdu> = {}): TaskManagementRequestPdu {
  return {
    opcode: Opcode.TaskManagementRequest,
    immediate: true,
    function: TaskManagementFunction.AbortTask,
    lun: 0n,
    itt: 2,
    referencedTaskTag: 1,
    cmdSN: 2,
    expStatSN: 1,
    refCmdSN: 1,
    expDataSN: 0,
    data: empty(),
    ...p,
  }
}

export function buildTaskManagementResponse(p: Partial<TaskManagementResponsePdu> = {}): TaskManagementResponsePdu {
  return { opcode: Opcode.TaskManagementResponse, response: 0, itt: 2, statSN: 1, expCmdSN: 2, maxCmdSN: 33, data: empty(), ...p }
}

/** A Login Request in the security stage, transit to operational negotiation, with a test ISID. */
export function buildLoginRequest(p: Partial<LoginRequestPdu> = {}): LoginRequestPdu {
  return {
    opcode: Opcode.LoginRequest,
    transit: true,
    continue: false,
    csg: LoginStage.SecurityNegotiation,
    nsg: LoginStage.LoginOperationalNegotiation,
    versionMax: 0,
    versionMin: 0,
    isid: Buffer.from(TEST_ISID),
    tsih: 0,
    itt: 0,
    cid: 0,
    cmdSN: 1,
    expStatSN: 0,
    data: empty(),
    ...p,
  }
}

export function buildLoginResponse(p: Partial<LoginResponsePdu> = {}): LoginResponsePdu {
  return {
    opcode: Opcode.LoginResponse,
    transit: true,
    continue: false,
    csg: LoginStage.SecurityNegotiation,
    nsg: LoginStage.LoginOperationalNegotiation,
    versionMax: 0,
    versionActive: 0,
    isid: Buffer.from(TEST_ISID),
    tsih: 1,
    itt: 0,
    statSN: 0,
    expCmdSN: 1,
    maxCmdSN: 1,
    statusClass: 0,
    statusDetail: 0,
    data: empty(),
    ...p,
  }
}

export function buildTextRequest(p: Partial<TextRequestPdu> = {}): TextRequestPdu {
  return {
    opcode: Opcode.TextRequest,
    immediate: false,
    final: true,
    continue: false,
    lun: 0n,
    itt: 1,
    ttt: RESERVED_TAG,
    cmdSN: 1,
    expStatSN: 1,
    data: empty(),
    ...p,
  }
}

export function buildTextResponse(p: Partial<TextResponsePdu> = {}): TextResponsePdu {
  return {
    opcode: Opcode.TextResponse,
    final: true,
    continue: false,
    lun: 0n,
    itt: 1,
    ttt: RESERVED_TAG,
    statSN: 1,
    expCmdSN: 2,
    maxCmdSN: 33,
    data: empty(),
    ...p,
  }
}

export function buildDataOut(p: Partial<DataOutPdu> = {}): DataOutPdu {
  return {
    opcode: Opcode.DataOut,
    final: true,
    lun: 0n,
    itt: 1,
    ttt: RESERVED_TAG,
    expStatSN: 1,
    dataSN: 0,
    bufferOffset: 0,
    data: empty(),
    ...p,
  }
}

export function buildDataIn(p: Partial<DataInPdu> = {}): DataInPdu {
  return {
    opcode: Opcode.DataIn,
    final: true,
    acknowledge: false,
    overflow: false,
    underflow: false,
    statusPresent: false,
    status: 0,
    lun: 0n,
    itt: 1,
    ttt: RESERVED_TAG,
    statSN: 0,
    expCmdSN: 2,
    maxCmdSN: 33,
    dataSN: 0,
    bufferOffset: 0,
    residualCount: 0,
    data: empty(),
    ...p,
  }
}

export function buildLogoutRequest(p: Partial<LogoutRequestPdu> = {}): LogoutRequestPdu {
  return { opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt: 3, cid: 0, cmdSN: 2, expStatSN: 2, data: empty(), ...p }
}

export function buildLogoutResponse(p: Partial<LogoutResponsePdu> = {}): LogoutResponsePdu {
  return {
    opcode: Opcode.LogoutResponse,
    response: 0,
    itt: 3,
    statSN: 2,
    expCmdSN: 3,
    maxCmdSN: 34,
    time2Wait: 0,
    time2Retain: 0,
    data: empty(),
    ...p,
  }
}

export function buildSnackRequest(p: Partial<SnackRequestPdu> = {}): SnackRequestPdu {
  return {
    opcode: Opcode.SnackRequest,
    type: 0,
    lun: 0n,
    itt: 1,
    ttt: RESERVED_TAG,
    expStatSN: 1,
    begRun: 0,
    runLength: 0,
    data: empty(),
    ...p,
  }
}

export function buildR2T(p: Partial<R2TPdu> = {}): R2TPdu {
  return {
    opcode: Opcode.R2T,
    lun: 0n,
    itt: 1,
    ttt: 0x100,
    statSN: 1,
    expCmdSN: 2,
    maxCmdSN: 33,
    r2tSN: 0,
    bufferOffset: 0,
    desiredDataTransferLength: 8192,
    data: empty(),
    ...p,
  }
}

export function buildAsyncMessage(p: Partial<AsyncMessagePdu> = {}): AsyncMessagePdu {
  return {
    opcode: Opcode.AsyncMessage,
    lun: 0n,
    statSN: 1,
    expCmdSN: 2,
    maxCmdSN: 33,
    asyncEvent: 1,
    asyncVCode: 0,
    parameter1: 0,
    parameter2: 0,
    parameter3: 2,
    data: empty(),
    ...p,
  }
}

export function buildReject(p: Partial<RejectPdu> = {}): RejectPdu {
  return { opcode: Opcode.Reject, reason: 0x04, statSN: 1, expCmdSN: 2, maxCmdSN: 33, dataSN: 0, data: Buffer.alloc(48), ...p }
}

/** One builder per opcode, for table-driven tests. */
export const builders = {
  [Opcode.NopOut]: buildNopOut,
  [Opcode.ScsiCommand]: buildScsiCommand,
  [Opcode.TaskManagementRequest]: buildTaskManagementRequest,
  [Opcode.LoginRequest]: buildLoginRequest,
  [Opcode.TextRequest]: buildTextRequest,
  [Opcode.DataOut]: buildDataOut,
  [Opcode.LogoutRequest]: buildLogoutRequest,
  [Opcode.SnackRequest]: buildSnackRequest,
  [Opcode.NopIn]: buildNopIn,
  [Opcode.ScsiResponse]: buildScsiResponse,
  [Opcode.TaskManagementResponse]: buildTaskManagementResponse,
  [Opcode.LoginResponse]: buildLoginResponse,
  [Opcode.TextResponse]: buildTextResponse,
  [Opcode.DataIn]: buildDataIn,
  [Opcode.LogoutResponse]: buildLogoutResponse,
  [Opcode.R2T]: buildR2T,
  [Opcode.AsyncMessage]: buildAsyncMessage,
  [Opcode.Reject]: buildReject,
} as const

/** Wire bytes of one or more PDUs, concatenated (convenient for feeding a framer or a socket in tests). */
export function pduBytes(pdus: Pdu | readonly Pdu[], digests?: DigestOptions): Buffer {
  const list = Array.isArray(pdus) ? (pdus as readonly Pdu[]) : [pdus as Pdu]
  return Buffer.concat(list.map((pdu) => encodePdu(pdu, digests)))
}

/** Decodes every PDU in `bytes` (which must hold whole PDUs); throws PduError. */
export function decodeAll(bytes: Buffer, options?: DecodeOptions): Pdu[] {
  const out: Pdu[] = []
  let offset = 0
  while (offset < bytes.length) {
    const { value, bytesRead } = decodePdu(bytes, offset, options)
    out.push(value)
    offset += bytesRead
  }
  return out
}

/** Runs `chunks` through a fresh framer and collects what comes out. */
export function frameChunks(
  chunks: readonly Buffer[],
  options: Omit<FramerOptions, 'onPdu' | 'onError'> = {},
): { pdus: Pdu[]; errors: PduError[]; framer: PduFramer } {
  const pdus: Pdu[] = []
  const errors: PduError[] = []
  const framer = new PduFramer({ ...options, onPdu: (pdu) => pdus.push(pdu), onError: (error) => errors.push(error) })
  for (const chunk of chunks) framer.push(chunk)
  return { pdus, errors, framer }
}
