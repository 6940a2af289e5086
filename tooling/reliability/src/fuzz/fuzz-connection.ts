// One fuzz connection: a scenario (full feature phase traffic after a real login, a mutated blind login, raw junk, a
// stalled header), its PDUs sent in random splits, R2Ts answered from the pending writes, the target's output checked,
// and a deadline: after we half-close, the target must close the connection too (or answer a probe) in time.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { Opcode, RESERVED_TAG, encodePdu } from '@iscsi-ts/pdu'
import type { DigestOptions, Pdu } from '@iscsi-ts/pdu'
import type { OperationalPreferences } from '@iscsi-ts/negotiation'
import { RawConnection } from '@iscsi-ts/target/testing'
import type { Random } from '../random.js'
import { chunk, mutateSequence } from './mutator.js'
import type { MutationKind, MutationRates } from './mutator.js'
import { OutputChecker } from './output-checker.js'
import type { OutputProblem } from './output-checker.js'
import { ffpSequence, loginSequence, solicitedData } from './seeds.js'
import type { FfpContext, LoginFlavour, PendingWrite } from './seeds.js'

export type Scenario = 'ffp' | 'mcs' | 'login' | 'junk' | 'stall'

export interface FuzzTargetInfo {
  readonly host: string
  readonly port: number
  readonly targetName: string
  readonly chapTargetName: string
  readonly blocks: number
  readonly blockSize: number
}

export type Outcome =
  /** The target closed the connection before we half-closed it. */
  | 'closed-by-target'
  /** It answered the final probe (NOP-Out) and closed after our FIN. */
  | 'answered'
  /** It closed after our FIN. */
  | 'closed-after-fin'
  /** We reset the connection (no deadline to check). */
  | 'reset'
  /** The login we did to reach full feature phase was refused (counted, not an error). */
  | 'login-refused'

export interface ConnectionResult {
  readonly scenario: Scenario
  readonly outcome: Outcome | undefined
  readonly pdus: number
  readonly mutations: Partial<Record<MutationKind, number>>
  /** Problems: a hang (no close by the deadline), bad output, connect failures. */
  readonly errors: Array<{ kind: string; message: string }>
}

export interface ConnectionOptions {
  readonly random: Random
  readonly target: FuzzTargetInfo
  readonly scenario: Scenario
  /** How many PDUs (roughly) this connection should send. */
  readonly pdus: number
  readonly deadlineMs: number
  readonly rates?: MutationRates
}

const INITIATOR = 'iqn.2026-11.io.iscsi-ts:fuzzer'

function randomIsid(random: Random): Buffer {
  const isid = random.bytes(6)
  isid[0] = 0x80 | (isid[0]! & 0x3f)
  return isid
}

function write(socket: Socket, chunks: readonly Buffer[]): void {
  if (socket.destroyed || !socket.writable) return
  for (const part of chunks) socket.write(part)
}

/** Resolves true when the socket closed within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed && socket.readyState === 'closed') return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('close', onClose)
      resolve(false)
    }, ms)
    const onClose = (): void => {
      clearTimeout(timer)
      resolve(true)
    }
    socket.once('close', onClose)
  })
}

function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connect to ${host}:${port} timed out`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

class Run {
  readonly errors: Array<{ kind: string; message: string }> = []
  readonly mutations: Partial<Record<MutationKind, number>> = {}
  pdus = 0
  /** For the single-socket scenarios. */
  closedByTarget = false

  addMutations(m: Partial<Record<MutationKind, number>>): void {
    for (const [kind, n] of Object.entries(m) as Array<[MutationKind, number]>) this.mutations[kind] = (this.mutations[kind] ?? 0) + n
  }

  addProblems(problems: readonly OutputProblem[]): void {
    for (const p of problems) this.errors.push({ kind: p.kind, message: p.message })
  }

  /** Half-close, then the target must close within the deadline. */
  async finish(socket: Socket, deadlineMs: number, answered: boolean): Promise<Outcome> {
    if (this.closedByTarget) return 'closed-by-target'
    socket.end()
    if (await closedWithin(socket, deadlineMs)) return answered ? 'answered' : 'closed-after-fin'
    this.errors.push({ kind: 'hang', message: `connection still open ${deadlineMs} ms after our FIN` })
    socket.destroy()
    return 'closed-after-fin'
  }
}

