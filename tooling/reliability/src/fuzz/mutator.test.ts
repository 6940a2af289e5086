import { describe, expect, it } from 'vitest'
import { Opcode, PduError, decodePdu, encodePdu } from '@iscsi-ts/pdu'
import type { DigestOptions } from '@iscsi-ts/pdu'
import { decodeAll, frameChunks } from '@iscsi-ts/pdu/testing'
import { Random } from '../random.js'
import { chunk, mutateSequence, mutateText, mutateValue } from './mutator.js'
import { ffpSequence, loginSequence, solicitedData } from './seeds.js'
import type { FfpContext, LoginFlavour } from './seeds.js'

function context(overrides: Partial<FfpContext> = {}): FfpContext {
  return {
    cmdSN: 100,
    expStatSN: 7,
    itt: 0x1000,
    cid: 0,
    immediateData: true,
    initialR2T: false,
    firstBurstLength: 65536,
    maxBurstLength: 262144,
    maxSendDataSegmentLength: 8192,
    blockSize: 512,
    blocks: 32768,
    ...overrides,
  }
}

const DIGESTS: DigestOptions[] = [{}, { headerDigest: true }, { headerDigest: true, dataDigest: true }]

describe('seed sequences', () => {
  it('are valid: every PDU encodes and decodes back, CmdSN advances by one per non-immediate PDU, ITTs unique', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = new Random(seed)
      const ctx = context({ immediateData: random.chance(0.5), initialR2T: random.chance(0.5), firstBurstLength: random.pick([512, 8192, 65536]) })
      const { pdus } = ffpSequence(random, ctx, 40)
      const digests = random.pick(DIGESTS)
      const decoded = decodeAll(Buffer.concat(pdus.map((p) => encodePdu(p, digests))), digests)
      expect(decoded.map((p) => p.opcode)).toEqual(pdus.map((p) => p.opcode))
      let expected = 100
      const itts = new Set<number>()
      for (const pdu of decoded) {
        if (pdu.opcode === Opcode.ScsiCommand || pdu.opcode === Opcode.NopOut || pdu.opcode === Opcode.TextRequest) {
          expect(pdu.cmdSN).toBe(expected)
          if (!pdu.immediate) expected = (expected + 1) >>> 0
          expect(itts.has(pdu.itt)).toBe(false)
          itts.add(pdu.itt)
        }
      }
      expect(ctx.cmdSN).toBe(expected)
    }
  })

  it('obey the burst rules: immediate data within FirstBurstLength and the segment limit, unsolicited Data-Out up to FirstBurstLength', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = new Random(seed)
      const ctx = context({ immediateData: random.chance(0.5), initialR2T: random.chance(0.5), firstBurstLength: random.pick([512, 4096, 65536]), maxSendDataSegmentLength: random.pick([512, 8192]) })
      const { pdus, writes } = ffpSequence(random, ctx, 60)
      for (const [i, pdu] of pdus.entries()) {
        if (pdu.opcode !== Opcode.ScsiCommand || !pdu.write) continue
        expect(pdu.data.length).toBeLessThanOrEqual(Math.min(ctx.firstBurstLength, ctx.maxSendDataSegmentLength))
        if (!ctx.immediateData) expect(pdu.data.length).toBe(0)
        if (pdu.final) continue
        expect(ctx.initialR2T).toBe(false)
        // The unsolicited Data-Out that follows reaches exactly min(FirstBurstLength, EDTL), the last with F=1.
        let end = pdu.data.length
        let dataSN = 0
        for (const next of pdus.slice(i + 1)) {
          if (next.opcode !== Opcode.DataOut || next.itt !== pdu.itt) continue
          expect(next.bufferOffset).toBe(end)
          expect(next.dataSN).toBe(dataSN++)
          expect(next.data.length).toBeLessThanOrEqual(ctx.maxSendDataSegmentLength)
          end += next.data.length
          if (next.final) break
        }
        expect(end).toBe(Math.min(ctx.firstBurstLength, pdu.expectedDataTransferLength))
      }
      for (const w of writes) {
        const data = solicitedData(w, { ttt: 9, bufferOffset: 0, desiredDataTransferLength: w.data.length }, 4096, 1)
        expect(Buffer.concat(data.map((d) => d.data)).equals(w.data)).toBe(true)
        expect(data[data.length - 1]!.final).toBe(true)
      }
    }
  })

  it('build login exchanges that decode as Login Requests with a consistent ITT and ISID', () => {
    const isid = Buffer.from([0x80, 1, 2, 3, 4, 5])
    for (const flavour of ['operational-only', 'security-then-operational', 'discovery', 'chap', 'continued'] as LoginFlavour[]) {
      const pdus = loginSequence(new Random(5), { initiatorName: 'iqn.2026-11.io.iscsi-ts:i', targetName: 'iqn.2026-11.io.iscsi-ts:t', chapTargetName: 'iqn.2026-11.io.iscsi-ts:c', isid }, flavour)
      const logins = decodeAll(Buffer.concat(pdus.map((p) => encodePdu(p)))).filter((p) => p.opcode === Opcode.LoginRequest)
      expect(logins.length).toBeGreaterThan(0)
      expect(new Set(logins.map((p) => p.itt)).size).toBe(1)
      for (const login of logins) expect(Buffer.from(login.isid).equals(isid)).toBe(true)
      expect(logins[0]!.data.toString()).toContain('InitiatorName=iqn.2026-11.io.iscsi-ts:i')
    }
  })
})

