// Valid PDU sequences the mutator starts from: full feature phase traffic of a logged-in session (SCSI commands with
// immediate data and unsolicited Data-Out, NOP-Out, Text, task management, SNACK, Logout) and blind login exchanges
// (normal, discovery, CHAP). Every sequence is correct as generated (CmdSN, ITT, burst rules of RFC 7143 4.2.4 and
// 13.10-13.14), so a mutation is the only thing wrong with what the target receives.
import { LoginStage, Opcode, RESERVED_TAG, TaskAttribute, TaskManagementFunction, encodeLun } from '@iscsi-ts/pdu'
import type { DataOutPdu, LoginRequestPdu, Pdu, ScsiCommandPdu } from '@iscsi-ts/pdu'
import type { Random } from '../random.js'
import * as cdb from './cdbs.js'

/** What a sequence needs to know about the session it is sent on. */
export interface FfpContext {
  /** Next CmdSN (advanced by non-immediate PDUs). */
  cmdSN: number
  expStatSN: number
  itt: number
  readonly cid: number
  readonly immediateData: boolean
  readonly initialR2T: boolean
  readonly firstBurstLength: number
  readonly maxBurstLength: number
  /** The target's MaxRecvDataSegmentLength: the most one of our PDUs may carry. */
  readonly maxSendDataSegmentLength: number
  readonly blockSize: number
  /** Blocks of LUN 0 (other LUNs are at least this large). */
  readonly blocks: number
}

/** A write whose remaining data goes out when the target asks for it with an R2T. */
export interface PendingWrite {
  readonly itt: number
  readonly lun: bigint
  readonly data: Buffer
}

export interface FfpSequence {
  readonly pdus: Pdu[]
  /** Writes that still need solicited data (answered from R2Ts by the connection). */
  readonly writes: PendingWrite[]
}

function nextItt(ctx: FfpContext): number {
  ctx.itt = (ctx.itt + 1) >>> 0
  if (ctx.itt === RESERVED_TAG) ctx.itt = 1
  return ctx.itt
}

function takeCmdSN(ctx: FfpContext, immediate: boolean): number {
  const sn = ctx.cmdSN
  if (!immediate) ctx.cmdSN = (ctx.cmdSN + 1) >>> 0
  return sn
}

const ATTRIBUTES: ReadonlyArray<readonly [number, number]> = [
  [TaskAttribute.Simple, 20],
  [TaskAttribute.Ordered, 2],
  [TaskAttribute.HeadOfQueue, 2],
  [TaskAttribute.Untagged, 1],
  [TaskAttribute.Aca, 1],
]

function pickLun(random: Random): bigint {
  // LUN 0 mostly, the second LUN often, a LUN that does not exist now and then.
  return encodeLun(random.weighted<number>([
    [0, 10],
    [1, 3],
    [7, 1],
  ]))
}

function command(random: Random, ctx: FfpContext, options: { cdb: Buffer; read?: number; lun?: bigint; immediate?: boolean }): ScsiCommandPdu {
  const immediate = options.immediate ?? random.chance(0.05)
  const cdbBytes = options.cdb.length >= 16 ? options.cdb : Buffer.concat([options.cdb, Buffer.alloc(16 - options.cdb.length)])
  return {
    opcode: Opcode.ScsiCommand,
    immediate,
    final: true,
    read: options.read !== undefined && options.read > 0,
    write: false,
    attribute: random.weighted(ATTRIBUTES),
    lun: options.lun ?? pickLun(random),
    itt: nextItt(ctx),
    expectedDataTransferLength: options.read ?? 0,
    cmdSN: takeCmdSN(ctx, immediate),
    expStatSN: ctx.expStatSN,
    cdb: cdbBytes,
    data: Buffer.alloc(0),
  }
}

/**
 * A write-type command and its data: immediate data and unsolicited Data-Out as far as the session's ImmediateData,
 * InitialR2T and FirstBurstLength allow (RFC 7143 4.2.4.2), the rest left for R2Ts.
 */