/**
 * A Text Request may declare a new MaxRecvDataSegmentLength (RFC 7143 13.12, renegotiable in full feature phase): the
 * target may then send segments up to the largest value we declared.
 */
function widenForRenegotiation(checker: OutputChecker, units: readonly Buffer[]): void {
  for (const unit of units) {
    for (const match of unit.toString('latin1').matchAll(/MaxRecvDataSegmentLength=(0x[0-9a-f]+|\d+)/gi)) {
      const value = Number(match[1])
      if (Number.isFinite(value) && checker.maxSegment !== undefined) checker.maxSegment = Math.max(checker.maxSegment, value)
    }
  }
}

interface Preferences {
  readonly digests: DigestOptions
  /** Our MaxRecvDataSegmentLength. */
  readonly declared: number
  readonly operational: OperationalPreferences
}

function preferences(random: Random, maxConnections = 1): Preferences {
  const digests: DigestOptions = { headerDigest: random.chance(0.3), dataDigest: random.chance(0.2) }
  const declared = random.pick([512, 4096, 8192, 65536, 262144])
  return {
    digests,
    declared,
    operational: {
      headerDigest: [digests.headerDigest === true ? 'CRC32C' : 'None'],
      dataDigest: [digests.dataDigest === true ? 'CRC32C' : 'None'],
      maxRecvDataSegmentLength: declared,
      immediateData: random.chance(0.7),
      initialR2T: random.chance(0.3),
      maxBurstLength: random.pick([512, 4096, 65536, 262144, 16776192]),
      firstBurstLength: random.pick([512, 4096, 65536, 262144]),
      maxOutstandingR2T: random.pick([1, 2, 8]),
      maxConnections,
    },
  }
}

/**
 * A logged-in connection taken over from its RawConnection: from the login on, every byte the target sends goes
 * through an OutputChecker, R2Ts are answered from the pending writes, pings mostly answered.
 */
class Driven {
  readonly socket: Socket
  readonly checker: OutputChecker
  readonly pending = new Map<number, PendingWrite>()
  readonly cid: number
  readonly maxSendDataSegmentLength: number
  closedByTarget = false
  ending = false
  probeAnswered = false
  static readonly PROBE_ITT = 0x7fff_fff0

  constructor(raw: RawConnection, random: Random, run: Run, digests: DigestOptions, declared: number, ctx: FfpContext) {
    const socket = raw.socket
    this.socket = socket
    this.cid = raw.cid
    this.maxSendDataSegmentLength = raw.parameters?.connection.maxSendDataSegmentLength ?? 8192
    socket.removeAllListeners('data')
    const checker = new OutputChecker({
      digests,
      expectedStatSN: raw.expStatSN,
      maxSegment: declared,
      onR2T: (r2t) => {
        const pendingWrite = this.pending.get(r2t.itt)
        if (pendingWrite === undefined) return
        const data = solicitedData(pendingWrite, r2t, this.maxSendDataSegmentLength, checker.expStatSN)
        const stream = mutateSequence(random, data, digests, { mutate: 0.1, semantic: 0.7 })
        run.addMutations(stream.mutations)
        run.pdus += stream.units.length
        write(socket, stream.units)
      },
      onPdu: (pdu: Pdu) => {
        ctx.expStatSN = checker.expStatSN
        if (pdu.opcode === Opcode.NopIn && pdu.itt === Driven.PROBE_ITT) this.probeAnswered = true
        if (pdu.opcode === Opcode.NopIn && pdu.itt === RESERVED_TAG && random.chance(0.8)) {
          // Answer the target's ping (RFC 7143 11.18: ITT reserved, its TTT), most of the time.
          write(socket, [encodePdu({ opcode: Opcode.NopOut, immediate: true, lun: pdu.lun, itt: RESERVED_TAG, ttt: pdu.ttt, cmdSN: ctx.cmdSN, expStatSN: checker.expStatSN, data: Buffer.alloc(0) }, digests)])
        }
      },
    })
    this.checker = checker
    socket.on('data', (bytes: Buffer) => checker.push(bytes))
    socket.on('close', () => {
      if (!this.ending) this.closedByTarget = true
    })
  }