describe('mutations', () => {
  it('are deterministic for a seed', () => {
    const build = (): Buffer => {
      const random = new Random(99)
      const { pdus } = ffpSequence(random, context(), 50)
      return Buffer.concat(mutateSequence(random, pdus, { headerDigest: true }).units)
    }
    expect(build().equals(build())).toBe(true)
  })

  it('leave most PDUs intact at a low rate and change the stream at a high one', () => {
    const random = new Random(3)
    const { pdus } = ffpSequence(random, context(), 200)
    const plain = Buffer.concat(pdus.map((p) => encodePdu(p)))
    const untouched = mutateSequence(random, pdus, {}, { mutate: 0, semantic: 0.5 })
    expect(Buffer.concat(untouched.units).equals(plain)).toBe(true)
    expect(untouched.mutations.none).toBe(pdus.length)
    const heavy = mutateSequence(random, pdus, {}, { mutate: 1, semantic: 0.5 })
    expect(heavy.mutations.none ?? 0).toBe(0)
    expect(Buffer.concat(heavy.units).equals(plain)).toBe(false)
    // Both levels and several kinds show up.
    const kinds = Object.keys(heavy.mutations)
    expect(kinds.length).toBeGreaterThanOrEqual(8)
    expect(kinds).toEqual(expect.arrayContaining(['field', 'header-field', 'truncate']))
  })

  it('semantic mutations re-encode with correct digests (the PDU still frames)', () => {
    const random = new Random(17)
    const digests = { headerDigest: true, dataDigest: true }
    let framed = 0
    for (let i = 0; i < 300; i++) {
      const { pdus } = ffpSequence(random, context(), 1)
      const { pdu } = mutateValue(random, pdus[0]!)
      let bytes: Buffer
      try {
        bytes = encodePdu(pdu, digests)
      } catch (error) {
        // A field pushed out of its range does not encode: a typed error, and the fuzzer mutates bytes instead.
        expect(error).toBeInstanceOf(PduError)
        continue
      }
      try {
        decodePdu(bytes, 0, digests)
        framed++
      } catch (error) {
        // An opcode-specific check (reserved values) may refuse it, always as a PduError, never a digest error.
        expect(error).toBeInstanceOf(PduError)
        expect((error as PduError).code).not.toMatch(/DIGEST/)
      }
    }
    expect(framed).toBeGreaterThan(200)
  })

  it('byte mutations only ever make the framer report typed errors', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const random = new Random(seed)
      const { pdus } = ffpSequence(random, context(), 30)
      const digests = random.pick(DIGESTS)
      const { units } = mutateSequence(random, pdus, digests, { mutate: 0.5, semantic: 0.2 })
      const { errors } = frameChunks(chunk(random, units), { ...digests, role: 'target', maxRecvDataSegmentLength: 262144 })
      for (const error of errors) expect(error).toBeInstanceOf(PduError)
    }
  })

  it('text mutations keep producing text-like or junk data of bounded size', () => {
    const random = new Random(8)
    const kinds = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const out = mutateText(random, Buffer.from('InitiatorName=iqn.x\0HeaderDigest=None\0MaxRecvDataSegmentLength=8192\0'))
      expect(out.length).toBeLessThan(16_384)
      kinds.add(out.includes(0) ? 'nul' : 'flat')
    }
    expect(kinds.size).toBe(2)
  })

  it('chunk() splits a stream anywhere without losing or reordering bytes', () => {
    const random = new Random(4)
    const units = [random.bytes(1000), random.bytes(48), random.bytes(70000)]
    for (let i = 0; i < 20; i++) {
      const parts = chunk(random, units)
      expect(Buffer.concat(parts).equals(Buffer.concat(units))).toBe(true)
    }
  })
})
