// TransportIDs (SPC-4 7.6.4): how PERSISTENT RESERVE OUT names initiator ports (SPEC_I_PT, REGISTER AND MOVE) and how
// READ FULL STATUS reports them. iSCSI TransportIDs (SPC-4 7.6.4.6, table 514/515) are variable length and carry the
// iSCSI name, optionally followed by ",i,0x<ISID>" (format 01b); the other protocols this module accepts use the
// fixed 24-byte form. An initiator port is compared through its identity: iSCSI names compare case-insensitively
// (RFC 3722 normalises them to lower case) and a name without ISID stands for every port of that initiator device.
import type { Nexus } from '../device/nexus.js'

/** PROTOCOL IDENTIFIER values (SPC-4 7.6.1, table 503). */
export const ProtocolId = {
  FCP: 0x0,
  SSA: 0x2,
  SBP: 0x3,
  SRP: 0x4,
  ISCSI: 0x5,
  SAS: 0x6,
  ADT: 0x7,
  ATA: 0x8,
  UAS: 0x9,
  SOP: 0xa,
} as const

/** Protocols whose TransportID is the fixed 24-byte format 00b (SPC-4 7.6.4.2 to 7.6.4.7). */
const FIXED_24 = new Set<number>([ProtocolId.FCP, ProtocolId.SBP, ProtocolId.SRP, ProtocolId.SAS, ProtocolId.SOP])

/** Longest iSCSI name (RFC 7143 4.2.7.1: 223 bytes) plus ",i,0x" and 12 ISID digits, a NUL, and padding. */
const ISCSI_MAX_ADDITIONAL_LENGTH = 244
const ISCSI_MIN_ADDITIONAL_LENGTH = 20
const ISCSI_MAX_NAME = 223

export type InitiatorIdentity =
  | { readonly kind: 'iscsi'; readonly name: string; readonly isid: string | undefined }
  | { readonly kind: 'fixed'; readonly protocol: number; readonly key: string }

export interface TransportId {
  /** The TransportID bytes exactly as they occupy the parameter list (padding included). */
  readonly bytes: Buffer
  readonly protocol: number
  readonly identity: InitiatorIdentity
}

/** Why a TransportID was refused, and at which byte of it. */
export interface TransportIdProblem {
  readonly byte: number
  readonly reason: string
}

export type DecodeResult = { readonly ok: true; readonly value: TransportId; readonly bytesRead: number } | { readonly ok: false; readonly problem: TransportIdProblem }

/** Decode one TransportID at `offset`, never reading past `end`. Bounds-checked; a bad TransportID is a problem, not a throw. */
export function decodeTransportId(buf: Buffer, offset = 0, end = buf.length): DecodeResult {
  const limit = Math.min(end, buf.length)
  if (offset + 4 > limit) return { ok: false, problem: { byte: offset, reason: 'TransportID truncated' } }
  const first = buf[offset] ?? 0
  const format = first >> 6
  const protocol = first & 0x0f
  if (protocol === ProtocolId.ISCSI) {
    if (format !== 0 && format !== 1) return { ok: false, problem: { byte: offset, reason: `iSCSI TransportID format ${format} is reserved` } }
    const additional = buf.readUInt16BE(offset + 2)
    if (additional < ISCSI_MIN_ADDITIONAL_LENGTH || additional % 4 !== 0 || additional > ISCSI_MAX_ADDITIONAL_LENGTH) {
      return { ok: false, problem: { byte: offset + 2, reason: `iSCSI TransportID ADDITIONAL LENGTH ${additional} is invalid` } }
    }
    const total = 4 + additional
    if (offset + total > limit) return { ok: false, problem: { byte: offset + 2, reason: 'iSCSI TransportID runs past the parameter list' } }
    const body = buf.subarray(offset + 4, offset + total)
    const nul = body.indexOf(0)
    if (nul <= 0) return { ok: false, problem: { byte: offset + 4, reason: 'iSCSI TransportID name is empty or not NUL-terminated' } }
    const text = body.subarray(0, nul).toString('utf8')
    const identity = format === 0 ? iscsiIdentityOfName(text) : iscsiIdentityOfPort(text)
    if (identity === undefined) return { ok: false, problem: { byte: offset + 4, reason: `iSCSI TransportID names no valid initiator: ${JSON.stringify(text.slice(0, 64))}` } }
    return { ok: true, value: { bytes: Buffer.from(buf.subarray(offset, offset + total)), protocol, identity }, bytesRead: total }
  }
  if (FIXED_24.has(protocol)) {
    if (format !== 0) return { ok: false, problem: { byte: offset, reason: `TransportID format ${format} is reserved for protocol ${protocol}` } }
    if (offset + 24 > limit) return { ok: false, problem: { byte: offset, reason: 'TransportID truncated' } }
    const bytes = Buffer.from(buf.subarray(offset, offset + 24))
    return { ok: true, value: { bytes, protocol, identity: { kind: 'fixed', protocol, key: bytes.toString('hex') } }, bytesRead: 24 }
  }
  return { ok: false, problem: { byte: offset, reason: `TransportID protocol identifier ${protocol} is not supported` } }
}

