// Display names for SCSI codes the CLI prints. Decoding stays in @iscsi-ts/scsi and @iscsi-ts/initiator; these are
// only the words people expect next to the numbers.

/** Peripheral device types (SPC-4 6.6.2 table 138), short names as `lsscsi` prints them. */
export const DeviceType = {
  0x00: 'disk',
  0x01: 'tape',
  0x02: 'printer',
  0x03: 'processor',
  0x04: 'worm',
  0x05: 'cd/dvd',
  0x07: 'optical',
  0x08: 'changer',
  0x0c: 'controller',
  0x0d: 'enclosure',
  0x0e: 'rbc',
  0x0f: 'card',
  0x11: 'osd',
  0x12: 'adc',
  0x13: 'security',
  0x14: 'zbc',
  0x1e: 'wlun',
  0x1f: 'no-device',
} as const satisfies Record<number, string>

export function deviceTypeName(type: number): string {
  return (DeviceType as Record<number, string>)[type] ?? `type 0x${type.toString(16).padStart(2, '0')}`
}

/** Device types that answer READ CAPACITY (16): SBC direct-access and simplified direct-access, ZBC. */
export function hasBlockCapacity(type: number): boolean {
  return type === 0x00 || type === 0x0e || type === 0x14
}

/** VPD page names (SPC-4 7.8, SBC-3 6.6). */
export const VpdPageName = {
  0x00: 'supported VPD pages',
  0x80: 'unit serial number',
  0x83: 'device identification',
  0x84: 'software interface identification',
  0x85: 'management network addresses',
  0x86: 'extended INQUIRY data',
  0x87: 'mode page policy',
  0x88: 'SCSI ports',
  0x89: 'ATA information',
  0x8a: 'power condition',
  0x8f: 'third-party copy',
  0xb0: 'block limits',
  0xb1: 'block device characteristics',
  0xb2: 'logical block provisioning',
  0xb3: 'referrals',
} as const satisfies Record<number, string>

export function vpdPageName(page: number): string {
  return (VpdPageName as Record<number, string>)[page] ?? 'vendor or unknown page'
}

/** Persistent reservation types (SPC-4 6.15.2 table 170) with the names sg_persist accepts. */
export const ReservationType = {
  'write-exclusive': 0x1,
  'exclusive-access': 0x3,
  'write-exclusive-registrants-only': 0x5,
  'exclusive-access-registrants-only': 0x6,
  'write-exclusive-all-registrants': 0x7,
  'exclusive-access-all-registrants': 0x8,
} as const

export type ReservationTypeName = keyof typeof ReservationType

/** Short aliases: `we`, `ea`, `we-ro`, `ea-ro`, `we-ar`, `ea-ar` (and sg_persist's numeric codes). */
const TYPE_ALIASES: Record<string, ReservationTypeName> = {
  we: 'write-exclusive',
  ea: 'exclusive-access',
  'we-ro': 'write-exclusive-registrants-only',
  'ea-ro': 'exclusive-access-registrants-only',
  'we-ar': 'write-exclusive-all-registrants',
  'ea-ar': 'exclusive-access-all-registrants',
}

/** Type code of a name, alias or number; undefined when unknown. */
export function reservationTypeCode(text: string): number | undefined {
  const lower = text.trim().toLowerCase()
  if (/^(0x)?[0-9a-f]$/.test(lower)) {
    const code = Number.parseInt(lower.replace(/^0x/, ''), 16)
    return Object.values(ReservationType).includes(code as never) ? code : undefined
  }
  const name = (lower in ReservationType ? lower : TYPE_ALIASES[lower]) as ReservationTypeName | undefined
  return name === undefined ? undefined : ReservationType[name]
}

export function reservationTypeName(code: number): string {
  const entry = Object.entries(ReservationType).find(([, value]) => value === code)
  return entry?.[0] ?? `type 0x${code.toString(16)}`
}

/** Designator types of the device identification VPD page (SPC-4 7.8.6.1 table 592). */
const DesignatorType: Record<number, string> = {
  0x0: 'vendor specific',
  0x1: 'T10 vendor ID',
  0x2: 'EUI-64',
  0x3: 'NAA',
  0x4: 'relative target port',
  0x5: 'target port group',
  0x6: 'logical unit group',
  0x7: 'MD5 logical unit',
  0x8: 'SCSI name string',
  0x9: 'protocol specific port',
  0xa: 'UUID',
}

/** Associations of a designator (SPC-4 7.8.6.1 table 591). */
const DesignatorAssociation: Record<number, string> = { 0: 'logical unit', 1: 'target port', 2: 'target device' }

/** Code sets (SPC-4 7.8.6.1 table 590). */
const CodeSet: Record<number, string> = { 1: 'binary', 2: 'ASCII', 3: 'UTF-8' }

/** Protocol identifiers (SPC-4 7.6.1 table 360), the common ones. */
const ProtocolIdentifier: Record<number, string> = { 0: 'Fibre Channel', 1: 'parallel SCSI', 4: 'SRP', 5: 'iSCSI', 6: 'SAS', 0xa: 'USB', 0xb: 'SOP' }

export function designatorTypeName(type: number): string {
  return DesignatorType[type] ?? `type 0x${type.toString(16)}`
}
export function associationName(association: number): string {
  return DesignatorAssociation[association] ?? `association ${association}`
}
export function codeSetName(codeSet: number): string {
  return CodeSet[codeSet] ?? `code set ${codeSet}`
}
export function protocolName(protocol: number): string {
  return ProtocolIdentifier[protocol] ?? `protocol 0x${protocol.toString(16)}`
}
