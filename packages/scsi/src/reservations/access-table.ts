// Which commands a reservation lets through, as one declarative table keyed by operation code.
//
// Each entry gives two columns:
// - `spc2`: the command from an I_T nexus other than the holder of an SPC-2 RESERVE(6)/(10) reservation
//   (SPC-4 5.9.1 table 62 and SBC-3 4.17.2 table 13, column "reserved by another I_T nexus" / SPC-2 5.5.1).
// - `pr`: the command from an I_T nexus that does not hold the persistent reservation (SPC-4 5.9.1 table 62, SBC-3
//   4.17.2 table 13):
//   'allowed'  every type lets it through;
//   'read'     the Write Exclusive family lets it through, the Exclusive Access family only for registrants of the
//              registrants-only and all-registrants types (reads, and the commands that REPORT CAPABILITIES lists
//              for ALLOW COMMANDS 011b: MODE SENSE, READ ATTRIBUTE, READ BUFFER, RECEIVE COPY RESULTS, RECEIVE
//              DIAGNOSTIC RESULTS, REPORT SUPPORTED OPERATION CODES, REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS,
//              READ DEFECT DATA, SPC-4 6.15.4 table 174);
//   'write'    only registrants of the registrants-only and all-registrants types;
//   'pr-out'   decided by the PERSISTENT RESERVE OUT service action (SPC-4 5.9.1 table 63).
// RESERVE and RELEASE are 'allowed' here: their handlers apply SPC-2 and the SPC-4 5.9.3 exceptions themselves.
// An operation code missing from the table is treated as 'write' / 'conflict', the most restrictive row.

export type PrAccess = 'allowed' | 'read' | 'write' | 'pr-out'
export type Spc2Access = 'allowed' | 'conflict'

export interface AccessRule {
  readonly pr: PrAccess
  readonly spc2: Spc2Access
}

const ALWAYS: AccessRule = { pr: 'allowed', spc2: 'allowed' }
const PR_ALLOWED: AccessRule = { pr: 'allowed', spc2: 'conflict' }
const READ: AccessRule = { pr: 'read', spc2: 'conflict' }
const WRITE: AccessRule = { pr: 'write', spc2: 'conflict' }
const PR_OUT: AccessRule = { pr: 'pr-out', spc2: 'conflict' }

type Entry = AccessRule | ((cdb: Buffer) => AccessRule)

/** Service action of a 12- or 16-byte service-action command (byte 1, bits 4-0). */
const serviceAction = (cdb: Buffer): number => (cdb[1] ?? 0) & 0x1f

