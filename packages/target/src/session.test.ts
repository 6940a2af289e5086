import { Opcode, encodeLun } from '@iscsi-ts/pdu'
import type { DataInPdu, Pdu, R2TPdu, ScsiCommandPdu, ScsiResponsePdu, TargetPdu } from '@iscsi-ts/pdu'
import type { SessionParameters } from '@iscsi-ts/negotiation'
import type { ScsiCommand, ScsiResult } from '@iscsi-ts/scsi'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from './config.js'
import { Session } from './session.js'
import type { SessionConnection, SessionHost } from './session.js'
import type { TargetNode } from './target-node.js'

/** A connection that records what the session sends. */
class RecordingConnection implements SessionConnection {
  readonly cid = 0
  readonly remote = 'test'
  closed = false
  maxSendDataSegmentLength = 1024
  sent: TargetPdu[] = []
  rejected: Array<{ reason: number; pdu: Pdu }> = []
  statSN = 100
  readonly #ended = new Set<number>()
  send(pdu: TargetPdu): void {
    this.sent.push(pdu)
  }
  takeStatSN(): number {
    return this.statSN++
  }
  reject(reason: number, pdu: Pdu): void {
    this.rejected.push({ reason, pdu })
    this.statSN++
  }
  rememberEnded(itt: number): void {
    this.#ended.add(itt)
  }
  wasEnded(itt: number): boolean {
    return this.#ended.has(itt)
  }
  close(): void {
    this.closed = true
  }
  admit<A>(_bytes: number, run: (arg: A) => void, arg: A): void {
    run(arg)
  }
  withdraw(): boolean {
    return false
  }
  released(): void {}
}

const parameters: SessionParameters = {
  sessionType: 'Normal',
  initiatorName: 'iqn.2026-11.io.x:i',
  targetName: 'iqn.2026-11.io.x:t',
  initiatorAlias: undefined,
  targetAlias: undefined,
  targetPortalGroupTag: 1,
  initialR2T: true,
  immediateData: false,
  maxBurstLength: 4096,
  firstBurstLength: 4096,
  maxConnections: 1,
  defaultTime2Wait: 2,
  defaultTime2Retain: 0,
  maxOutstandingR2T: 1,
  dataPDUInOrder: true,
  dataSequenceInOrder: true,
  errorRecoveryLevel: 0,
  taskReporting: 'RFC3720',
  iscsiProtocolLevel: 1,
}

/** A device that runs one bidirectional command: it wants 2048 bytes out and returns 3000 bytes in. */
function bidiNode(seen: ScsiCommand[]): TargetNode {
  const device = {
    dataOutLength: (): number => 2048,
    execute: (command: ScsiCommand): Promise<ScsiResult> => {
      seen.push(command)
      const data = Buffer.alloc(3000, 0x33)
      return Promise.resolve({ status: 0, dataIn: data.subarray(0, command.expectedDataInLength), dataInLength: 3000, dataOutLength: 2048 })
    },
    logicalUnits: () => new Map([[0, {}]]),
    nexusLoss: (): void => undefined,
  }
  return { device, name: 'iqn.2026-11.io.x:t' } as unknown as TargetNode
}

const host: SessionHost = {
  limits: DEFAULT_LIMITS,
  reserveWriteBytes: () => true,
  releaseWriteBytes: () => undefined,
  sessionClosed: () => undefined,
}

function command(fields: Partial<ScsiCommandPdu>): ScsiCommandPdu {
  return {
    opcode: 0x01,
    immediate: false,
    final: true,
    read: false,
    write: false,
    attribute: 1,
    lun: encodeLun(0),
    itt: 1,
    expectedDataTransferLength: 0,
    cmdSN: 10,
    expStatSN: 0,
    cdb: Buffer.alloc(16),
    data: Buffer.alloc(0),
    ...fields,
  }
}

describe('Session: a bidirectional command (RFC 7143 11.2.2.4, 11.4.5.2)', () => {
  it('solicits the write data, continues DataSN after the R2TSNs, and reports both residuals in the SCSI Response', async () => {
    const seen: ScsiCommand[] = []
    const session = new Session<RecordingConnection>({
      tsih: 1,
      isid: Buffer.alloc(6),
      initiatorName: parameters.initiatorName,
      targetName: parameters.targetName,
      type: 'Normal',
      node: bidiNode(seen),
      portalGroupTag: 1,
      parameters,
      initialCmdSN: 10,
      lunMap: undefined,
      host,
    })
    const connection = new RecordingConnection()
    session.addConnection(connection)
    session.receiveCommand(
      connection,
      command({ read: true, write: true, expectedDataTransferLength: 4096, expectedBidirectionalReadLength: 2500 }),
    )
    const r2t = connection.sent.find((p): p is R2TPdu => p.opcode === Opcode.R2T)!
    // The device wants 2048 bytes although EDTL says 4096: only those are solicited.
    expect([r2t.r2tSN, r2t.bufferOffset, r2t.desiredDataTransferLength]).toEqual([0, 0, 2048])
    session.receiveDataOut(connection, {
      opcode: 0x05,
      final: true,
      lun: 0n,
      itt: 1,
      ttt: r2t.ttt,
      expStatSN: 0,
      dataSN: 0,
      bufferOffset: 0,
      data: Buffer.alloc(2048, 0x44),
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen[0]?.dataOut?.length).toBe(2048)
    expect(seen[0]?.expectedDataInLength).toBe(2500)
    const dataIn = connection.sent.filter((p): p is DataInPdu => p.opcode === Opcode.DataIn)
    expect(dataIn.map((p) => [p.dataSN, p.bufferOffset, p.data.length, p.statusPresent])).toEqual([
      [1, 0, 1024, false],
      [2, 1024, 1024, false],
      [3, 2048, 452, false],
    ])
    const response = connection.sent.find((p): p is ScsiResponsePdu => p.opcode === Opcode.ScsiResponse)!
    expect(response).toMatchObject({
      status: 0,
      underflow: true,
      residualCount: 2048,
      bidiOverflow: true,
      bidiReadResidualCount: 500,
      expDataSN: 4,
      expCmdSN: 11,
    })
    expect(session.tasks.size).toBe(0)
  })
})
