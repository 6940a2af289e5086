// INQUIRY (SPC-4 6.4): standard data, or the VPD page EVPD=1 asks for (SPC-4 7.8, SBC-3 6.5).
import { invalidField } from '../cdb/cdb.js'
import type { CommandContext, DeviceView, Outcome } from './context.js'
import {
  DIRECT_ACCESS_BLOCK_DEVICE,
  NO_LOGICAL_UNIT,
  asciiField,
  blockDeviceCharacteristics,
  blockLimits,
  deviceIdentification,
  extendedInquiry,
  logicalBlockProvisioning,
  standardInquiry,
  vpdPage,
} from './inquiry-data.js'
import type { UnitState } from './unit-state.js'
import type { UnitIdentity } from './identity.js'

/** VPD page codes served (SPC-4 7.8.1 table 583, SBC-3 6.5.1 table 181), ascending as page 00h lists them. */
export const VpdPage = {
  SUPPORTED_VPD_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  EXTENDED_INQUIRY_DATA: 0x86,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const

const supportedPages = Object.values(VpdPage)

/** Checks shared by every INQUIRY: CMDDT is obsolete, PAGE CODE needs EVPD (SPC-4 6.4.1). */
function checkInquiry(context: CommandContext<'INQUIRY'>): void {
  const { cdb } = context
  if (cdb.cmddt) throw invalidField('INQUIRY', 'cmddt', 'CMDDT is obsolete')
  if (!cdb.evpd && cdb.pageCode !== 0) throw invalidField('INQUIRY', 'pageCode', 'PAGE CODE without EVPD')
}

/** INQUIRY addressed to a LUN with no logical unit: peripheral qualifier 011b, type 1Fh (SPC-4 6.4.2). */
export function inquiryWithoutUnit(context: Omit<CommandContext<'INQUIRY'>, 'unit'>, device: DeviceView): Outcome {
  checkInquiry(context as CommandContext<'INQUIRY'>)
  if (context.cdb.evpd) {
    // Only the list of pages: every other page describes a logical unit that is not there.
    if (context.cdb.pageCode !== VpdPage.SUPPORTED_VPD_PAGES) throw invalidField('INQUIRY', 'pageCode', 'no logical unit at this LUN')
    return { data: vpdPage(NO_LOGICAL_UNIT, VpdPage.SUPPORTED_VPD_PAGES, Buffer.from([VpdPage.SUPPORTED_VPD_PAGES])) }
  }
  return {
    data: standardInquiry({
      peripheral: NO_LOGICAL_UNIT,
      removable: false,
      thirdPartyCopy: false,
      vendor: device.vendor,
      product: device.product,
      revision: device.revision,
      versionDescriptors: device.versionDescriptors,
    }),
  }
}

export function inquiry(context: CommandContext<'INQUIRY'>): Outcome {
  checkInquiry(context)
  const { cdb, unit } = context
  const identity = unit.identity
  const peripheral = DIRECT_ACCESS_BLOCK_DEVICE
  if (!cdb.evpd) {
    return {
      data: standardInquiry({
        peripheral,
        removable: unit.removable,
        thirdPartyCopy: true,
        vendor: identity.vendor,
        product: identity.product,
        revision: identity.revision,
        versionDescriptors: context.device.versionDescriptors,
      }),
    }
  }
  return { data: vpdPage(peripheral, cdb.pageCode, vpdBody(cdb.pageCode, context, unit, identity)) }
}

function vpdBody(page: number, context: CommandContext<'INQUIRY'>, unit: UnitState, identity: UnitIdentity): Buffer {
  switch (page) {
    case VpdPage.SUPPORTED_VPD_PAGES:
      return Buffer.from(supportedPages)
    case VpdPage.UNIT_SERIAL_NUMBER:
      return asciiField(identity.serial, identity.serial.length)
    case VpdPage.DEVICE_IDENTIFICATION:
      return deviceIdentification({ naa: identity.naa, vendor: identity.vendor, serial: identity.serial, nexus: context.nexus })
    case VpdPage.EXTENDED_INQUIRY_DATA:
      return extendedInquiry()
    case VpdPage.BLOCK_LIMITS:
      return blockLimits(unit.limits)
    case VpdPage.BLOCK_DEVICE_CHARACTERISTICS:
      return blockDeviceCharacteristics()
    case VpdPage.LOGICAL_BLOCK_PROVISIONING:
      return logicalBlockProvisioning(unit.thin)
    default:
      throw invalidField('INQUIRY', 'pageCode', `VPD page 0x${page.toString(16)} is not supported`)
  }
}
