// SendTargets discovery (RFC 7143 appendix C): a Discovery session on one portal, one Text Request
// `SendTargets=All` (answered over several Text Responses with C=1 / F=0 when long, RFC 7143 11.10.2), then logout.
import { InitiatorTextNegotiation, parseSendTargetsAnswer, type ChapAlgorithmName } from '@iscsi-ts/negotiation'
import { LogoutReason, Opcode, type TextResponsePdu } from '@iscsi-ts/pdu'
import { IscsiConnection } from './connection.js'
import { InitiatorError, InitiatorErrorCode, LoginError, ProtocolError } from './errors.js'
import { PduInbox, performLogin } from './login.js'
import { serialAdd } from './serial.js'
import { chapFallbackApplies } from './chap-fallback.js'
import { DEFAULTS, defaultInitiatorName, randomIsid, type ChapCredentials } from './session-options.js'
import { channels } from './diagnostics.js'

export interface DiscoveredTarget {
  name: string
  addresses: Array<{ host: string; port: number; tpgt: number }>
}

export interface DiscoverOptions {
  initiatorName?: string
  chap?: ChapCredentials
  mutualChap?: ChapCredentials
  chapAlgorithms?: ChapAlgorithmName[]
  /** Whole discovery (connect, login, SendTargets, logout) must finish within this (default 15 s). */
  timeoutMs?: number
  /** Redirections followed at most (default 5). */
  maxRedirects?: number
}

const chapAlgorithmNumbers = { MD5: 5, SHA1: 6, 'SHA-256': 7, 'SHA3-256': 8 } as const

/**
 * Lists the targets a portal offers. Addresses the target reports without a port get 3260; a target with no
 * TargetAddress at all is reachable through the portal asked (RFC 7143 appendix C.2), which is reported then.
 */
export async function discover(portal: { host: string; port?: number }, options: DiscoverOptions = {}): Promise<DiscoveredTarget[]> {
  if (typeof portal?.host !== 'string' || portal.host === '') throw new InitiatorError(InitiatorErrorCode.InvalidArgument, 'portal.host is required')
  const timeoutMs = options.timeoutMs ?? DEFAULTS.loginTimeoutMs
  const deadline = Date.now() + timeoutMs
  const initiatorName = options.initiatorName ?? defaultInitiatorName()
  const isid = randomIsid()
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects
  let address = { host: portal.host, port: portal.port ?? DEFAULTS.port }
  const cmdSN = 1
  let md5Only = false

  for (let hop = 0; ; hop++) {
    const remaining = (): number => Math.max(1, deadline - Date.now())
    const connection = await IscsiConnection.connect({
      host: address.host,
      port: address.port,
      timeoutMs: remaining(),
      maxRecvDataSegmentLength: DEFAULTS.maxRecvDataSegmentLength,
    })
    try {
      const chap = options.chap
        ? {
            user: options.chap.user,
            secret: options.chap.secret,
            ...(options.mutualChap ? { mutual: { user: options.mutualChap.user, secret: options.mutualChap.secret } } : {}),
            ...(md5Only
              ? { algorithms: [chapAlgorithmNumbers.MD5] }
              : options.chapAlgorithms
                ? { algorithms: options.chapAlgorithms.map((name) => chapAlgorithmNumbers[name]) }
                : {}),
          }
        : undefined
      let outcome
      try {
        outcome = await performLogin(connection, {
          negotiation: {
            initiatorName,
            sessionType: 'Discovery',
            isid,
            tsih: 0,
            ...(chap ? { auth: { methods: ['CHAP'], chap } } : {}),
            operational: { maxRecvDataSegmentLength: DEFAULTS.maxRecvDataSegmentLength, headerDigest: ['None'], dataDigest: ['None'] },
          },
          isid,
          tsih: 0,
          cid: 0,
          cmdSN,
          itt: 0,
          timeoutMs,
          deadline,
        })
      } catch (error) {
        if (!chapFallbackApplies(error, options.chap !== undefined, md5Only, options.chapAlgorithms)) throw error
        // See chapFallbackApplies: once more, offering MD5 only.
        md5Only = true
        hop--
        continue
      }
      if (outcome.kind === 'redirect') {
        if (hop >= maxRedirects) throw new LoginError(1, outcome.permanent ? 2 : 1, `discovery redirected more than ${maxRedirects} times`)
        address = { host: outcome.address.host, port: outcome.address.port }
        continue
      }
      if (channels.login.hasSubscribers) {
        channels.login.publish({ event: 'success', address: connection.address, targetName: undefined, initiatorName, sessionType: 'Discovery', isid: isid.toString('hex'), tsih: outcome.tsih })
      }
      const inbox = PduInbox.attach(connection, 'discovery')
      // Text Requests are non-immediate here and each takes a CmdSN (RFC 7143 11.10); the first reuses the login's.
      let nextCmdSN = cmdSN
      let itt = 1
      const engine = new InitiatorTextNegotiation({ connection: outcome.parameters.connection })
      let request = engine.sendTargets('All')
      let pairs
      for (let round = 0; ; round++) {
        if (round > 4096) throw new ProtocolError('SendTargets answer did not end')
        connection.send({
          opcode: Opcode.TextRequest,
          immediate: false,
          final: request.final,
          continue: request.continue,
          lun: 0n,
          itt,
          ttt: request.targetTransferTag,
          cmdSN: nextCmdSN,
          expStatSN: connection.expStatSN,
          data: request.data,
        })
        nextCmdSN = serialAdd(nextCmdSN, 1)
        const pdu = await inbox.next(deadline, timeoutMs, 'discovery', 'no Text Response')
        if (pdu.opcode === Opcode.Reject) throw new ProtocolError(`the target rejected SendTargets (reason 0x${pdu.reason.toString(16)})`)
        if (pdu.opcode !== Opcode.TextResponse) throw new ProtocolError(`expected a Text Response, got opcode 0x${pdu.opcode.toString(16)}`)
        const response: TextResponsePdu = pdu
        if (response.itt !== itt) throw new ProtocolError(`Text Response for ITT ${response.itt}, expected ${itt}`)
        connection.expStatSN = serialAdd(response.statSN, 1)
        const step = engine.receive({ final: response.final, continue: response.continue, targetTransferTag: response.ttt, data: response.data })
        if (step.kind === 'done') {
          pairs = step.pairs
          break
        }
        request = step.request
      }
      const targets = parseSendTargetsAnswer(pairs).map((t) => ({
        name: t.name,
        addresses: t.addresses.length > 0 ? t.addresses.map((a) => ({ host: a.host, port: a.port, tpgt: a.tpgt })) : [{ host: address.host, port: address.port, tpgt: outcome.parameters.session.targetPortalGroupTag ?? 1 }],
      }))
      // Orderly logout; a target that does not answer does not make discovery fail.
      itt++
      connection.send({
        opcode: Opcode.LogoutRequest,
        immediate: true,
        reasonCode: LogoutReason.CloseSession,
        itt,
        cid: 0,
        cmdSN: nextCmdSN,
        expStatSN: connection.expStatSN,
        data: Buffer.alloc(0),
      })
      try {
        await inbox.next(Math.min(deadline, Date.now() + 2000), 2000, 'logout', 'no Logout Response')
      } catch {
        // ignore: the session ends with the connection anyway
      }
      return targets
    } finally {
      connection.destroy()
    }
  }
}
