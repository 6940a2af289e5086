// The login phase of one connection (RFC 7143 6.3, 11.12, 11.13): version check, the session to join or create
// (TSIH), limits (sessions, connections per session and per initiator address), the negotiation itself through
// @iscsi-ts/negotiation, and at the end session reinstatement (same InitiatorName + ISID + TargetName, TSIH 0) or
// connection reinstatement (same CID in the session). A failure is one Login Response with the status, after which
// the connection is closed.
import { ISCSI_VERSION, LoginStatus } from '@iscsi-ts/pdu'
import type { LoginRequestPdu, LoginResponsePdu } from '@iscsi-ts/pdu'
import { NegotiationError, NegotiationErrorCode, TargetLoginNegotiation } from '@iscsi-ts/negotiation'
import type { LoginContext, NegotiatedParameters, TargetLoginPolicy, TargetLoginStep } from '@iscsi-ts/negotiation'
import { publishLogin } from './channels.js'
import type { ResolvedLimits } from './config.js'
import { normalizeName } from './config.js'
import { LoginError } from './errors.js'
import { isidHex } from './nexus.js'
import { snAdd } from './serial.js'
import type { Connection } from './connection.js'
import type { Session, SessionInit } from './session.js'
import type { TargetNode } from './target-node.js'

/** What the login needs from the target. */
export interface LoginHost {
  readonly limits: ResolvedLimits
  readonly closing: boolean
  readonly sessionCount: number
  loginPolicy(connection: Connection, observe: (context: LoginContext) => void): TargetLoginPolicy
  sessionByTsih(tsih: number): Session<Connection> | undefined
  findSession(initiatorName: string, isid: string, targetName: string | undefined): Session<Connection> | undefined
  openSession(init: Omit<SessionInit, 'host' | 'tsih'>): Session<Connection> | undefined
  connectionsFrom(address: string): number
  /** The initiator's CHAP response from the address did not verify (a guess): counts toward its lock-out. */
  authenticationFailed(address: string): void
  nodeOf(name: string): TargetNode | undefined
}

interface Identity {
  readonly isid: Buffer
  readonly tsih: number
  readonly cid: number
  readonly cmdSN: number
}

const EMPTY = Buffer.alloc(0)

export class LoginProcess {
  readonly #connection: Connection
  readonly #host: LoginHost
  #identity: Identity | undefined
  /** The last Login Request: a refusal of a non-login PDU answers it (RFC 7143 6.3). */
  #last: LoginRequestPdu | undefined
  #negotiation: TargetLoginNegotiation | undefined
  #existing: Session<Connection> | undefined
  #context: LoginContext | undefined
  #done = false

  constructor(connection: Connection, host: LoginHost) {
    this.#connection = connection
    this.#host = host
  }

  get done(): boolean {
    return this.#done
  }

  /** Names seen so far (for events on a failed or timed-out login). */
  get context(): { initiatorName: string; targetName: string; isid: string; tsih: number } {
    return {
      initiatorName: this.#context?.initiatorName ?? '',
      targetName: this.#context?.targetName ?? '',
      isid: this.#identity === undefined ? '' : isidHex(this.#identity.isid),
      tsih: this.#identity?.tsih ?? 0,
    }
  }

  /** The Login Phase has started: a Login Request was received (RFC 7143 6.3). */
  get started(): boolean {
    return this.#last !== undefined
  }

