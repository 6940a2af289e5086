// Public names of the copy module: EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18).
export { CopyManager, COPY_DEFAULTS } from './extended-copy.js'
export type { CopyUnit, CopyManagerOptions } from './extended-copy.js'
export { CopyManagerStatus, ReceiveCopyResultsAction } from './copy-results.js'
export type { OperatingParameters } from './copy-results.js'
export { ListIdUsage } from './parameter-list.js'
export type { CopyLimits } from './parameter-list.js'