function writeCommand(random: Random, ctx: FfpContext, cdbBytes: Buffer, data: Buffer, out: FfpSequence, lun = pickLun(random)): void {
  const segment = ctx.maxSendDataSegmentLength
  const unsolicitedEnd = ctx.initialR2T ? 0 : Math.min(ctx.firstBurstLength, data.length)
  const immediateLength = ctx.immediateData ? Math.min(data.length, ctx.firstBurstLength, segment) : 0
  // Send Data-Out up to FirstBurstLength only sometimes (F=0 then obliges us to, RFC 7143 11.2.1).
  const sendUnsolicited = unsolicitedEnd > immediateLength && random.chance(0.7)
  const immediate = random.chance(0.03)
  const pdu: ScsiCommandPdu = {
    opcode: Opcode.ScsiCommand,
    immediate,
    final: !sendUnsolicited,
    read: false,
    write: true,
    attribute: random.weighted(ATTRIBUTES),
    lun,
    itt: nextItt(ctx),
    expectedDataTransferLength: data.length,
    cmdSN: takeCmdSN(ctx, immediate),
    expStatSN: ctx.expStatSN,
    cdb: cdbBytes.length >= 16 ? cdbBytes : Buffer.concat([cdbBytes, Buffer.alloc(16 - cdbBytes.length)]),
    data: data.subarray(0, immediateLength),
  }
  out.pdus.push(pdu)
  let offset = immediateLength
  if (sendUnsolicited) {
    let dataSN = 0
    while (offset < unsolicitedEnd) {
      const n = Math.min(segment, unsolicitedEnd - offset)
      const dataOut: DataOutPdu = {
        opcode: Opcode.DataOut,
        final: offset + n === unsolicitedEnd,
        lun,
        itt: pdu.itt,
        ttt: RESERVED_TAG,
        expStatSN: ctx.expStatSN,
        dataSN: dataSN++,
        bufferOffset: offset,
        data: data.subarray(offset, offset + n),
      }
      out.pdus.push(dataOut)
      offset += n
    }
  }
  if (offset < data.length) out.writes.push({ itt: pdu.itt, lun, data })
}

type Op =
  | 'tur'
  | 'inquiry'
  | 'capacity'
  | 'report-luns'
  | 'mode-sense'
  | 'request-sense'
  | 'read'
  | 'read-large'
  | 'write'
  | 'write-large'
  | 'write-same'
  | 'unmap'
  | 'compare-and-write'
  | 'sync'
  | 'verify'
  | 'pr'
  | 'lba-status'
  | 'nop'
  | 'text'
  | 'tmf'
  | 'snack'
  | 'stray-data-out'
  | 'random-cdb'

const OPS: ReadonlyArray<readonly [Op, number]> = [
  ['tur', 5],
  ['inquiry', 5],
  ['capacity', 3],
  ['report-luns', 2],
  ['mode-sense', 2],
  ['request-sense', 2],
  ['read', 14],
  ['read-large', 2],
  ['write', 14],
  ['write-large', 4],
  ['write-same', 2],
  ['unmap', 2],
  ['compare-and-write', 2],
  ['sync', 3],
  ['verify', 1],
  ['pr', 2],
  ['lba-status', 1],
  ['nop', 6],
  ['text', 3],
  ['tmf', 4],
  ['snack', 1],
  ['stray-data-out', 1],
  ['random-cdb', 3],
]

