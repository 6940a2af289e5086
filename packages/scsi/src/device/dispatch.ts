// The handler of every command of the opcode table (tgt's usr/sbc.c table, in TypeScript): SPC handlers are shared
// by the block device, block handlers are shared across CDB sizes. HandlerTable makes the compiler check that no
// command of cdb/commands.ts is left without one.
import { compareAndWrite } from './compare-and-write.js'
import type { HandlerTable } from './context.js'
import { extendedCopy, persistentReserveIn, persistentReserveOut, receiveCopyResults, release, reserve } from './delegated.js'
import { inquiry } from './inquiry.js'
import { preventAllowMediumRemoval, startStopUnit } from './medium.js'
import { modeSelect, modeSense } from './mode-sense-select.js'
import { getLbaStatus, unmap, writeSame } from './provisioning.js'
import { readCapacity10, readCapacity16 } from './read-capacity.js'
import { readDefectData } from './read-defect-data.js'
import { orwrite, preFetch, read, synchronizeCache, verify, write, writeAndVerify, writeAtomic } from './read-write.js'
import { reportLuns, testUnitReady } from './report-luns.js'
import { reportSupportedOperationCodes, reportSupportedTaskManagementFunctions } from './report-supported.js'
import { requestSense } from './request-sense.js'
import { sanitize } from './sanitize.js'

export const handlers: HandlerTable = {
  TEST_UNIT_READY: testUnitReady,
  REQUEST_SENSE: requestSense,
  INQUIRY: inquiry,
  REPORT_LUNS: (context) => reportLuns(context, context.device),
  REPORT_SUPPORTED_OPERATION_CODES: reportSupportedOperationCodes,
  REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS: reportSupportedTaskManagementFunctions,
  MODE_SENSE_6: modeSense,
  MODE_SENSE_10: modeSense,
  MODE_SELECT_6: modeSelect,
  MODE_SELECT_10: modeSelect,
  PERSISTENT_RESERVE_IN: persistentReserveIn,
  PERSISTENT_RESERVE_OUT: persistentReserveOut,
  RESERVE_6: reserve,
  RESERVE_10: reserve,
  RELEASE_6: release,
  RELEASE_10: release,
  EXTENDED_COPY: extendedCopy,
  RECEIVE_COPY_RESULTS: receiveCopyResults,
  READ_CAPACITY_10: readCapacity10,
  READ_CAPACITY_16: readCapacity16,
  START_STOP_UNIT: startStopUnit,
  PREVENT_ALLOW_MEDIUM_REMOVAL: preventAllowMediumRemoval,
  READ_6: read,
  READ_10: read,
  READ_12: read,
  READ_16: read,
  WRITE_6: write,
  WRITE_10: write,
  WRITE_12: write,
  WRITE_16: write,
  WRITE_AND_VERIFY_10: writeAndVerify,
  WRITE_AND_VERIFY_12: writeAndVerify,
  WRITE_AND_VERIFY_16: writeAndVerify,
  VERIFY_10: verify,
  VERIFY_12: verify,
  VERIFY_16: verify,
  ORWRITE_16: orwrite,
  WRITE_ATOMIC_16: writeAtomic,
  COMPARE_AND_WRITE: compareAndWrite,
  READ_DEFECT_DATA_10: readDefectData,
  READ_DEFECT_DATA_12: readDefectData,
  PRE_FETCH_10: preFetch,
  PRE_FETCH_16: preFetch,
  SYNCHRONIZE_CACHE_10: synchronizeCache,
  SYNCHRONIZE_CACHE_16: synchronizeCache,
  UNMAP: unmap,
  WRITE_SAME_10: writeSame,
  WRITE_SAME_16: writeSame,
  GET_LBA_STATUS: getLbaStatus,
  SANITIZE: sanitize,
}
