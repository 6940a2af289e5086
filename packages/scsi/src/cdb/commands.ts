// The opcode table: every command the device server knows, with its CDB layout. One table drives CDB parsing and
// building, dispatch (the device keeps a handler per name), data transfer lengths and REPORT SUPPORTED OPERATION
// CODES (SPC-4 6.35: service actions, CDB length, CDB usage data derived from the fields, timeouts).
//
// Column meaning:
// - opcode, and serviceAction for a command that is one service action of its opcode (SERVICE ACTION IN(16),
//   MAINTENANCE IN): SERVICE ACTION is byte 1 bits 4-0 in every CDB format here (SPC-4 4.2.5.2, 4.2.5.3).
// - serviceActions: the service actions of a command whose action is a parameter (PERSISTENT RESERVE IN/OUT,
//   SANITIZE, RECEIVE COPY RESULTS): one table entry, the `serviceAction` field, each action reported on its own.
// - length: CDB length (SPC-4 4.2.5.1 group codes). direction: data transfer of the command.
// - set: the standard whose device server handles it (SPC-4 primary commands, SBC-3 block commands).
// - access: 'medium' needs the medium ready (SBC-3 4.x), 'present' needs a medium present (READ CAPACITY).
// - feature: the LU capability the command depends on; an LU without it answers INVALID COMMAND OPERATION CODE.
// - timeout: recommended command timeout, seconds (SPC-4 6.35.4, command timeouts descriptor).
// - checkReserved: the device server refuses a CDB with a reserved bit set (every bit of bytes 1 to length-2 outside
//   the fields). SPC-4 3.3.9 lets a recipient check reserved fields; it does so where a command is destructive.
// - fields: every field the device server evaluates; the control byte (last byte) is implicit.
import { bits, type CdbField, flag, uint } from './fields.js'

export type DataDirection = 'none' | 'in' | 'out'
export type CommandSet = 'spc' | 'sbc'
export type CommandFeature = 'removable' | 'thin' | 'atomic' | 'copy'

export interface CommandSpec {
  readonly opcode: number
  readonly serviceAction?: number
  readonly serviceActions?: readonly number[]
  readonly length: 6 | 10 | 12 | 16
  readonly direction: DataDirection
  readonly set: CommandSet
  readonly text: string
  readonly access?: 'medium' | 'present'
  readonly feature?: CommandFeature
  readonly timeout?: number
  readonly checkReserved?: boolean
  readonly fields: Readonly<Record<string, CdbField>>
}

const SA = bits(1, 0, 5)

// Fields shared by the block commands (SBC-3 5.x).
const protect = bits(1, 5, 3)
const dpo = flag(1, 4)
const fua = flag(1, 3)
const group = (byte: number) => bits(byte, 0, 5)