function appendOp(random: Random, ctx: FfpContext, out: FfpSequence): void {
  const bs = ctx.blockSize
  const lba = (blocks: number): number => random.int(0, Math.max(0, ctx.blocks - blocks))
  const op = random.weighted(OPS)
  switch (op) {
    case 'tur':
      out.pdus.push(command(random, ctx, { cdb: cdb.testUnitReady() }))
      return
    case 'inquiry': {
      const page = random.pick([undefined, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2, 0x86])
      const allocation = random.pick([36, 96, 255, 1024])
      out.pdus.push(command(random, ctx, { cdb: cdb.inquiry(allocation, page), read: allocation }))
      return
    }
    case 'capacity':
      if (random.chance(0.5)) out.pdus.push(command(random, ctx, { cdb: cdb.readCapacity10(), read: 8 }))
      else out.pdus.push(command(random, ctx, { cdb: cdb.readCapacity16(), read: 32 }))
      return
    case 'report-luns':
      out.pdus.push(command(random, ctx, { cdb: cdb.reportLuns(), read: 4096 }))
      return
    case 'mode-sense':
      out.pdus.push(command(random, ctx, { cdb: cdb.modeSense6(random.pick([0x3f, 0x08, 0x0a, 0x1c])), read: 255 }))
      return
    case 'request-sense':
      out.pdus.push(command(random, ctx, { cdb: cdb.requestSense(), read: 252 }))
      return
    case 'read': {
      const blocks = random.int(1, 64)
      const read16 = random.chance(0.3)
      const at = lba(blocks)
      out.pdus.push(command(random, ctx, { cdb: read16 ? cdb.read16(at, blocks) : cdb.read10(at, blocks), read: blocks * bs }))
      return
    }
    case 'read-large': {
      const blocks = random.int(256, 2048)
      out.pdus.push(command(random, ctx, { cdb: cdb.read10(lba(blocks), blocks), read: blocks * bs }))
      return
    }
    case 'write': {
      const blocks = random.int(1, 16)
      const fua = random.chance(0.2)
      const at = lba(blocks)
      writeCommand(random, ctx, random.chance(0.3) ? cdb.write16(at, blocks, fua) : cdb.write10(at, blocks, fua), random.bytes(blocks * bs), out)
      return
    }
    case 'write-large': {
      const blocks = random.int(64, 1024)
      writeCommand(random, ctx, cdb.write10(lba(blocks), blocks), random.bytes(blocks * bs), out)
      return
    }
    case 'write-same': {
      const blocks = random.int(1, 128)
      writeCommand(random, ctx, cdb.writeSame10(lba(blocks), blocks), random.bytes(bs), out)
      return
    }
    case 'unmap': {
      const blocks = random.int(1, 256)
      const list = cdb.unmapParameters(lba(blocks), blocks)
      writeCommand(random, ctx, cdb.unmap(list.length), list, out)
      return
    }
    case 'compare-and-write': {
      const blocks = random.int(1, 4)
      writeCommand(random, ctx, cdb.compareAndWrite(lba(blocks), blocks), random.bytes(2 * blocks * bs), out)
      return
    }
    case 'sync':
      out.pdus.push(command(random, ctx, { cdb: cdb.synchronizeCache10() }))
      return
    case 'verify': {
      const blocks = random.int(1, 32)
      out.pdus.push(command(random, ctx, { cdb: cdb.verify10(lba(blocks), blocks) }))
      return
    }
    case 'pr':
      if (random.chance(0.5)) {
        out.pdus.push(command(random, ctx, { cdb: cdb.persistentReserveIn(random.int(0, 3)), read: 1024 }))
      } else {
        const action = random.int(0, 7)
        const list = cdb.persistentReserveOutParameters(BigInt(random.int(0, 4)), BigInt(random.int(0, 4)))
        writeCommand(random, ctx, cdb.persistentReserveOut(action, random.pick([1, 3, 5, 6, 7, 8])), list, out)
      }
      return
    case 'lba-status':
      out.pdus.push(command(random, ctx, { cdb: cdb.getLbaStatus(lba(1)), read: 64 }))
      return
    case 'nop': {
      const immediate = random.chance(0.5)
      out.pdus.push({
        opcode: Opcode.NopOut,
        immediate,
        lun: 0n,
        itt: nextItt(ctx),
        ttt: RESERVED_TAG,
        cmdSN: takeCmdSN(ctx, immediate),
        expStatSN: ctx.expStatSN,
        data: random.chance(0.3) ? random.bytes(random.int(1, 512)) : Buffer.alloc(0),
      })
      return
    }
    case 'text': {
      const text = random.pick([
        'SendTargets=All\0',
        'SendTargets=\0',
        `MaxRecvDataSegmentLength=${random.pick([512, 4096, 8192, 65536, 262144])}\0`,
        'X-io.iscsi-ts.fuzz=1\0',
      ])
      out.pdus.push({
        opcode: Opcode.TextRequest,
        immediate: false,
        final: true,
        continue: false,
        lun: 0n,
        itt: nextItt(ctx),
        ttt: RESERVED_TAG,
        cmdSN: takeCmdSN(ctx, false),
        expStatSN: ctx.expStatSN,
        data: Buffer.from(text, 'utf8'),
      })
      return
    }
    case 'tmf': {
      const fn = random.weighted<number>([
        [TaskManagementFunction.AbortTask, 6],
        [TaskManagementFunction.AbortTaskSet, 2],
        [TaskManagementFunction.ClearAca, 1],
        [TaskManagementFunction.ClearTaskSet, 1],
        [TaskManagementFunction.LogicalUnitReset, 2],
        [TaskManagementFunction.TargetWarmReset, 1],
        [TaskManagementFunction.TargetColdReset, 0.2],
        [TaskManagementFunction.TaskReassign, 1],
        [9, 1],
        [10, 1],
        [11, 1],
      ])
      const previous = [...out.pdus].reverse().find((p): p is ScsiCommandPdu => p.opcode === Opcode.ScsiCommand)
      out.pdus.push({
        opcode: Opcode.TaskManagementRequest,
        immediate: true,
        function: fn,
        lun: previous?.lun ?? 0n,
        itt: nextItt(ctx),
        referencedTaskTag: fn === TaskManagementFunction.AbortTask ? (previous?.itt ?? RESERVED_TAG) : RESERVED_TAG,
        cmdSN: ctx.cmdSN,
        expStatSN: ctx.expStatSN,
        refCmdSN: previous?.cmdSN ?? 0,
        expDataSN: 0,
        data: Buffer.alloc(0),
      })
      return
    }
    case 'snack':
      out.pdus.push({
        opcode: Opcode.SnackRequest,
        type: random.int(0, 3),
        lun: 0n,
        itt: ctx.itt,
        ttt: RESERVED_TAG,
        expStatSN: ctx.expStatSN,
        begRun: 0,
        runLength: random.int(0, 2),
        data: Buffer.alloc(0),
      })
      return
    case 'stray-data-out':
      out.pdus.push({
        opcode: Opcode.DataOut,
        final: true,
        lun: 0n,
        itt: random.chance(0.5) ? ctx.itt : random.uint32(),
        ttt: random.chance(0.5) ? RESERVED_TAG : random.uint32(),
        expStatSN: ctx.expStatSN,
        dataSN: 0,
        bufferOffset: 0,
        data: random.bytes(random.int(1, 1024)),
      })
      return
    case 'random-cdb': {
      // A CDB of random bytes after a real opcode: the device server's parsers see garbage fields.
      const bytes = random.bytes(16)
      bytes[0] = random.pick([0x00, 0x03, 0x12, 0x1a, 0x25, 0x28, 0x2a, 0x2f, 0x35, 0x41, 0x42, 0x5e, 0x5f, 0x83, 0x84, 0x88, 0x89, 0x8a, 0x93, 0x9e, 0xa0, 0xa3, random.int(0, 255)])
      const read = random.chance(0.5) ? random.pick([0, 512, 4096, 65536]) : 0
      if (random.chance(0.3)) {
        writeCommand(random, ctx, bytes, random.bytes(random.pick([1, 24, 512, 4096])), out)
      } else {
        out.pdus.push(command(random, ctx, { cdb: bytes, read }))
      }
      return
    }
  }
}