export const ACCESS_TABLE: Readonly<Record<number, Entry>> = {
  0x00: PR_ALLOWED, // TEST UNIT READY: allowed through every PR (SPC-4 table 62), conflicts under SPC-2 RESERVE
  0x03: ALWAYS, // REQUEST SENSE
  0x04: WRITE, // FORMAT UNIT
  0x07: WRITE, // REASSIGN BLOCKS
  0x08: READ, // READ(6)
  0x0a: WRITE, // WRITE(6)
  0x12: ALWAYS, // INQUIRY
  0x15: WRITE, // MODE SELECT(6)
  0x16: ALWAYS, // RESERVE(6): handled by Reservations.reserve
  0x17: ALWAYS, // RELEASE(6): handled by Reservations.release
  0x1a: READ, // MODE SENSE(6)
  // START STOP UNIT: START=1 with POWER CONDITION 0h is allowed everywhere, anything else is a write (SBC-3 table 13)
  0x1b: (cdb) => (((cdb[4] ?? 0) & 0x01) === 1 && ((cdb[4] ?? 0) & 0xf0) === 0 ? ALWAYS : WRITE),
  0x1c: READ, // RECEIVE DIAGNOSTIC RESULTS
  0x1d: WRITE, // SEND DIAGNOSTIC
  // PREVENT ALLOW MEDIUM REMOVAL: PREVENT=00b is allowed everywhere, any prevention is a write (SBC-3 table 13)
  0x1e: (cdb) => (((cdb[4] ?? 0) & 0x03) === 0 ? ALWAYS : WRITE),
  0x25: ALWAYS, // READ CAPACITY(10)
  0x28: READ, // READ(10)
  0x2a: WRITE, // WRITE(10)
  0x2e: WRITE, // WRITE AND VERIFY(10)
  0x2f: READ, // VERIFY(10)
  0x34: READ, // PRE-FETCH(10)
  0x35: WRITE, // SYNCHRONIZE CACHE(10)
  0x37: READ, // READ DEFECT DATA(10)
  0x3b: WRITE, // WRITE BUFFER
  0x3c: READ, // READ BUFFER
  0x3e: READ, // READ LONG(10)
  0x3f: WRITE, // WRITE LONG(10)
  0x41: WRITE, // WRITE SAME(10)
  0x42: WRITE, // UNMAP
  0x48: WRITE, // SANITIZE
  0x4c: WRITE, // LOG SELECT
  0x4d: ALWAYS, // LOG SENSE
  0x55: WRITE, // MODE SELECT(10)
  0x56: ALWAYS, // RESERVE(10): handled by Reservations.reserve
  0x57: ALWAYS, // RELEASE(10): handled by Reservations.release
  0x5a: READ, // MODE SENSE(10)
  0x5e: PR_ALLOWED, // PERSISTENT RESERVE IN (SPC-2 5.5.1: conflicts while an SPC-2 reservation exists)
  0x5f: PR_OUT, // PERSISTENT RESERVE OUT
  // Variable-length CDBs: READ(32) and VERIFY(32) read, everything else (WRITE(32), WRITE SAME(32), ...) writes
  0x7f: (cdb) => {
    const action = ((cdb[8] ?? 0) << 8) | (cdb[9] ?? 0)
    return action === 0x0009 || action === 0x000a ? READ : WRITE
  },
  0x83: WRITE, // EXTENDED COPY
  0x84: READ, // RECEIVE COPY RESULTS
  0x86: ALWAYS, // ACCESS CONTROL IN
  0x87: ALWAYS, // ACCESS CONTROL OUT
  0x88: READ, // READ(16)
  0x89: WRITE, // COMPARE AND WRITE
  0x8a: WRITE, // WRITE(16)
  0x8b: WRITE, // ORWRITE(16)
  0x8c: READ, // READ ATTRIBUTE
  0x8d: WRITE, // WRITE ATTRIBUTE
  0x8e: WRITE, // WRITE AND VERIFY(16)
  0x8f: READ, // VERIFY(16)
  0x90: READ, // PRE-FETCH(16)
  0x91: WRITE, // SYNCHRONIZE CACHE(16)
  0x93: WRITE, // WRITE SAME(16)
  // SERVICE ACTION IN(16): READ CAPACITY(16) is allowed everywhere; GET LBA STATUS, REPORT REFERRALS... read
  0x9e: (cdb) => (serviceAction(cdb) === 0x10 ? ALWAYS : READ),
  0x9f: WRITE, // SERVICE ACTION OUT(16): WRITE LONG(16)
  0xa0: ALWAYS, // REPORT LUNS
  0xa2: READ, // SECURITY PROTOCOL IN
  // MAINTENANCE IN: the REPORT commands about the target are allowed everywhere (SPC-4 table 62); REPORT SUPPORTED
  // OPERATION CODES, REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS and MANAGEMENT PROTOCOL IN read
  0xa3: (cdb) => {
    switch (serviceAction(cdb)) {
      case 0x05: // REPORT IDENTIFYING INFORMATION
      case 0x0a: // REPORT TARGET PORT GROUPS
      case 0x0b: // REPORT ALIASES
      case 0x0e: // REPORT PRIORITY
      case 0x0f: // REPORT TIMESTAMP
        return ALWAYS
      case 0x0c: // REPORT SUPPORTED OPERATION CODES
      case 0x0d: // REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
      case 0x10: // MANAGEMENT PROTOCOL IN
        return READ
      default:
        return WRITE
    }
  },
  0xa4: WRITE, // MAINTENANCE OUT: SET IDENTIFYING INFORMATION, SET TARGET PORT GROUPS, ...
  0xa8: READ, // READ(12)
  0xaa: WRITE, // WRITE(12)
  // SERVICE ACTION IN(12): READ MEDIA SERIAL NUMBER is allowed everywhere
  0xab: (cdb) => (serviceAction(cdb) === 0x01 ? ALWAYS : READ),
  0xae: WRITE, // WRITE AND VERIFY(12)
  0xaf: READ, // VERIFY(12)
  0xb5: WRITE, // SECURITY PROTOCOL OUT
  0xb7: READ, // READ DEFECT DATA(12)
}

const UNKNOWN: AccessRule = WRITE

/** The access rule for a CDB; never throws, whatever the CDB holds. */
export function accessRule(cdb: Buffer): AccessRule {
  const entry = ACCESS_TABLE[cdb[0] ?? -1]
  if (entry === undefined) return UNKNOWN
  return typeof entry === 'function' ? entry(cdb) : entry
}