  receive(pdu: LoginRequestPdu): void {
    if (this.#done) return
    this.#last = pdu
    try {
      this.#receive(pdu)
    } catch (error) {
      const failure =
        error instanceof LoginError
          ? error
          : error instanceof NegotiationError
            ? new LoginError(error.loginStatus, error.message, { cause: error })
            : new LoginError(LoginStatus.TargetError, error instanceof Error ? error.message : String(error), { cause: error })
      this.#fail(pdu, failure)
    }
  }

  #receive(pdu: LoginRequestPdu): void {
    const connection = this.#connection
    const host = this.#host
    let identity = this.#identity
    if (identity === undefined) {
      identity = { isid: Buffer.from(pdu.isid), tsih: pdu.tsih, cid: pdu.cid, cmdSN: pdu.cmdSN }
      this.#identity = identity
      connection.startStatSN(pdu.expStatSN)
      // RFC 7143 11.12.4: version 0x00 is the only one; a range above it cannot be served.
      if (pdu.versionMin > ISCSI_VERSION) {
        throw new LoginError(LoginStatus.UnsupportedVersion, `version range ${pdu.versionMin}..${pdu.versionMax} excludes 0`)
      }
      if (host.closing) throw new LoginError(LoginStatus.ServiceUnavailable, 'the target is shutting down')
      if (host.connectionsFrom(connection.remoteAddress) > host.limits.maxConnectionsPerInitiatorAddress) {
        throw new LoginError(LoginStatus.OutOfResources, `too many connections from ${connection.remoteAddress}`)
      }
      const observe = (context: LoginContext): void => {
        this.#context = context
      }
      if (pdu.tsih !== 0) {
        const session = host.sessionByTsih(pdu.tsih)
        if (session === undefined || session.closed || !session.isid.equals(identity.isid)) {
          throw new LoginError(LoginStatus.SessionDoesNotExist, `no session with TSIH ${pdu.tsih} and this ISID`)
        }
        if (!session.connections.has(pdu.cid) && session.connections.size >= session.parameters.maxConnections) {
          throw new LoginError(LoginStatus.TooManyConnections, `session ${pdu.tsih} already has MaxConnections=${session.parameters.maxConnections}`)
        }
        this.#existing = session
        this.#negotiation = new TargetLoginNegotiation(host.loginPolicy(connection, observe), { session: session.parameters })
      } else {
        this.#negotiation = new TargetLoginNegotiation(host.loginPolicy(connection, observe))
      }
    } else if (!pdu.isid.equals(identity.isid) || pdu.tsih !== identity.tsih || pdu.cid !== identity.cid) {
      // RFC 7143 11.12: ISID, TSIH and CID stay the same for the whole login.
      throw new LoginError(LoginStatus.InitiatorError, 'ISID, TSIH or CID changed during the login')
    }
    const negotiation = this.#negotiation
    if (negotiation === undefined) throw new LoginError(LoginStatus.TargetError, 'login negotiation missing')
    const step = negotiation.receive({
      transit: pdu.transit,
      continue: pdu.continue,
      csg: pdu.csg,
      nsg: pdu.nsg,
      data: pdu.data,
      isid: pdu.isid,
      tsih: pdu.tsih,
    })
    if (step.error !== undefined || step.statusClass !== 0) {
      const error = step.error
      throw new LoginError(
        { statusClass: step.statusClass, statusDetail: step.statusDetail },
        error?.message ?? `login refused with status 0x${((step.statusClass << 8) | step.statusDetail).toString(16).padStart(4, '0')}`,
        error === undefined ? undefined : { cause: error },
      )
    }
    if (!step.done) {
      this.#respond(pdu, step, identity.tsih, this.#sequence(identity))
      return
    }
    const parameters = step.parameters
    if (parameters === undefined) throw new LoginError(LoginStatus.TargetError, 'login finished without parameters')
    this.#finish(pdu, step, identity, parameters)
  }

  /** ExpCmdSN/MaxCmdSN for login responses: the session's when joining one, else from the login's CmdSN. */
  #sequence(identity: Identity): { expCmdSN: number; maxCmdSN: number } {
    const session = this.#existing
    if (session !== undefined) return { expCmdSN: session.window.expCmdSN, maxCmdSN: session.window.maxCmdSN }
    return { expCmdSN: identity.cmdSN, maxCmdSN: snAdd(identity.cmdSN, this.#host.limits.queueDepth - 1) }
  }

  #finish(pdu: LoginRequestPdu, step: TargetLoginStep, identity: Identity, parameters: NegotiatedParameters): void {
    const host = this.#host
    const connection = this.#connection
    const sp = parameters.session
    const type = sp.sessionType
    const initiatorName = sp.initiatorName
    const targetName = type === 'Normal' ? sp.targetName : undefined
    let session = this.#existing
    if (session !== undefined) {
      if (
        session.closed ||
        normalizeName(session.initiatorName) !== normalizeName(initiatorName) ||
        session.type !== type ||
        (targetName !== undefined && normalizeName(session.targetName ?? '') !== normalizeName(targetName))
      ) {
        throw new LoginError(LoginStatus.SessionDoesNotExist, 'the session named by TSIH belongs to another initiator or target')
      }
      const old = session.connections.get(identity.cid)
      if (old !== undefined) {
        // Connection reinstatement (RFC 7143 6.3.4): the old connection's tasks are terminated, the session stays.
        session.removeConnection(old, { failed: false, reason: 'connection reinstatement', replaced: true })
        old.closeClean('connection reinstatement')
      } else if (session.connections.size >= session.parameters.maxConnections) {
        throw new LoginError(LoginStatus.TooManyConnections, `session already has MaxConnections=${session.parameters.maxConnections}`)
      }
    } else {
      let node: TargetNode | undefined
      if (type === 'Normal') {
        node = targetName === undefined ? undefined : host.nodeOf(targetName)
        if (node === undefined || !node.reachableThrough(connection.portalGroupTag)) {
          throw new LoginError(LoginStatus.NotFound, `target ${targetName ?? '(none)'} is not served here`)
        }
      }
      // Session reinstatement (RFC 7143 6.3.5): the old session of this I_T nexus ends, its tasks terminated.
      const old = host.findSession(initiatorName, isidHex(identity.isid), targetName)
      if (old !== undefined) old.close('session reinstatement')
      if (host.sessionCount >= host.limits.maxSessions) {
        throw new LoginError(LoginStatus.OutOfResources, `maxSessions (${host.limits.maxSessions}) reached`)
      }
      const access = node?.access(initiatorName)
      if (access !== undefined && !access.allowed) throw new LoginError(LoginStatus.AuthorizationFailure, 'initiator not in the ACL')
      session = host.openSession({
        isid: identity.isid,
        initiatorName,
        targetName,
        type,
        node,
        portalGroupTag: connection.portalGroupTag,
        parameters: sp,
        initialCmdSN: identity.cmdSN,
        lunMap: access?.lunMap,
      })
      if (session === undefined) throw new LoginError(LoginStatus.OutOfResources, 'no TSIH available')
    }
    this.#done = true
    connection.cid = identity.cid
    session.addConnection(connection)
    this.#respond(pdu, step, session.tsih, { expCmdSN: session.window.expCmdSN, maxCmdSN: session.window.maxCmdSN })
    connection.enterFullFeature(session, identity.cid, parameters)
    publishLogin({
      event: 'success',
      initiatorName,
      targetName: targetName ?? '',
      isid: session.isidHex,
      tsih: session.tsih,
      type,
      remote: connection.remote,
    })
  }