/** A valid full feature phase sequence of about `operations` operations, sometimes ending with a Logout. */
export function ffpSequence(random: Random, ctx: FfpContext, operations: number): FfpSequence {
  const out: FfpSequence = { pdus: [], writes: [] }
  for (let i = 0; i < operations; i++) appendOp(random, ctx, out)
  if (random.chance(0.15)) {
    const reason = random.weighted<number>([
      [0, 4],
      [1, 2],
      [2, 1],
      [3, 1],
    ])
    out.pdus.push({
      opcode: Opcode.LogoutRequest,
      immediate: random.chance(0.8),
      reasonCode: reason,
      itt: nextItt(ctx),
      cid: random.chance(0.9) ? ctx.cid : random.int(0, 65535),
      cmdSN: ctx.cmdSN,
      expStatSN: ctx.expStatSN,
      data: Buffer.alloc(0),
    })
  }
  return out
}

/** Data-Out PDUs answering one R2T from a pending write (RFC 7143 11.8: the burst it asks for, DataSN from 0). */
export function solicitedData(write: PendingWrite, r2t: { ttt: number; bufferOffset: number; desiredDataTransferLength: number }, segment: number, expStatSN: number): DataOutPdu[] {
  const out: DataOutPdu[] = []
  const end = Math.min(write.data.length, r2t.bufferOffset + r2t.desiredDataTransferLength)
  let offset = r2t.bufferOffset
  let dataSN = 0
  while (offset < end) {
    const n = Math.min(segment, end - offset)
    out.push({
      opcode: Opcode.DataOut,
      final: offset + n === end,
      lun: write.lun,
      itt: write.itt,
      ttt: r2t.ttt,
      expStatSN,
      dataSN: dataSN++,
      bufferOffset: offset,
      data: write.data.subarray(offset, offset + n),
    })
    offset += n
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Login

export interface LoginSeedOptions {
  readonly initiatorName: string
  readonly targetName: string
  /** A target that requires CHAP (the exchange is then the CHAP start, with made-up answers). */
  readonly chapTargetName: string
  readonly isid: Buffer
}

function text(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8')
}

function loginPdu(fields: Partial<LoginRequestPdu> & { isid: Buffer; data: Buffer }): LoginRequestPdu {
  return {
    opcode: Opcode.LoginRequest,
    transit: true,
    continue: false,
    csg: LoginStage.SecurityNegotiation,
    nsg: LoginStage.LoginOperationalNegotiation,
    versionMax: 0,
    versionMin: 0,
    tsih: 0,
    itt: 0,
    cid: 0,
    cmdSN: 1,
    expStatSN: 0,
    ...fields,
  }
}

const OPERATIONAL: ReadonlyArray<readonly [string, string]> = [
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['MaxRecvDataSegmentLength', '262144'],
  ['InitialR2T', 'No'],
  ['ImmediateData', 'Yes'],
  ['MaxBurstLength', '16776192'],
  ['FirstBurstLength', '262144'],
  ['MaxConnections', '1'],
  ['ErrorRecoveryLevel', '0'],
  ['DefaultTime2Wait', '2'],
  ['DefaultTime2Retain', '0'],
  ['MaxOutstandingR2T', '1'],
  ['DataPDUInOrder', 'Yes'],
  ['DataSequenceInOrder', 'Yes'],
]

export type LoginFlavour = 'operational-only' | 'security-then-operational' | 'discovery' | 'chap' | 'continued'

/**
 * A login exchange sent blind (without waiting for answers): what a correct initiator would send against a target
 * without authentication, followed by a few full feature phase PDUs.
 */
export function loginSequence(random: Random, options: LoginSeedOptions, flavour: LoginFlavour): Pdu[] {
  const { isid } = options
  const names: Array<readonly [string, string]> = [['InitiatorName', options.initiatorName]]
  const pdus: Pdu[] = []
  const itt = random.uint32() >>> 1
  const ffpTail = (cmdSN: number): void => {
    pdus.push({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: itt + 1, ttt: RESERVED_TAG, cmdSN, expStatSN: 1, data: Buffer.alloc(0) })
    pdus.push({ opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt: itt + 2, cid: 0, cmdSN, expStatSN: 2, data: Buffer.alloc(0) })
  }
  switch (flavour) {
    case 'operational-only':
      pdus.push(
        loginPdu({
          isid,
          itt,
          csg: LoginStage.LoginOperationalNegotiation,
          nsg: LoginStage.FullFeaturePhase,
          data: text([...names, ['TargetName', options.targetName], ['SessionType', 'Normal'], ...OPERATIONAL]),
        }),
      )
      ffpTail(1)
      return pdus
    case 'security-then-operational':
      pdus.push(loginPdu({ isid, itt, data: text([...names, ['TargetName', options.targetName], ['AuthMethod', 'None']]) }))
      pdus.push(loginPdu({ isid, itt, csg: LoginStage.LoginOperationalNegotiation, nsg: LoginStage.FullFeaturePhase, data: text(OPERATIONAL) }))
      ffpTail(1)
      return pdus
    case 'discovery':
      pdus.push(
        loginPdu({
          isid,
          itt,
          csg: LoginStage.LoginOperationalNegotiation,
          nsg: LoginStage.FullFeaturePhase,
          data: text([...names, ['SessionType', 'Discovery'], ['HeaderDigest', 'None'], ['DataDigest', 'None']]),
        }),
      )
      pdus.push({
        opcode: Opcode.TextRequest,
        immediate: false,
        final: true,
        continue: false,
        lun: 0n,
        itt: itt + 1,
        ttt: RESERVED_TAG,
        cmdSN: 1,
        expStatSN: 1,
        data: text([['SendTargets', 'All']]),
      })
      ffpTail(2)
      return pdus
    case 'chap':
      pdus.push(loginPdu({ isid, itt, transit: false, nsg: 0, data: text([...names, ['TargetName', options.chapTargetName], ['AuthMethod', 'CHAP,None']]) }))
      pdus.push(loginPdu({ isid, itt, transit: false, nsg: 0, data: text([['CHAP_A', random.pick(['5', '7', '6,5', '8,7,6,5'])]]) }))
      pdus.push(
        loginPdu({
          isid,
          itt,
          data: text([
            ['CHAP_N', random.pick(['alice', 'mallory', ''])],
            ['CHAP_R', `0x${random.bytes(random.pick([16, 20, 32])).toString('hex')}`],
            ...(random.chance(0.5) ? ([['CHAP_I', '7'], ['CHAP_C', `0x${random.bytes(16).toString('hex')}`]] as const) : []),
          ]),
        }),
      )
      return pdus
    case 'continued': {
      // The operational text split over PDUs with C=1 (RFC 7143 11.12.2), the split point anywhere.
      const whole = text([...names, ['TargetName', options.targetName], ['SessionType', 'Normal'], ...OPERATIONAL])
      const cut = random.int(1, whole.length - 1)
      pdus.push(loginPdu({ isid, itt, transit: false, continue: true, csg: 1, nsg: 0, data: whole.subarray(0, cut) }))
      pdus.push(loginPdu({ isid, itt, csg: 1, nsg: 3, data: whole.subarray(cut) }))
      ffpTail(1)
      return pdus
    }
  }
}
