// A CHAP login driven step by step over a RawConnection (RFC 7143 12.1.3), so a test can send what no correct
// initiator would: an old response, the target's own challenge reflected, a challenge used before.
import { LoginStage, Opcode } from '@iscsi-ts/pdu'
import type { LoginResponsePdu } from '@iscsi-ts/pdu'
import { buildLoginRequest, loginText } from '@iscsi-ts/pdu/testing'
import { chapResponse, parseBinary, parseText } from '@iscsi-ts/negotiation'
import type { ChapAlgorithm } from '@iscsi-ts/negotiation'
import type { RawConnection } from '@iscsi-ts/target/testing'

export interface ChapChallenge {
  readonly algorithm: number
  readonly identifier: number
  readonly challenge: Buffer
}

export interface ChapStep {
  readonly response: LoginResponsePdu
  readonly keys: ReadonlyMap<string, string>
}

function keysOf(response: LoginResponsePdu): Map<string, string> {
  return new Map(parseText(response.data).map((pair) => [pair.key, pair.value]))
}

export class ChapExchange {
  readonly #raw: RawConnection
  readonly #isid: Buffer
  readonly #itt = 0x4000

  constructor(raw: RawConnection, isid: Buffer = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a])) {
    this.#raw = raw
    this.#isid = isid
  }

  async #exchange(transit: boolean, pairs: Record<string, string>): Promise<ChapStep> {
    this.#raw.send(
      buildLoginRequest({
        transit,
        csg: LoginStage.SecurityNegotiation,
        nsg: transit ? LoginStage.LoginOperationalNegotiation : LoginStage.SecurityNegotiation,
        isid: this.#isid,
        itt: this.#itt,
        cmdSN: 1,
        expStatSN: this.#raw.expStatSN,
        data: loginText(pairs),
      }),
    )
    const response = await this.#raw.receiveOf(Opcode.LoginResponse)
    return { response, keys: keysOf(response) }
  }

  /** Names and AuthMethod=CHAP, then CHAP_A: returns the target's challenge. */
  async challenge(names: { initiatorName: string; targetName: string }, algorithms = '5'): Promise<ChapChallenge> {
    const first = await this.#exchange(false, { InitiatorName: names.initiatorName, TargetName: names.targetName, SessionType: 'Normal', AuthMethod: 'CHAP' })
    if (first.response.statusClass !== 0) throw new Error(`login refused at AuthMethod: ${first.response.statusClass}/${first.response.statusDetail}`)
    const second = await this.#exchange(false, { CHAP_A: algorithms })
    if (second.response.statusClass !== 0) throw new Error(`login refused at CHAP_A: ${second.response.statusClass}/${second.response.statusDetail}`)
    const algorithm = Number(second.keys.get('CHAP_A'))
    const identifier = Number(second.keys.get('CHAP_I'))
    const challenge = parseBinary(second.keys.get('CHAP_C') ?? '')
    return { algorithm, identifier, challenge }
  }

  /** The answer: CHAP_N, CHAP_R and optionally our own challenge (mutual CHAP). */
  answer(pairs: Record<string, string>): Promise<ChapStep> {
    return this.#exchange(true, pairs)
  }
}

/** CHAP_R for a challenge and secret, in the 0x hex form. */
export function chapR(challenge: ChapChallenge, secret: string): string {
  return `0x${Buffer.from(chapResponse(challenge.algorithm as ChapAlgorithm, challenge.identifier, secret, challenge.challenge)).toString('hex')}`
}
