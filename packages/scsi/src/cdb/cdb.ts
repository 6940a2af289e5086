// CDB parsing and building over the opcode table. `parseCdb` turns CDB bytes into a union keyed by command name,
// every field typed from the table; `buildCdb` (and the named builders in builders.ts) writes them back.
import { CheckCondition } from '../errors.js'
import { type CommandName, type Commands, commandSpec, opcodeIndex } from './commands.js'
import { type CdbField, type FieldInput, type FieldValue, fieldPointer, markField, readField, writeField } from './fields.js'

type FieldsOf<N extends CommandName> = (typeof Commands)[N]['fields']

/** A parsed CDB of one command: its name, opcode, control byte and every field of the table. */
export type CdbOf<N extends CommandName> = N extends CommandName
  ? {
      readonly name: N
      readonly opcode: number
      /** CONTROL byte (SAM-5 5.2): NACA is bit 2. */
      readonly control: number
    } & { readonly [K in keyof FieldsOf<N>]: FieldValue<FieldsOf<N>[K]> }
  : never

/** Any parsed CDB, discriminated by `name`. */
export type ParsedCdb = CdbOf<CommandName>

/** What `buildCdb` takes for a command: any subset of its fields (the rest are zero) and the control byte. */
export type CdbInput<N extends CommandName> = { readonly control?: number } & {
  readonly [K in keyof FieldsOf<N>]?: FieldInput<FieldsOf<N>[K]>
}

const SERVICE_ACTION_POINTER = { inCdb: true, byte: 1, bit: 4 } as const

/** The command a CDB names, by opcode and service action. Throws the CHECK CONDITION a device server answers. */
export function commandOf(cdb: Buffer): CommandName {
  if (cdb.length === 0) throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_COMMAND_OPERATION_CODE', { message: 'empty CDB' })
  const opcode = cdb[0]!
  const entry = opcodeIndex.get(opcode)
  if (entry === undefined) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_COMMAND_OPERATION_CODE', { message: `opcode 0x${opcode.toString(16).padStart(2, '0')} is not supported` })
  }
  if (entry.byServiceAction !== undefined) {
    // SPC-4 4.2.5.2: an unsupported service action of a supported opcode is an invalid field in the CDB.
    const serviceAction = (cdb[1] ?? 0) & 0x1f
    const name = entry.byServiceAction.get(serviceAction) ?? entry.plain
    if (name === undefined) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', {
        fieldPointer: SERVICE_ACTION_POINTER,
        message: `service action 0x${serviceAction.toString(16)} of opcode 0x${opcode.toString(16)} is not supported`,
      })
    }
    return name
  }
  return entry.plain!
}

/**
 * Parse a CDB (which may be longer than the command's CDB, as in the 16-byte iSCSI CDB field). Unknown opcodes,
 * unknown service actions and truncated CDBs throw the CheckCondition a device server answers with.
 */
export function parseCdb(cdb: Buffer): ParsedCdb {
  const name = commandOf(cdb)
  const spec = commandSpec(name)
  if (cdb.length < spec.length) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', { message: `${spec.text} needs a ${spec.length}-byte CDB, got ${cdb.length}` })
  }
  const parsed: Record<string, unknown> = { name, opcode: spec.opcode, control: cdb[spec.length - 1]! }
  for (const [field, layout] of layoutOf(name).fields) parsed[field] = readField(cdb, layout)
  if (spec.serviceActions !== undefined && !spec.serviceActions.includes(parsed.serviceAction as number)) {
    throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', {
      fieldPointer: SERVICE_ACTION_POINTER,
      message: `${spec.text} service action 0x${(parsed.serviceAction as number).toString(16)} is not supported`,
    })
  }
  return parsed as ParsedCdb
}

/** What parsing and the reserved-bit check need of a command's table entry, worked out once per command. */
interface CdbLayout {
  readonly fields: ReadonlyArray<readonly [string, CdbField]>
  /** Bits some field covers, per CDB byte. */
  readonly used: Buffer
}

