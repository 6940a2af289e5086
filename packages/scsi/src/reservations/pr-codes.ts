// Code tables of the persistent reservation commands: PERSISTENT RESERVE IN service actions (SPC-4 6.15.1, table
// 167), PERSISTENT RESERVE OUT service actions (SPC-4 6.16.1, table 180) and persistent reservation types (SPC-4
// 6.15.3.3, table 171), each type with the traits that drive access control and release.

export const PrInServiceAction = {
  READ_KEYS: 0x00,
  READ_RESERVATION: 0x01,
  REPORT_CAPABILITIES: 0x02,
  READ_FULL_STATUS: 0x03,
} as const
export type PrInServiceActionName = keyof typeof PrInServiceAction

export const PrOutServiceAction = {
  REGISTER: 0x00,
  RESERVE: 0x01,
  RELEASE: 0x02,
  CLEAR: 0x03,
  PREEMPT: 0x04,
  PREEMPT_AND_ABORT: 0x05,
  REGISTER_AND_IGNORE_EXISTING_KEY: 0x06,
  REGISTER_AND_MOVE: 0x07,
} as const
export type PrOutServiceActionName = keyof typeof PrOutServiceAction
export type PrOutServiceActionValue = (typeof PrOutServiceAction)[PrOutServiceActionName]

export const PrType = {
  WRITE_EXCLUSIVE: 0x1,
  EXCLUSIVE_ACCESS: 0x3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x8,
} as const
export type PrTypeName = keyof typeof PrType
export type PrTypeValue = (typeof PrType)[PrTypeName]

/** The only scope SPC-4 keeps (6.15.3.3, table 170): the whole logical unit. */
export const LU_SCOPE = 0x0

export interface PrTypeTraits {
  /** Reads pass for I_T nexuses that are not holders (Write Exclusive family). */
  readonly writeExclusive: boolean
  /** 'none': one holder; 'registrants-only': registrants get access; 'all-registrants': every registrant holds it. */
  readonly registrants: 'none' | 'registrants-only' | 'all-registrants'
  /** Bit of the PERSISTENT RESERVATION TYPE MASK field of REPORT CAPABILITIES (SPC-4 6.15.4, table 176): bytes 4-5 as a big-endian 16-bit word. */
  readonly mask: number
}

export const PR_TYPE_TRAITS: Readonly<Record<PrTypeValue, PrTypeTraits>> = {
  [PrType.WRITE_EXCLUSIVE]: { writeExclusive: true, registrants: 'none', mask: 0x0200 },
  [PrType.EXCLUSIVE_ACCESS]: { writeExclusive: false, registrants: 'none', mask: 0x0800 },
  [PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY]: { writeExclusive: true, registrants: 'registrants-only', mask: 0x2000 },
  [PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY]: { writeExclusive: false, registrants: 'registrants-only', mask: 0x4000 },
  [PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS]: { writeExclusive: true, registrants: 'all-registrants', mask: 0x8000 },
  [PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS]: { writeExclusive: false, registrants: 'all-registrants', mask: 0x0001 },
}

export function isPrType(value: number): value is PrTypeValue {
  return Object.prototype.hasOwnProperty.call(PR_TYPE_TRAITS, value)
}