  send(random: Random, run: Run, pdus: readonly Pdu[], writes: readonly PendingWrite[], digests: DigestOptions, rates: MutationRates): void {
    for (const w of writes) this.pending.set(w.itt, w)
    const stream = mutateSequence(random, pdus, digests, rates)
    run.addMutations(stream.mutations)
    run.pdus += stream.units.length
    widenForRenegotiation(this.checker, stream.units)
    write(this.socket, chunk(random, stream.units))
  }

  /** Probe with an immediate NOP-Out (a target whose stream is still in step answers it), then FIN and deadline. */
  async finish(random: Random, run: Run, ctx: FfpContext, digests: DigestOptions, deadlineMs: number): Promise<Outcome> {
    if (random.chance(0.1)) {
      this.ending = true
      this.socket.destroy()
      run.addProblems(this.checker.problems)
      return 'reset'
    }
    if (!this.closedByTarget) {
      write(this.socket, [encodePdu({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: Driven.PROBE_ITT, ttt: RESERVED_TAG, cmdSN: ctx.cmdSN, expStatSN: this.checker.expStatSN, data: Buffer.alloc(0) }, digests)])
      run.pdus++
      const until = Date.now() + Math.min(500, deadlineMs)
      while (!this.probeAnswered && !this.closedByTarget && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    let outcome: Outcome
    if (this.closedByTarget) {
      outcome = 'closed-by-target'
    } else {
      this.ending = true
      this.socket.end()
      if (await closedWithin(this.socket, deadlineMs)) {
        outcome = this.probeAnswered ? 'answered' : 'closed-after-fin'
      } else {
        run.errors.push({ kind: 'hang', message: `connection (CID ${this.cid}) still open ${deadlineMs} ms after our FIN` })
        this.socket.destroy()
        outcome = 'closed-after-fin'
      }
    }
    run.addProblems(this.checker.problems)
    return outcome
  }
}

function contextOf(raw: RawConnection, random: Random, target: FuzzTargetInfo): FfpContext {
  const parameters = raw.parameters
  if (parameters === undefined) throw new Error('login finished without parameters')
  return {
    cmdSN: raw.cmdSN,
    expStatSN: raw.expStatSN,
    itt: random.int(0x100, 0x7fff_0000),
    cid: raw.cid,
    immediateData: parameters.session.immediateData,
    initialR2T: parameters.session.initialR2T,
    firstBurstLength: parameters.session.firstBurstLength,
    maxBurstLength: parameters.session.maxBurstLength,
    maxSendDataSegmentLength: parameters.connection.maxSendDataSegmentLength,
    blockSize: target.blockSize,
    blocks: target.blocks,
  }
}

/** Log in; a refusal or a close during login is an outcome, anything else (a timeout) an error. */
async function loginRaw(target: FuzzTargetInfo, deadlineMs: number, options: Parameters<RawConnection['login']>[0]): Promise<RawConnection | 'login-refused'> {
  const raw = await RawConnection.connect({ host: target.host, port: target.port, timeoutMs: deadlineMs })
  try {
    await raw.login(options)
    return raw
  } catch (error) {
    raw.destroy()
    const message = error instanceof Error ? error.message : String(error)
    if (/login refused|closed/.test(message)) return 'login-refused'
    throw error
  }
}

function randomRates(random: Random): MutationRates {
  // Few mutations let a connection go deep into the session; many test the framing and first checks.
  return { mutate: random.pick([0.005, 0.02, 0.05, 0.15, 0.35]), semantic: random.pick([0.5, 0.8, 0.95]) }
}

/** Full feature phase: a real login with random operational parameters, then mutated traffic. */
async function ffp(options: ConnectionOptions, run: Run): Promise<Outcome | undefined> {
  const { random, target } = options
  const prefs = preferences(random)
  const raw = await loginRaw(target, options.deadlineMs, { targetName: target.targetName, initiatorName: INITIATOR, isid: randomIsid(random), operational: prefs.operational })
  if (raw === 'login-refused') return raw
  const ctx = contextOf(raw, random, target)
  const driven = new Driven(raw, random, run, prefs.digests, prefs.declared, ctx)
  const rates = options.rates ?? randomRates(random)
  const rounds = random.int(1, 3)
  const perRound = Math.max(1, Math.ceil(options.pdus / rounds))
  for (let round = 0; round < rounds && !driven.closedByTarget; round++) {
    const sequence = ffpSequence(random, ctx, Math.max(1, Math.round(perRound * 0.6)))
    driven.send(random, run, sequence.pdus, sequence.writes, prefs.digests, rates)
    await new Promise((resolve) => setTimeout(resolve, random.int(0, 20)))
  }
  return driven.finish(random, run, ctx, prefs.digests, options.deadlineMs)
}

/**
 * Several connections in one session (MC/S, RFC 7143 4.4): they share the CmdSN space, a command and its Data-Out
 * stay on one connection (allegiance), and meanwhile connections are reinstated (same CID), logged out from another
 * connection, or the whole session is reinstated (same ISID, TSIH 0).
 */
async function mcs(options: ConnectionOptions, run: Run): Promise<Outcome | undefined> {
  const { random, target } = options
  const prefs = preferences(random, 4)
  const isid = randomIsid(random)
  const initiatorName = `${INITIATOR}-mcs`
  const base = { targetName: target.targetName, initiatorName, isid, operational: prefs.operational }
  const lead = await loginRaw(target, options.deadlineMs, base)
  if (lead === 'login-refused') return lead
  const ctx = contextOf(lead, random, target)
  const connections: Driven[] = [new Driven(lead, random, run, prefs.digests, prefs.declared, ctx)]
  const join = async (cid: number): Promise<void> => {
    const raw = await loginRaw(target, options.deadlineMs, { ...base, tsih: lead.tsih, cid })
    if (raw === 'login-refused') return
    connections.push(new Driven(raw, random, run, prefs.digests, prefs.declared, ctx))
  }
  for (let cid = 1, n = random.int(1, 3); cid <= n; cid++) await join(cid)
  const rates = options.rates ?? randomRates(random)
  const rounds = random.int(1, 3)
  const perRound = Math.max(1, Math.ceil(options.pdus / rounds))
  for (let round = 0; round < rounds; round++) {
    const live = connections.filter((c) => !c.closedByTarget)
    if (live.length === 0) break
    const sequence = ffpSequence(random, ctx, Math.max(1, Math.round(perRound * 0.6)))
    // Each command goes out on a random connection, its Data-Out and pending write with it.
    const share = new Map<Driven, Pdu[]>()
    const home = new Map<number, Driven>()
    for (const pdu of sequence.pdus) {
      let on: Driven
      if (pdu.opcode === Opcode.DataOut) on = home.get(pdu.itt) ?? random.pick(live)
      else on = random.pick(live)
      if (pdu.opcode === Opcode.ScsiCommand) home.set(pdu.itt, on)
      if (pdu.opcode === Opcode.LogoutRequest && random.chance(0.5)) (pdu as { cid: number }).cid = random.pick(connections).cid
      share.set(on, [...(share.get(on) ?? []), pdu])
    }
    for (const [on, pdus] of share) {
      const writes = sequence.writes.filter((w) => home.get(w.itt) === on)
      on.send(random, run, pdus, writes, prefs.digests, rates)
    }
    await new Promise((resolve) => setTimeout(resolve, random.int(0, 20)))
    const event = random.weighted<'none' | 'reinstate-connection' | 'add-connection' | 'reinstate-session'>([
      ['none', 6],
      ['reinstate-connection', 2],
      ['add-connection', 1],
      ['reinstate-session', 1],
    ])
    if (event === 'reinstate-connection') {
      // Connection reinstatement (RFC 7143 6.3.4): a new login with the CID of a live connection.
      const old = random.pick(connections)
      await join(old.cid)
    } else if (event === 'add-connection') {
      await join(random.int(4, 7))
    } else if (event === 'reinstate-session') {
      // Session reinstatement (RFC 7143 6.3.5): same initiator and ISID, TSIH 0: the old session and all its
      // connections end.
      const raw = await loginRaw(target, options.deadlineMs, base)
      if (raw !== 'login-refused') connections.push(new Driven(raw, random, run, prefs.digests, prefs.declared, contextOf(raw, random, target)))
    }
  }
  let outcome: Outcome | undefined
  for (const connection of connections) outcome = await connection.finish(random, run, ctx, prefs.digests, options.deadlineMs)
  return outcome
}

/** A mutated blind login exchange (normal, discovery, CHAP, C=1 continuation), then our FIN. */
async function login(options: ConnectionOptions, run: Run): Promise<Outcome> {
  const { random, target } = options
  const socket = await connectSocket(target.host, target.port, options.deadlineMs)
  socket.on('error', () => undefined)
  const checker = new OutputChecker()
  socket.on('data', (bytes: Buffer) => checker.push(bytes))
  let ending = false
  socket.on('close', () => {
    if (!ending) run.closedByTarget = true
  })
  const flavour = random.pick<LoginFlavour>(['operational-only', 'security-then-operational', 'discovery', 'chap', 'continued'])
  const pdus = loginSequence(random, { initiatorName: INITIATOR, targetName: target.targetName, chapTargetName: target.chapTargetName, isid: randomIsid(random) }, flavour)
  const stream = mutateSequence(random, pdus, {}, { mutate: 0.5, semantic: 0.7 })
  run.addMutations(stream.mutations)
  run.pdus += stream.units.length
  write(socket, chunk(random, stream.units))
  await new Promise((resolve) => setTimeout(resolve, random.int(0, 30)))
  ending = !run.closedByTarget
  const outcome = await run.finish(socket, options.deadlineMs, false)
  run.addProblems(checker.problems)
  return outcome
}

/** Random bytes from the first byte on. */
async function junk(options: ConnectionOptions, run: Run): Promise<Outcome> {
  const { random, target } = options
  const socket = await connectSocket(target.host, target.port, options.deadlineMs)
  socket.on('error', () => undefined)
  socket.on('data', () => undefined)
  let ending = false
  socket.on('close', () => {
    if (!ending) run.closedByTarget = true
  })
  const units = Array.from({ length: random.int(1, 8) }, () => random.bytes(random.pick([1, 47, 48, 100, 4096, random.int(1, 20000)])))
  run.pdus += units.length
  write(socket, units)
  await new Promise((resolve) => setTimeout(resolve, random.int(0, 10)))
  ending = !run.closedByTarget
  return run.finish(socket, options.deadlineMs, false)
}

/** Part of a Login Request header, then FIN: the target must not wait for the rest forever. */
async function stall(options: ConnectionOptions, run: Run): Promise<Outcome> {
  const { random, target } = options
  const socket = await connectSocket(target.host, target.port, options.deadlineMs)
  socket.on('error', () => undefined)
  socket.on('data', () => undefined)
  let ending = false
  socket.on('close', () => {
    if (!ending) run.closedByTarget = true
  })
  const pdus = loginSequence(random, { initiatorName: INITIATOR, targetName: target.targetName, chapTargetName: target.chapTargetName, isid: randomIsid(random) }, 'operational-only')
  const bytes = encodePdu(pdus[0]!)
  write(socket, [bytes.subarray(0, random.int(1, bytes.length - 1))])
  run.pdus++
  ending = !run.closedByTarget
  return run.finish(socket, options.deadlineMs, false)
}

export async function fuzzConnection(options: ConnectionOptions): Promise<ConnectionResult> {
  const run = new Run()
  let outcome: Outcome | undefined
  try {
    switch (options.scenario) {
      case 'ffp':
        outcome = await ffp(options, run)
        break
      case 'mcs':
        outcome = await mcs(options, run)
        break
      case 'login':
        outcome = await login(options, run)
        break
      case 'junk':
        outcome = await junk(options, run)
        break
      case 'stall':
        outcome = await stall(options, run)
        break
    }
  } catch (error) {
    run.errors.push({ kind: 'connection', message: error instanceof Error ? error.message : String(error) })
  }
  return { scenario: options.scenario, outcome, pdus: run.pdus, mutations: run.mutations, errors: run.errors }
}
