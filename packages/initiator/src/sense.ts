// Sense data as the initiator reports it: @iscsi-ts/scsi's decoder (SPC-4 4.5, fixed and descriptor formats), made
// total: a target that sends garbage sense still yields a DecodedSense (key 0, a text saying what was wrong) rather
// than an exception in the middle of completing a command.
import { decodeSense as decodeScsiSense, type DecodedSense } from '@iscsi-ts/scsi'

export type { DecodedSense }

export function decodeSense(data: Buffer): DecodedSense {
  try {
    return decodeScsiSense(data)
  } catch (error) {
    return {
      format: 'fixed',
      key: 0,
      asc: 0,
      ascq: 0,
      keyName: undefined,
      ascName: undefined,
      text: `undecodable sense data (${(error as Error).message}): ${data.subarray(0, 32).toString('hex')}`,
      length: data.length,
    }
  }
}