export const Commands = {
  TEST_UNIT_READY: { opcode: 0x00, length: 6, direction: 'none', set: 'spc', text: 'TEST UNIT READY', access: 'medium', fields: {} },
  REQUEST_SENSE: {
    opcode: 0x03, length: 6, direction: 'in', set: 'spc', text: 'REQUEST SENSE',
    fields: { desc: flag(1, 0), allocationLength: uint(4, 1) },
  },
  READ_6: {
    opcode: 0x08, length: 6, direction: 'in', set: 'sbc', text: 'READ(6)', access: 'medium',
    fields: { lba: uint(1, 3, 21), blocks: uint(4, 1) },
  },
  WRITE_6: {
    opcode: 0x0a, length: 6, direction: 'out', set: 'sbc', text: 'WRITE(6)', access: 'medium',
    fields: { lba: uint(1, 3, 21), blocks: uint(4, 1) },
  },
  INQUIRY: {
    opcode: 0x12, length: 6, direction: 'in', set: 'spc', text: 'INQUIRY',
    fields: { cmddt: flag(1, 1), evpd: flag(1, 0), pageCode: uint(2, 1), allocationLength: uint(3, 2) },
  },
  MODE_SELECT_6: {
    opcode: 0x15, length: 6, direction: 'out', set: 'spc', text: 'MODE SELECT(6)',
    fields: { pf: flag(1, 4), sp: flag(1, 0), parameterListLength: uint(4, 1) },
  },
  RESERVE_6: {
    opcode: 0x16, length: 6, direction: 'out', set: 'spc', text: 'RESERVE(6)',
    fields: { thirdParty: flag(1, 4), thirdPartyDeviceId: bits(1, 1, 3), extent: flag(1, 0), reservationId: uint(2, 1), parameterListLength: uint(3, 2) },
  },
  RELEASE_6: {
    opcode: 0x17, length: 6, direction: 'none', set: 'spc', text: 'RELEASE(6)',
    fields: { thirdParty: flag(1, 4), thirdPartyDeviceId: bits(1, 1, 3), extent: flag(1, 0), reservationId: uint(2, 1) },
  },
  MODE_SENSE_6: {
    opcode: 0x1a, length: 6, direction: 'in', set: 'spc', text: 'MODE SENSE(6)',
    fields: { dbd: flag(1, 3), pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: uint(3, 1), allocationLength: uint(4, 1) },
  },
  START_STOP_UNIT: {
    opcode: 0x1b, length: 6, direction: 'none', set: 'sbc', text: 'START STOP UNIT', timeout: 60,
    fields: {
      immed: flag(1, 0), powerConditionModifier: bits(3, 0, 4), powerCondition: bits(4, 4, 4),
      noFlush: flag(4, 2), loej: flag(4, 1), start: flag(4, 0),
    },
  },
  PREVENT_ALLOW_MEDIUM_REMOVAL: {
    opcode: 0x1e, length: 6, direction: 'none', set: 'sbc', text: 'PREVENT ALLOW MEDIUM REMOVAL', feature: 'removable',
    fields: { prevent: bits(4, 0, 2) },
  },
  READ_CAPACITY_10: {
    opcode: 0x25, length: 10, direction: 'in', set: 'sbc', text: 'READ CAPACITY(10)', access: 'present',
    fields: { lba: uint(2, 4), pmi: flag(8, 0) },
  },
  READ_10: {
    opcode: 0x28, length: 10, direction: 'in', set: 'sbc', text: 'READ(10)', access: 'medium',
    fields: { rdprotect: protect, dpo, fua, rarc: flag(1, 2), lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  WRITE_10: {
    opcode: 0x2a, length: 10, direction: 'out', set: 'sbc', text: 'WRITE(10)', access: 'medium',
    fields: { wrprotect: protect, dpo, fua, lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  WRITE_AND_VERIFY_10: {
    opcode: 0x2e, length: 10, direction: 'out', set: 'sbc', text: 'WRITE AND VERIFY(10)', access: 'medium',
    fields: { wrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  VERIFY_10: {
    opcode: 0x2f, length: 10, direction: 'out', set: 'sbc', text: 'VERIFY(10)', access: 'medium',
    fields: { vrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  READ_DEFECT_DATA_10: {
    opcode: 0x37, length: 10, direction: 'in', set: 'sbc', text: 'READ DEFECT DATA(10)', access: 'present', checkReserved: true,
    fields: { reqPlist: flag(2, 4), reqGlist: flag(2, 3), defectListFormat: bits(2, 0, 3), allocationLength: uint(7, 2) },
  },
  PRE_FETCH_10: {
    opcode: 0x34, length: 10, direction: 'none', set: 'sbc', text: 'PRE-FETCH(10)', access: 'medium',
    fields: { immed: flag(1, 1), lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  SYNCHRONIZE_CACHE_10: {
    opcode: 0x35, length: 10, direction: 'none', set: 'sbc', text: 'SYNCHRONIZE CACHE(10)', access: 'medium', timeout: 60,
    fields: { immed: flag(1, 1), lba: uint(2, 4), group: group(6), blocks: uint(7, 2) },
  },
  WRITE_SAME_10: {
    opcode: 0x41, length: 10, direction: 'out', set: 'sbc', text: 'WRITE SAME(10)', access: 'medium', timeout: 120,
    fields: {
      wrprotect: protect, anchor: flag(1, 4), unmap: flag(1, 3), pbdata: flag(1, 2), lbdata: flag(1, 1),
      lba: uint(2, 4), group: group(6), blocks: uint(7, 2),
    },
  },
  UNMAP: {
    opcode: 0x42, length: 10, direction: 'out', set: 'sbc', text: 'UNMAP', access: 'medium', feature: 'thin', timeout: 120,
    fields: { anchor: flag(1, 0), group: group(6), parameterListLength: uint(7, 2) },
  },
  SANITIZE: {
    opcode: 0x48, serviceActions: [0x01, 0x02, 0x03, 0x1f], length: 10, direction: 'out', set: 'sbc', text: 'SANITIZE', timeout: 3600, checkReserved: true,
    fields: { immed: flag(1, 7), ause: flag(1, 5), serviceAction: SA, parameterListLength: uint(7, 2) },
  },
  MODE_SELECT_10: {
    opcode: 0x55, length: 10, direction: 'out', set: 'spc', text: 'MODE SELECT(10)',
    fields: { pf: flag(1, 4), sp: flag(1, 0), parameterListLength: uint(7, 2) },
  },
  RESERVE_10: {
    opcode: 0x56, length: 10, direction: 'out', set: 'spc', text: 'RESERVE(10)',
    fields: {
      thirdParty: flag(1, 4), longId: flag(1, 1), extent: flag(1, 0), reservationId: uint(2, 1),
      thirdPartyDeviceId: uint(3, 1), parameterListLength: uint(7, 2),
    },
  },
  RELEASE_10: {
    opcode: 0x57, length: 10, direction: 'out', set: 'spc', text: 'RELEASE(10)',
    fields: {
      thirdParty: flag(1, 4), longId: flag(1, 1), extent: flag(1, 0), reservationId: uint(2, 1),
      thirdPartyDeviceId: uint(3, 1), parameterListLength: uint(7, 2),
    },
  },
  MODE_SENSE_10: {
    opcode: 0x5a, length: 10, direction: 'in', set: 'spc', text: 'MODE SENSE(10)',
    fields: {
      llbaa: flag(1, 4), dbd: flag(1, 3), pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: uint(3, 1),
      allocationLength: uint(7, 2),
    },
  },
  PERSISTENT_RESERVE_IN: {
    opcode: 0x5e, serviceActions: [0x00, 0x01, 0x02, 0x03], length: 10, direction: 'in', set: 'spc', text: 'PERSISTENT RESERVE IN',
    fields: { serviceAction: SA, allocationLength: uint(7, 2) },
  },
  PERSISTENT_RESERVE_OUT: {
    opcode: 0x5f, serviceActions: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07], length: 10, direction: 'out', set: 'spc',
    text: 'PERSISTENT RESERVE OUT',
    fields: { serviceAction: SA, scope: bits(2, 4, 4), type: bits(2, 0, 4), parameterListLength: uint(5, 4) },
  },
  EXTENDED_COPY: {
    opcode: 0x83, serviceAction: 0x00, length: 16, direction: 'out', set: 'spc', text: 'EXTENDED COPY(LID1)', feature: 'copy', timeout: 600,
    fields: { parameterListLength: uint(10, 4) },
  },
  RECEIVE_COPY_RESULTS: {
    opcode: 0x84, serviceActions: [0x00, 0x03, 0x04], length: 16, direction: 'in', set: 'spc', text: 'RECEIVE COPY RESULTS', feature: 'copy',
    fields: { serviceAction: SA, listIdentifier: uint(2, 1), allocationLength: uint(10, 4) },
  },
  READ_16: {
    opcode: 0x88, length: 16, direction: 'in', set: 'sbc', text: 'READ(16)', access: 'medium',
    fields: { rdprotect: protect, dpo, fua, rarc: flag(1, 2), lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  COMPARE_AND_WRITE: {
    opcode: 0x89, length: 16, direction: 'out', set: 'sbc', text: 'COMPARE AND WRITE', access: 'medium',
    fields: { wrprotect: protect, dpo, fua, lba: uint(2, 8), blocks: uint(13, 1), group: group(14) },
  },
  WRITE_16: {
    opcode: 0x8a, length: 16, direction: 'out', set: 'sbc', text: 'WRITE(16)', access: 'medium',
    fields: { wrprotect: protect, dpo, fua, lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  ORWRITE_16: {
    opcode: 0x8b, length: 16, direction: 'out', set: 'sbc', text: 'ORWRITE(16)', access: 'medium',
    fields: { orprotect: protect, dpo, fua, lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  WRITE_AND_VERIFY_16: {
    opcode: 0x8e, length: 16, direction: 'out', set: 'sbc', text: 'WRITE AND VERIFY(16)', access: 'medium',
    fields: { wrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  VERIFY_16: {
    opcode: 0x8f, length: 16, direction: 'out', set: 'sbc', text: 'VERIFY(16)', access: 'medium',
    fields: { vrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  PRE_FETCH_16: {
    opcode: 0x90, length: 16, direction: 'none', set: 'sbc', text: 'PRE-FETCH(16)', access: 'medium',
    fields: { immed: flag(1, 1), lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  SYNCHRONIZE_CACHE_16: {
    opcode: 0x91, length: 16, direction: 'none', set: 'sbc', text: 'SYNCHRONIZE CACHE(16)', access: 'medium', timeout: 60,
    fields: { immed: flag(1, 1), lba: uint(2, 8), blocks: uint(10, 4), group: group(14) },
  },
  WRITE_SAME_16: {
    opcode: 0x93, length: 16, direction: 'out', set: 'sbc', text: 'WRITE SAME(16)', access: 'medium', timeout: 120,
    fields: {
      wrprotect: protect, anchor: flag(1, 4), unmap: flag(1, 3), ndob: flag(1, 0), lba: uint(2, 8), blocks: uint(10, 4),
      group: group(14),
    },
  },
  WRITE_ATOMIC_16: {
    opcode: 0x9c, length: 16, direction: 'out', set: 'sbc', text: 'WRITE ATOMIC(16)', access: 'medium', feature: 'atomic',
    fields: { wrprotect: protect, dpo, fua, lba: uint(2, 8), atomicBoundary: uint(10, 2), blocks: uint(12, 2), group: group(14) },
  },
  READ_CAPACITY_16: {
    opcode: 0x9e, serviceAction: 0x10, length: 16, direction: 'in', set: 'sbc', text: 'READ CAPACITY(16)', access: 'present',
    fields: { lba: uint(2, 8), allocationLength: uint(10, 4), pmi: flag(14, 0) },
  },
  GET_LBA_STATUS: {
    opcode: 0x9e, serviceAction: 0x12, length: 16, direction: 'in', set: 'sbc', text: 'GET LBA STATUS', access: 'medium', feature: 'thin',
    fields: { lba: uint(2, 8), allocationLength: uint(10, 4) },
  },
  REPORT_LUNS: {
    opcode: 0xa0, length: 12, direction: 'in', set: 'spc', text: 'REPORT LUNS',
    fields: { selectReport: uint(2, 1), allocationLength: uint(6, 4) },
  },
  REPORT_SUPPORTED_OPERATION_CODES: {
    opcode: 0xa3, serviceAction: 0x0c, length: 12, direction: 'in', set: 'spc', text: 'REPORT SUPPORTED OPERATION CODES',
    fields: {
      rctd: flag(2, 7), reportingOptions: bits(2, 0, 3), requestedOperationCode: uint(3, 1),
      requestedServiceAction: uint(4, 2), allocationLength: uint(6, 4),
    },
  },
  REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS: {
    opcode: 0xa3, serviceAction: 0x0d, length: 12, direction: 'in', set: 'spc', text: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS',
    fields: { repd: flag(2, 7), allocationLength: uint(6, 4) },
  },
  READ_12: {
    opcode: 0xa8, length: 12, direction: 'in', set: 'sbc', text: 'READ(12)', access: 'medium',
    fields: { rdprotect: protect, dpo, fua, rarc: flag(1, 2), lba: uint(2, 4), blocks: uint(6, 4), group: group(10) },
  },
  WRITE_12: {
    opcode: 0xaa, length: 12, direction: 'out', set: 'sbc', text: 'WRITE(12)', access: 'medium',
    fields: { wrprotect: protect, dpo, fua, lba: uint(2, 4), blocks: uint(6, 4), group: group(10) },
  },
  WRITE_AND_VERIFY_12: {
    opcode: 0xae, length: 12, direction: 'out', set: 'sbc', text: 'WRITE AND VERIFY(12)', access: 'medium',
    fields: { wrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 4), blocks: uint(6, 4), group: group(10) },
  },
  VERIFY_12: {
    opcode: 0xaf, length: 12, direction: 'out', set: 'sbc', text: 'VERIFY(12)', access: 'medium',
    fields: { vrprotect: protect, dpo, bytchk: bits(1, 1, 2), lba: uint(2, 4), blocks: uint(6, 4), group: group(10) },
  },
  READ_DEFECT_DATA_12: {
    opcode: 0xb7, length: 12, direction: 'in', set: 'sbc', text: 'READ DEFECT DATA(12)', access: 'present', checkReserved: true,
    fields: {
      reqPlist: flag(1, 4), reqGlist: flag(1, 3), defectListFormat: bits(1, 0, 3), addressDescriptorIndex: uint(2, 4),
      allocationLength: uint(6, 4),
    },
  },
} as const satisfies Record<string, CommandSpec>

export type CommandName = keyof typeof Commands

export const commandNames = Object.keys(Commands) as CommandName[]

/** The spec of a command, widened to the CommandSpec shape. */
export function commandSpec(name: CommandName): CommandSpec {
  return Commands[name]
}

interface OpcodeEntry {
  /** The command of an opcode without distinct service actions. */
  readonly plain?: CommandName
  /** Commands that are one service action of this opcode. */
  readonly byServiceAction?: ReadonlyMap<number, CommandName>
}

function indexOpcodes(): ReadonlyMap<number, OpcodeEntry> {
  const index = new Map<number, { plain?: CommandName; byServiceAction?: Map<number, CommandName> }>()
  for (const name of commandNames) {
    const spec = commandSpec(name)
    const entry = index.get(spec.opcode) ?? {}
    if (spec.serviceAction === undefined) {
      entry.plain = name
    } else {
      entry.byServiceAction ??= new Map()
      entry.byServiceAction.set(spec.serviceAction, name)
    }
    index.set(spec.opcode, entry)
  }
  return index
}

/** Opcode -> command(s), built once from the table. */
export const opcodeIndex: ReadonlyMap<number, OpcodeEntry> = indexOpcodes()

/** Whether a command's SERVICE ACTION field selects among actions (SERVACTV in SPC-4 6.35.2). */
export function hasServiceActions(spec: CommandSpec): boolean {
  return spec.serviceAction !== undefined || spec.serviceActions !== undefined
}
