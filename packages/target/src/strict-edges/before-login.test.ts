// PDUs other than Login Requests before the login is over (RFC 7143 6.3): "A target receiving any PDU except a Login
// request before the Login Phase is started MUST immediately terminate the connection on which the PDU was received.
// Once the Login Phase has started, if the target receives any PDU except a Login request, it MUST send a Login
// reject (with Status "invalid during login") and then disconnect." Another session keeps doing I/O throughout.
import { LoginStatus, Opcode, RESERVED_TAG, encodeLun } from '@iscsi-ts/pdu'
import type { Pdu } from '@iscsi-ts/pdu'
import { describe, expect, it } from 'vitest'
import { connect, until } from '../test-harness.js'
import { read10, write10 } from '../testing.js'
import type { RawConnection, TestTarget } from '../testing.js'
import { INITIATOR, loginRequest, normalSession, pattern, quietTarget, text } from './edge-harness.js'

/** The non-login PDUs an initiator could send too early, with the sequence numbers a raw client would use. */
const EARLY: ReadonlyArray<{ name: string; pdu: (cmdSN: number) => Pdu }> = [
  {
    name: 'SCSI Command',
    pdu: (cmdSN) => ({
      opcode: Opcode.ScsiCommand,
      immediate: false,
      final: true,
      read: true,
      write: false,
      attribute: 1,
      lun: encodeLun(0),
      itt: 0x31,
      expectedDataTransferLength: 512,
      cmdSN,
      expStatSN: 0,
      cdb: Buffer.concat([read10(0, 1), Buffer.alloc(6)]),
      data: Buffer.alloc(0),
    }),
  },
  {
    name: 'NOP-Out',
    pdu: (cmdSN) => ({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 0x32, ttt: RESERVED_TAG, cmdSN, expStatSN: 0, data: Buffer.alloc(0) }),
  },
  {
    name: 'Text Request',
    pdu: (cmdSN) => ({
      opcode: Opcode.TextRequest,
      immediate: true,
      final: true,
      continue: false,
      lun: 0n,
      itt: 0x33,
      ttt: RESERVED_TAG,
      cmdSN,
      expStatSN: 0,
      data: Buffer.from('SendTargets=All\0'),
    }),
  },
  {
    name: 'Logout Request',
    pdu: (cmdSN) => ({ opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt: 0x34, cid: 0, cmdSN, expStatSN: 0, data: Buffer.alloc(0) }),
  },
]

/** A session that writes and reads back blocks in a loop until stopped; resolves with the rounds done. */
function backgroundIo(c: RawConnection): { stop(): Promise<number> } {
  let running = true
  const loop = (async (): Promise<number> => {
    let rounds = 0
    while (running) {
      const data = pattern(1024, rounds)
      const write = await c.command({ cdb: write10(100 + (rounds % 8) * 2, 2), dataOut: data })
      expect(write.status).toBe(0)
      const read = await c.command({ cdb: read10(100 + (rounds % 8) * 2, 2), read: true, expectedDataTransferLength: 1024 })
      expect(read.status).toBe(0)
      expect(read.data.equals(data)).toBe(true)
      rounds++
    }
    return rounds
  })()
  // Keep a failure for `stop` (an unawaited rejection would surface as an unhandled error instead).
  const settled = loop.then(
    (rounds) => ({ rounds, error: undefined }),
    (error: unknown) => ({ rounds: 0, error: error instanceof Error ? error : new Error(String(error)) }),
  )
  return {
    stop: async () => {
      running = false
      const outcome = await settled
      if (outcome.error !== undefined) throw outcome.error
      return outcome.rounds
    },
  }
}

async function closedWithoutAWord(c: RawConnection): Promise<void> {
  await until(() => c.closed, 3000, 'the target to close the connection')
  expect(c.queued).toHaveLength(0)
  expect(c.errors).toHaveLength(0)
}

async function bystander(t: TestTarget): Promise<{ c: RawConnection; io: { stop(): Promise<number> } }> {
  const c = await normalSession(t, { initiatorName: 'iqn.2026-11.io.iscsi-ts:bystander' })
  return { c, io: backgroundIo(c) }
}

describe('a non-login PDU as the first PDU of a connection (RFC 7143 6.3: terminate the connection at once)', () => {
  it.each(EARLY)('$name: the connection closes with nothing sent, and other sessions carry on', async ({ pdu }) => {
    const t = await quietTarget()
    const { io } = await bystander(t)
    for (let i = 0; i < 3; i++) {
      const c = await connect(t)
      c.send(pdu(1))
      await closedWithoutAWord(c)
    }
    expect(await io.stop()).toBeGreaterThan(0)
    await until(() => t.target.stats.connections === 1, 3000, 'only the bystander to remain')
  })
})

describe('a non-login PDU during the login (RFC 7143 6.3, 11.13.5: Login reject 0x020B "invalid during login", then disconnect)', () => {
  it.each(EARLY)('$name after the first Login Request: one Login reject 0x020B, then the connection closes', async ({ pdu }) => {
    const t = await quietTarget()
    const { io } = await bystander(t)
    const c = await connect(t)
    const isid = Buffer.from([0x80, 9, 8, 7, 6, 5])
    const request = loginRequest({ isid, itt: 0x77, expStatSN: 3, text: text(`InitiatorName=${INITIATOR}`, `TargetName=${t.targetName}`) })
    c.send(request)
    const first = await c.receiveOf(Opcode.LoginResponse)
    expect([first.statusClass, first.transit, first.statSN]).toEqual([0, false, 3])
    c.send(pdu(1))
    const reject = await c.receiveOf(Opcode.LoginResponse)
    expect([reject.statusClass, reject.statusDetail]).toEqual([LoginStatus.InvalidDuringLogin.statusClass, LoginStatus.InvalidDuringLogin.statusDetail])
    // It answers the login in progress: its ITT and ISID, TSIH still 0, the next StatSN, no text, T=0.
    expect(reject.itt).toBe(request.itt)
    expect(reject.isid.equals(isid)).toBe(true)
    expect([reject.tsih, reject.statSN, reject.transit, reject.continue, reject.data.length]).toEqual([0, 4, false, false, 0])
    await closedWithoutAWord(c)
    expect(await io.stop()).toBeGreaterThan(0)
    expect(t.target.stats.sessions).toBe(1)
  })
})
