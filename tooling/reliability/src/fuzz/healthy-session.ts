// The session that must keep working while the target is fuzzed: it writes blocks with a known pattern to its own
// LUN, reads them back, re-reads a golden region written at the start, and answers the target's NOP-In pings. Any
// wrong byte, error status, timeout or lost connection is a failure.
import { Opcode, RESERVED_TAG } from '@iscsi-ts/pdu'
import { RawConnection, read10, write10 } from '@iscsi-ts/target/testing'
import type { Random } from '../random.js'

export interface HealthyStats {
  readonly operations: number
  readonly bytesVerified: number
  readonly maxLatencyMs: number
  readonly failures: readonly string[]
}

export interface HealthyOptions {
  readonly host: string
  readonly port: number
  readonly targetName: string
  readonly initiatorName: string
  readonly random: Random
  /** Blocks of the LUN this session may use (from LBA 0). */
  readonly blocks: number
  readonly blockSize?: number
  /** Timeout of one command. */
  readonly timeoutMs?: number
}

const GOLDEN_BLOCKS = 64

export class HealthySession {
  readonly #raw: RawConnection
  readonly #options: HealthyOptions
  readonly #blockSize: number
  readonly #golden: Buffer
  readonly #failures: string[] = []
  #operations = 0
  #bytesVerified = 0
  #maxLatencyMs = 0
  #running = false
  #loop: Promise<void> | undefined
  #pinger: NodeJS.Timeout | undefined

  private constructor(raw: RawConnection, options: HealthyOptions, golden: Buffer) {
    this.#raw = raw
    this.#options = options
    this.#blockSize = options.blockSize ?? 512
    this.#golden = golden
  }

  /** Log in, write the golden region, verify it once. */
  static async start(options: HealthyOptions): Promise<HealthySession> {
    const raw = await RawConnection.connect({ host: options.host, port: options.port })
    await raw.login({ targetName: options.targetName, initiatorName: options.initiatorName })
    const blockSize = options.blockSize ?? 512
    const golden = options.random.bytes(GOLDEN_BLOCKS * blockSize)
    const session = new HealthySession(raw, options, golden)
    // The first command after login may meet a unit attention (power on, SPC-4 5.14): retry once.
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await raw.command({ cdb: write10(0, GOLDEN_BLOCKS), dataOut: golden, timeoutMs: options.timeoutMs ?? 10_000 })
      if (result.status === 0) break
      if (attempt === 2) throw new Error(`healthy session: golden write ended with status 0x${result.status.toString(16)}`)
    }
    await session.#verifyGolden()
    return session
  }

  get stats(): HealthyStats {
    return { operations: this.#operations, bytesVerified: this.#bytesVerified, maxLatencyMs: this.#maxLatencyMs, failures: [...this.#failures] }
  }

  #fail(message: string): void {
    if (this.#failures.length < 20) this.#failures.push(message)
  }

  async #timed<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await work()
    } finally {
      this.#maxLatencyMs = Math.max(this.#maxLatencyMs, performance.now() - started)
    }
  }

  async #verifyGolden(): Promise<void> {
    const result = await this.#timed(() =>
      this.#raw.command({ cdb: read10(0, GOLDEN_BLOCKS), read: true, expectedDataTransferLength: this.#golden.length, timeoutMs: this.#options.timeoutMs ?? 10_000 }),
    )
    this.#operations++
    if (result.status !== 0) this.#fail(`golden read: status 0x${result.status.toString(16)}`)
    else if (!result.data.equals(this.#golden)) this.#fail('golden read: data differs from what was written')
    else this.#bytesVerified += result.data.length
  }

  async #writeAndReadBack(): Promise<void> {
    const random = this.#options.random
    const blocks = random.int(1, 32)
    const lba = random.int(GOLDEN_BLOCKS, this.#options.blocks - blocks)
    const data = random.bytes(blocks * this.#blockSize)
    const timeoutMs = this.#options.timeoutMs ?? 10_000
    const written = await this.#timed(() => this.#raw.command({ cdb: write10(lba, blocks), dataOut: data, timeoutMs }))
    this.#operations++
    if (written.status !== 0) {
      this.#fail(`write of ${blocks} blocks at ${lba}: status 0x${written.status.toString(16)}`)
      return
    }
    const read = await this.#timed(() => this.#raw.command({ cdb: read10(lba, blocks), read: true, expectedDataTransferLength: data.length, timeoutMs }))
    this.#operations++
    if (read.status !== 0) this.#fail(`read of ${blocks} blocks at ${lba}: status 0x${read.status.toString(16)}`)
    else if (!read.data.equals(data)) this.#fail(`read of ${blocks} blocks at ${lba}: data differs from what was written`)
    else this.#bytesVerified += data.length
  }

  /** Answer NOP-In pings waiting in the queue (ITT reserved, TTT set: RFC 7143 11.19). */
  async #answerPings(): Promise<void> {
    for (;;) {
      let ping
      try {
        ping = await this.#raw.receiveOf(Opcode.NopIn, 0, (p) => p.itt === RESERVED_TAG)
      } catch {
        return
      }
      this.#raw.send({ opcode: Opcode.NopOut, immediate: true, lun: ping.lun, itt: RESERVED_TAG, ttt: ping.ttt, cmdSN: this.#raw.cmdSN, expStatSN: this.#raw.expStatSN, data: Buffer.alloc(0) })
    }
  }

  /** Run operations back to back until `stop`; pings are answered within 50 ms, even while a command waits. */
  run(): void {
    this.#running = true
    this.#pinger = setInterval(() => void this.#answerPings(), 50)
    this.#loop = (async () => {
      let n = 0
      while (this.#running) {
        try {
          if (this.#raw.closed) {
            this.#fail('the target closed the healthy connection')
            return
          }
          if (n++ % 8 === 0) await this.#verifyGolden()
          else await this.#writeAndReadBack()
        } catch (error) {
          this.#fail(`healthy session: ${error instanceof Error ? error.message : String(error)}`)
          if (this.#raw.closed) return
        }
      }
    })()
  }

  /** Stop the loop, check once more, log out. */
  async stop(): Promise<HealthyStats> {
    this.#running = false
    clearInterval(this.#pinger)
    await this.#loop
    if (!this.#raw.closed) {
      try {
        await this.#verifyGolden()
        const logout = await this.#raw.logout()
        if (logout.response !== 0) this.#fail(`logout response ${logout.response}`)
      } catch (error) {
        this.#fail(`healthy session at the end: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    this.#raw.destroy()
    return this.stats
  }
}
