// fast-check arbitraries for every PDU kind, for this package's property tests (not exported: fast-check is a dev
// dependency). Values cover each field's full wire range.
import fc from 'fast-check'
import { AhsType, Opcode } from './opcode.js'
import type { Ahs, Pdu } from './types.js'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u8 = fc.integer({ min: 0, max: 0xff })
const bits = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: (1 << n) - 1 })
const bool = fc.boolean()
const lun = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn })
const bytes = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a))
const data = fc.oneof({ weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) }, { weight: 3, arbitrary: bytes(1, 67) })

/** Unknown AHS (never types 1 and 2, which SCSI Command folds into its fields). */
const unknownAhs: fc.Arbitrary<Ahs[]> = fc.array(
  fc.record({ type: fc.integer({ min: 3, max: 0xff }), data: bytes(0, 40) }),
  { minLength: 1, maxLength: 3 },
)

function withAhs<T extends object>(arb: fc.Arbitrary<T>): fc.Arbitrary<T & { ahs?: Ahs[] }> {
  return fc.tuple(arb, fc.option(unknownAhs, { freq: 5, nil: undefined })).map(([pdu, ahs]) => (ahs === undefined ? pdu : { ...pdu, ahs }))
}

const arbitraries: { [O in Pdu['opcode']]: fc.Arbitrary<Extract<Pdu, { opcode: O }>> } = {
  [Opcode.NopOut]: withAhs(
    fc.record({ opcode: fc.constant(Opcode.NopOut), immediate: bool, lun, itt: u32, ttt: u32, cmdSN: u32, expStatSN: u32, data }),
  ),
  [Opcode.ScsiCommand]: withAhs(
    fc.record(
      {
        opcode: fc.constant(Opcode.ScsiCommand),
        immediate: bool,
        final: bool,
        read: bool,
        write: bool,
        attribute: bits(3),
        lun,
        itt: u32,
        expectedDataTransferLength: u32,
        cmdSN: u32,
        expStatSN: u32,
        cdb: fc.oneof(bytes(16, 16), bytes(17, 260)),
        expectedBidirectionalReadLength: u32,
        data,
      },
      {
        requiredKeys: ['opcode', 'immediate', 'final', 'read', 'write', 'attribute', 'lun', 'itt', 'expectedDataTransferLength', 'cmdSN', 'expStatSN', 'cdb', 'data'],
      },
    ),
  ),
  [Opcode.TaskManagementRequest]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.TaskManagementRequest),
      immediate: bool,
      function: bits(7),
      lun,
      itt: u32,
      referencedTaskTag: u32,
      cmdSN: u32,
      expStatSN: u32,
      refCmdSN: u32,
      expDataSN: u32,
      data,
    }),
  ),
  [Opcode.LoginRequest]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.LoginRequest),
      transit: bool,
      continue: bool,
      csg: bits(2),
      nsg: bits(2),
      versionMax: u8,
      versionMin: u8,
      isid: bytes(6, 6),
      tsih: u16,
      itt: u32,
      cid: u16,
      cmdSN: u32,
      expStatSN: u32,
      data,
    }),
  ),
  [Opcode.TextRequest]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.TextRequest),
      immediate: bool,
      final: bool,
      continue: bool,
      lun,
      itt: u32,
      ttt: u32,
      cmdSN: u32,
      expStatSN: u32,
      data,
    }),
  ),
  [Opcode.DataOut]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.DataOut),
      final: bool,
      lun,
      itt: u32,
      ttt: u32,
      expStatSN: u32,
      dataSN: u32,
      bufferOffset: u32,
      data,
    }),
  ),
  [Opcode.LogoutRequest]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.LogoutRequest),
      immediate: bool,
      reasonCode: bits(7),
      itt: u32,
      cid: u16,
      cmdSN: u32,
      expStatSN: u32,
      data,
    }),
  ),
  [Opcode.SnackRequest]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.SnackRequest),
      type: bits(4),
      lun,
      itt: u32,
      ttt: u32,
      expStatSN: u32,
      begRun: u32,
      runLength: u32,
      data,
    }),
  ),
  [Opcode.NopIn]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.NopIn),
      lun,
      itt: u32,
      ttt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      data,
    }),
  ),
  [Opcode.ScsiResponse]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.ScsiResponse),
      bidiOverflow: bool,
      bidiUnderflow: bool,
      overflow: bool,
      underflow: bool,
      response: u8,
      status: u8,
      itt: u32,
      snackTag: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      expDataSN: u32,
      bidiReadResidualCount: u32,
      residualCount: u32,
      data,
    }),
  ),
  [Opcode.TaskManagementResponse]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.TaskManagementResponse),
      response: u8,
      itt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      data,
    }),
  ),
  [Opcode.LoginResponse]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.LoginResponse),
      transit: bool,
      continue: bool,
      csg: bits(2),
      nsg: bits(2),
      versionMax: u8,
      versionActive: u8,
      isid: bytes(6, 6),
      tsih: u16,
      itt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      statusClass: u8,
      statusDetail: u8,
      data,
    }),
  ),
  [Opcode.TextResponse]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.TextResponse),
      final: bool,
      continue: bool,
      lun,
      itt: u32,
      ttt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      data,
    }),
  ),
  [Opcode.DataIn]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.DataIn),
      final: bool,
      acknowledge: bool,
      overflow: bool,
      underflow: bool,
      statusPresent: bool,
      status: u8,
      lun,
      itt: u32,
      ttt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      dataSN: u32,
      bufferOffset: u32,
      residualCount: u32,
      data,
    }),
  ),
  [Opcode.LogoutResponse]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.LogoutResponse),
      response: u8,
      itt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      time2Wait: u16,
      time2Retain: u16,
      data,
    }),
  ),
  [Opcode.R2T]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.R2T),
      lun,
      itt: u32,
      ttt: u32,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      r2tSN: u32,
      bufferOffset: u32,
      desiredDataTransferLength: u32,
      data,
    }),
  ),
  [Opcode.AsyncMessage]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.AsyncMessage),
      lun,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      asyncEvent: u8,
      asyncVCode: u8,
      parameter1: u16,
      parameter2: u16,
      parameter3: u16,
      data,
    }),
  ),
  [Opcode.Reject]: withAhs(
    fc.record({
      opcode: fc.constant(Opcode.Reject),
      reason: u8,
      statSN: u32,
      expCmdSN: u32,
      maxCmdSN: u32,
      dataSN: u32,
      data,
    }),
  ),
}

/** Any valid PDU of any kind. */
export const arbitraryPdu: fc.Arbitrary<Pdu> = fc.oneof(...(Object.values(arbitraries) as fc.Arbitrary<Pdu>[]))

/** The arbitrary for one opcode. */
export function arbitraryPduOf(opcode: Pdu['opcode']): fc.Arbitrary<Pdu> {
  return arbitraries[opcode] as fc.Arbitrary<Pdu>
}

export const arbitraryDigests = fc.record({ headerDigest: fc.boolean(), dataDigest: fc.boolean() })

/** The extended CDB and bidirectional AHS types, for tests that need to avoid them. */
export const KNOWN_AHS_TYPES: readonly number[] = [AhsType.ExtendedCdb, AhsType.BidirectionalReadLength]