/** An iSCSI TransportID: format 00b (name only) or, with an ISID, format 01b (SPC-4 7.6.4.6). */
export function encodeIscsiTransportId(name: string, isid?: string): Buffer {
  const text = isid === undefined ? name : `${name},i,0x${isid}`
  const raw = Buffer.from(text, 'utf8')
  const additional = Math.max(ISCSI_MIN_ADDITIONAL_LENGTH, Math.ceil((raw.length + 1) / 4) * 4)
  const out = Buffer.alloc(4 + additional)
  out[0] = (isid === undefined ? 0x00 : 0x40) | ProtocolId.ISCSI
  out.writeUInt16BE(additional, 2)
  raw.copy(out, 4)
  return out
}

function iscsiIdentityOfName(name: string): InitiatorIdentity | undefined {
  if (name.length === 0 || Buffer.byteLength(name) > ISCSI_MAX_NAME) return undefined
  return { kind: 'iscsi', name: name.toLowerCase(), isid: undefined }
}

/** "name,i,0x<isid>" (RFC 7143 13.7 / SPC-4 7.6.4.6): the ISID is six bytes, twelve hex digits. */
function iscsiIdentityOfPort(text: string): InitiatorIdentity | undefined {
  const match = /^(.+),i,0x([0-9a-fA-F]{1,12})$/.exec(text)
  if (match === null) return undefined
  const name = match[1] ?? ''
  const isid = (match[2] ?? '').toLowerCase().padStart(12, '0')
  if (Buffer.byteLength(name) > ISCSI_MAX_NAME) return undefined
  return { kind: 'iscsi', name: name.toLowerCase(), isid }
}

/**
 * The TransportID of a nexus's initiator port: its own `transportId` when that decodes, else one built from the
 * initiator port name ("name,i,0x<isid>" gives format 01b; any other string is taken as a bare name, format 00b).
 */
export function transportIdOfNexus(nexus: Nexus): TransportId {
  let cached = cache.get(nexus)
  if (cached === undefined) cache.set(nexus, (cached = computeTransportIdOfNexus(nexus)))
  return cached
}

/** Access checks run for every command; a nexus object keeps its TransportID for its whole life. */
const cache = new WeakMap<Nexus, TransportId>()

function computeTransportIdOfNexus(nexus: Nexus): TransportId {
  const own = nexus.transportId
  if (own.length > 0) {
    const decoded = decodeTransportId(own)
    if (decoded.ok) return decoded.value
  }
  const port = iscsiIdentityOfPort(nexus.initiatorPort)
  const bytes =
    port !== undefined && port.kind === 'iscsi' && port.isid !== undefined
      ? encodeIscsiTransportId(port.name, port.isid)
      : // Not an iSCSI port name: keep it as an opaque name so that the same nexus always maps to the same identity.
        encodeIscsiTransportId(opaqueName(nexus.initiatorPort.length === 0 ? nexus.id : nexus.initiatorPort))
  // Decoding what was just encoded keeps the identity exactly what a TransportID read back from a store gives.
  const decoded = decodeTransportId(bytes)
  if (decoded.ok) return decoded.value
  const fallback = encodeIscsiTransportId('?')
  return { bytes: fallback, protocol: ProtocolId.ISCSI, identity: { kind: 'iscsi', name: '?', isid: undefined } }
}

/** A string usable as a TransportID name: no NUL, at most 223 bytes, never empty. */
function opaqueName(raw: string): string {
  let text = raw.replaceAll('\0', '?')
  while (Buffer.byteLength(text) > ISCSI_MAX_NAME) text = text.slice(0, -1)
  return text.length === 0 ? '?' : text
}

/** `registered` stands for `port`: same port, or a name-only registration of the port's initiator device. */
export function coversInitiator(registered: InitiatorIdentity, port: InitiatorIdentity): boolean {
  if (registered.kind === 'fixed' || port.kind === 'fixed') {
    return registered.kind === 'fixed' && port.kind === 'fixed' && registered.key === port.key
  }
  if (registered.name !== port.name) return false
  return registered.isid === undefined || registered.isid === port.isid
}

/** The two identities may name a common initiator port (used to refuse a second registration of one I_T nexus). */
export function overlapsInitiator(a: InitiatorIdentity, b: InitiatorIdentity): boolean {
  return coversInitiator(a, b) || coversInitiator(b, a)
}

/** Exactly the same initiator port. */
export function sameInitiator(a: InitiatorIdentity, b: InitiatorIdentity): boolean {
  if (a.kind === 'fixed' || b.kind === 'fixed') return a.kind === 'fixed' && b.kind === 'fixed' && a.key === b.key
  return a.name === b.name && a.isid === b.isid
}
