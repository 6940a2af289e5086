// The I_T nexus of an iSCSI session as the SCSI layer sees it (RFC 7143 4.4.2, SAM-5 4.6): SCSI initiator port name
// "<InitiatorName>,i,0x<ISID>", SCSI target port name "<TargetName>,t,0x<TPGT>", and the SPC-4 TransportID used by
// persistent reservations (SPC-4 7.6.4.6, iSCSI, format 01b: name plus ISID).
import { encodeIscsiTransportId } from '@iscsi-ts/scsi'
import type { Nexus } from '@iscsi-ts/scsi'

export function isidHex(isid: Buffer): string {
  return isid.toString('hex')
}

export function initiatorPortName(initiatorName: string, isid: Buffer): string {
  return `${initiatorName},i,0x${isidHex(isid)}`
}

export function targetPortName(targetName: string, tpgt: number): string {
  return `${targetName},t,0x${tpgt.toString(16).padStart(4, '0')}`
}

/** iSCSI TransportID, format code 01b (initiator port name with ISID), SPC-4 7.6.4.6, as the scsi package reads it. */
export function iscsiTransportId(initiatorName: string, isid: Buffer): Buffer {
  return encodeIscsiTransportId(initiatorName, isidHex(isid))
}

export function buildNexus(initiatorName: string, isid: Buffer, targetName: string, tpgt: number): Nexus {
  const initiatorPort = initiatorPortName(initiatorName, isid)
  const targetPort = targetPortName(targetName, tpgt)
  return {
    id: `${initiatorPort}|${targetPort}`,
    initiatorPort,
    targetPort,
    relativeTargetPortId: tpgt,
    transportId: iscsiTransportId(initiatorName, isid),
  }
}
