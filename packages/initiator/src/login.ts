// The login phase on one connection (RFC 7143 6.3, 11.12, 11.13): Login Requests built by the negotiation engine
// (`InitiatorLoginNegotiation`, which owns the keys, CHAP and the stage machine), sent and answered here with the
// session identifiers (ISID, TSIH, CID, CmdSN, ExpStatSN). Redirection (status class 1) is reported to the caller,
// which reconnects to the new address.
import {
  InitiatorLoginNegotiation,
  NegotiationError,
  type InitiatorLoginOptions,
  type NegotiatedParameters,
  type TargetAddress,
} from '@iscsi-ts/negotiation'
import { Opcode, type LoginRequestPdu, type TargetPdu } from '@iscsi-ts/pdu'
import type { IscsiConnection } from './connection.js'
import { ConnectionError, InitiatorErrorCode, LoginError, ProtocolError, TimeoutError } from './errors.js'

export interface LoginRequestContext {
  /** The engine's options: names, session type, CHAP, operational preferences. */
  negotiation: InitiatorLoginOptions
  isid: Buffer
  /** 0 for a new session (or reinstatement), the session's TSIH when adding a connection. */
  tsih: number
  cid: number
  /** The session's CmdSN: Login Requests carry it without advancing it (RFC 7143 11.12.8). */
  cmdSN: number
  itt: number
  /** The login's time budget (reported in the TimeoutError). */
  timeoutMs: number
  /** When the budget ends (Date.now() based); default now + timeoutMs. The TCP connect may have used some. */
  deadline?: number
}

export type LoginOutcome =
  | {
      kind: 'done'
      parameters: NegotiatedParameters
      tsih: number
      /** StatSN of the final Login Response: full feature phase expects StatSN + 1 next. */
      statSN: number
      expCmdSN: number
      maxCmdSN: number
    }
  | { kind: 'redirect'; permanent: boolean; address: TargetAddress; targetAddress: string }

/** Maps a negotiation failure to the initiator's LoginError, keeping the target's status when it sent one. */
export function loginErrorFrom(error: unknown): Error {
  if (error instanceof LoginError || error instanceof TimeoutError || error instanceof ConnectionError) return error
  if (error instanceof NegotiationError) {
    const { statusClass, statusDetail } = error.loginStatus
    const rejected = error.code === 'ISCSI_ERR_NEG_LOGIN_REJECTED'
    const localAuth =
      error.code === 'ISCSI_ERR_NEG_CHAP_RESPONSE' || error.code === 'ISCSI_ERR_NEG_CHAP_REFLECTION' || error.code === 'ISCSI_ERR_NEG_AUTH_FAILED'
    const code = rejected ? undefined : localAuth ? InitiatorErrorCode.LoginAuth : InitiatorErrorCode.Negotiation
    return new LoginError(statusClass, statusDetail, `login failed: ${error.message}`, { cause: error, ...(code ? { code } : {}) })
  }
  return error instanceof Error ? error : new Error(String(error))
}

/** A queue of PDUs received on a connection nobody else handles yet (login, discovery), with deadlines. */
export class PduInbox {
  readonly #pdus: TargetPdu[] = []
  #waiter: { resolve: (pdu: TargetPdu) => void; reject: (error: Error) => void } | undefined
  #error: Error | undefined

  push(pdu: TargetPdu): void {
    if (this.#waiter) {
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.resolve(pdu)
    } else {
      this.#pdus.push(pdu)
    }
  }

  fail(error: Error): void {
    this.#error ??= error
    if (this.#waiter) {
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.reject(error)
    }
  }

  /** Makes the inbox the connection's handler. */
  static attach(connection: IscsiConnection, what: string): PduInbox {
    const inbox = new PduInbox()
    connection.setHandlers(
      (pdu) => inbox.push(pdu),
      (error) => inbox.fail(error ?? new ConnectionError(`connection to ${connection.address} closed during ${what}`)),
    )
    return inbox
  }

  next(deadline: number, timeoutMs: number, operation = 'login', detail = 'no Login Response'): Promise<TargetPdu> {
    const queued = this.#pdus.shift()
    if (queued) return Promise.resolve(queued)
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        reject(new TimeoutError(operation, timeoutMs, detail))
      }, Math.max(0, deadline - Date.now()))
      this.#waiter = {
        resolve: (pdu) => {
          clearTimeout(timer)
          resolve(pdu)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
    })
  }
}

/**
 * Runs a whole login on a fresh connection. On success the connection is in full feature phase with its ExpStatSN
 * and MaxSendDataSegmentLength set and digests switched on as negotiated; the caller installs its own handlers.
 * Throws LoginError (status from the target, or a local negotiation failure), TimeoutError or ConnectionError.
 */
export async function performLogin(connection: IscsiConnection, context: LoginRequestContext): Promise<LoginOutcome> {
  const inbox = PduInbox.attach(connection, 'login')
  const deadline = context.deadline ?? Date.now() + context.timeoutMs
  const engine = new InitiatorLoginNegotiation(context.negotiation)
  let expStatSN = 0
  let tsih = context.tsih
  try {
    let request = engine.start()
    for (;;) {
      const pdu: LoginRequestPdu = {
        opcode: Opcode.LoginRequest,
        transit: request.transit,
        continue: request.continue,
        csg: request.csg,
        nsg: request.nsg,
        versionMax: 0,
        versionMin: 0,
        isid: context.isid,
        tsih,
        itt: context.itt,
        cid: context.cid,
        cmdSN: context.cmdSN,
        expStatSN,
        data: request.data,
      }
      if (!connection.send(pdu)) throw connection.closeError ?? new ConnectionError(`connection to ${connection.address} closed during login`)
      const response = await inbox.next(deadline, context.timeoutMs)
      if (response.opcode !== Opcode.LoginResponse) {
        throw new ProtocolError(`expected a Login Response, got opcode 0x${response.opcode.toString(16)}`)
      }
      if (response.itt !== context.itt) throw new ProtocolError(`Login Response for ITT ${response.itt}, expected ${context.itt}`)
      expStatSN = (response.statSN + 1) >>> 0
      if (response.tsih !== 0) tsih = response.tsih
      // Failure and redirection statuses end the login; the engine turns them into a step or a thrown error.
      const step = engine.receive({
        transit: response.transit,
        continue: response.continue,
        csg: response.csg,
        nsg: response.nsg,
        data: response.data,
        statusClass: response.statusClass,
        statusDetail: response.statusDetail,
        tsih: response.tsih,
      })
      if (step.kind === 'request') {
        request = step.request
        continue
      }
      if (step.kind === 'redirect') {
        return { kind: 'redirect', permanent: step.permanent, address: step.address, targetAddress: step.targetAddress }
      }
      if (response.statusClass !== 0) throw new LoginError(response.statusClass, response.statusDetail)
      const parameters = step.parameters
      connection.expStatSN = expStatSN
      connection.maxSendDataSegmentLength = parameters.connection.maxSendDataSegmentLength
      connection.setMaxRecvDataSegmentLength(parameters.connection.maxRecvDataSegmentLength)
      connection.setDigests(parameters.connection.headerDigest === 'CRC32C', parameters.connection.dataDigest === 'CRC32C')
      return {
        kind: 'done',
        parameters,
        tsih: step.tsih ?? tsih,
        statSN: response.statSN,
        expCmdSN: response.expCmdSN,
        maxCmdSN: response.maxCmdSN,
      }
    }
  } catch (error) {
    throw loginErrorFrom(error)
  }
}