  #respond(pdu: LoginRequestPdu, step: TargetLoginStep, tsih: number, seq: { expCmdSN: number; maxCmdSN: number }): void {
    const response: LoginResponsePdu = {
      opcode: 0x23,
      transit: step.transit,
      continue: step.continue,
      csg: step.csg,
      nsg: step.nsg,
      versionMax: ISCSI_VERSION,
      versionActive: ISCSI_VERSION,
      isid: pdu.isid,
      tsih,
      itt: pdu.itt,
      statSN: this.#connection.takeStatSN(),
      expCmdSN: seq.expCmdSN,
      maxCmdSN: seq.maxCmdSN,
      statusClass: step.statusClass,
      statusDetail: step.statusDetail,
      data: step.data,
    }
    this.#connection.send(response)
  }

  /**
   * A PDU other than a Login Request once the Login Phase has started: "Login reject (with Status 'invalid during
   * login') and then disconnect" (RFC 7143 6.3). The reject answers the last Login Request (its ITT, ISID, stage).
   */
  refuseNonLogin(opcode: number): void {
    const last = this.#last
    if (this.#done || last === undefined) return
    const hex = opcode.toString(16).padStart(2, '0')
    this.#fail(last, new LoginError(LoginStatus.InvalidDuringLogin, `opcode 0x${hex} during the login phase`))
  }

  /** One Login Response with the failure status, then the connection closes (RFC 7143 11.13.5). */
  #fail(pdu: LoginRequestPdu, error: LoginError): void {
    this.#done = true
    const identity = this.#identity
    const seq = identity === undefined ? { expCmdSN: pdu.cmdSN, maxCmdSN: pdu.cmdSN } : this.#sequence(identity)
    const response: LoginResponsePdu = {
      opcode: 0x23,
      transit: false,
      continue: false,
      csg: pdu.csg,
      nsg: 0,
      versionMax: ISCSI_VERSION,
      versionActive: ISCSI_VERSION,
      isid: pdu.isid,
      tsih: pdu.tsih,
      itt: pdu.itt,
      statSN: this.#connection.takeStatSN(),
      expCmdSN: seq.expCmdSN,
      maxCmdSN: seq.maxCmdSN,
      statusClass: error.statusClass,
      statusDetail: error.statusDetail,
      data: EMPTY,
    }
    this.#connection.send(response)
    // Only a CHAP response that failed to verify is a guess at a secret (login-throttle.ts); a login without the
    // method the target requires, or a malformed exchange, reveals nothing.
    if (error.cause instanceof NegotiationError && error.cause.code === NegotiationErrorCode.ChapResponse) {
      this.#host.authenticationFailed(this.#connection.remoteAddress)
    }
    const context = this.context
    publishLogin({
      event: 'failure',
      initiatorName: context.initiatorName,
      targetName: context.targetName,
      isid: context.isid,
      tsih: context.tsih,
      // Discovery shows as an empty target name once the text was read; before that the type is not known.
      type: this.#context?.targetName === '' ? 'Discovery' : 'Normal',
      remote: this.#connection.remote,
      statusClass: error.statusClass,
      statusDetail: error.statusDetail,
      reason: error.message,
    })
    this.#connection.close(`login failed: ${error.message}`, true)
  }
}