const layouts = new Map<CommandName, CdbLayout>()

function layoutOf(name: CommandName): CdbLayout {
  let layout = layouts.get(name)
  if (layout === undefined) {
    const spec = commandSpec(name)
    const fields = Object.entries(spec.fields)
    const used = Buffer.alloc(spec.length)
    for (const [, field] of fields) markField(used, field)
    layout = { fields, used }
    layouts.set(name, layout)
  }
  return layout
}

/**
 * Refuse a CDB of a command that checks its reserved bits (`checkReserved` in the table) when any bit of bytes 1 to
 * length-2 that no field covers is set: INVALID FIELD IN CDB pointing at the most significant such bit (SPC-4 3.3.9
 * lets a recipient check reserved fields; 4.5.2.4.2 field pointer).
 */
export function checkReservedBits(name: CommandName, cdb: Buffer): void {
  const spec = commandSpec(name)
  if (spec.checkReserved !== true) return
  const used = layoutOf(name).used
  for (let byte = 1; byte < spec.length - 1; byte++) {
    const reserved = (cdb[byte] ?? 0) & ~used[byte]! & 0xff
    if (reserved !== 0) {
      throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', {
        fieldPointer: { inCdb: true, byte, bit: 31 - Math.clz32(reserved) },
        message: `${spec.text}: reserved bits 0x${reserved.toString(16).padStart(2, '0')} set in CDB byte ${byte}`,
      })
    }
  }
}

/** Codec form of parseCdb: the parsed CDB and the bytes it used. */
export function decodeCdb(buf: Buffer, offset = 0): { value: ParsedCdb; bytesRead: number } {
  const value = parseCdb(offset === 0 ? buf : buf.subarray(offset))
  return { value, bytesRead: commandSpec(value.name).length }
}

/** CDB length of a command. */
export function cdbEncodingLength(name: CommandName): number {
  return commandSpec(name).length
}

/** Build the CDB of a command from its fields (absent fields are zero). Bad field values are a RangeError/TypeError. */
export function buildCdb<N extends CommandName>(name: N, fields: CdbInput<N> = {} as CdbInput<N>): Buffer {
  const spec = commandSpec(name)
  const cdb = Buffer.alloc(spec.length)
  cdb[0] = spec.opcode
  if (spec.serviceAction !== undefined) cdb[1] = spec.serviceAction
  const input = fields as Readonly<Record<string, number | boolean | bigint | undefined>>
  for (const [field, layout] of Object.entries(spec.fields)) {
    const value = input[field]
    if (value !== undefined) writeField(cdb, layout, value, field)
  }
  if (input.control !== undefined) {
    const control = input.control
    if (typeof control !== 'number' || !Number.isInteger(control) || control < 0 || control > 0xff) throw new RangeError(`control ${String(control)} out of range`)
    cdb[spec.length - 1] = control
  }
  return cdb
}

/** Encode a parsed CDB back to bytes (`encodeCdb(parseCdb(b))` equals the first CDB-length bytes of `b` on the fields the table knows). */
export function encodeCdb(cdb: ParsedCdb): Buffer {
  return buildCdb(cdb.name, cdb as CdbInput<typeof cdb.name>)
}

/** The field pointer of a command's field, for INVALID FIELD IN CDB. */
export function cdbFieldPointer<N extends CommandName>(name: N, field: keyof FieldsOf<N> & string) {
  const layout = commandSpec(name).fields[field]
  if (layout === undefined) throw new TypeError(`${name} has no field ${field}`)
  return fieldPointer(layout)
}

/** ILLEGAL REQUEST, INVALID FIELD IN CDB pointing at a command's field (SPC-4 4.5.2.4.2). */
export function invalidField<N extends CommandName>(name: N, field: keyof FieldsOf<N> & string, message?: string): CheckCondition {
  return new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_CDB', {
    fieldPointer: cdbFieldPointer(name, field),
    message: message ?? `${commandSpec(name).text}: invalid ${field}`,
  })
}
