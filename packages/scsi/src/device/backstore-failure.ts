// What the initiator sees when the backstore fails (SBC-3 4.x, SPC-4 4.5.6): an unrecoverable read is MEDIUM ERROR
// 11/00, a failed write MEDIUM ERROR 0c/00, no space DATA PROTECT 27/07 (SBC-3 4.7.3.6, thin provisioning), a
// read-only store DATA PROTECT 27/00. Anything that is not an errno-style error is a bug in the backstore and
// answers HARDWARE ERROR 44/00. Never a crash.
import { BackstoreError, CheckCondition, ScsiError } from '../errors.js'

export type BackstoreOperation = 'read' | 'write' | 'flush' | 'unmap' | 'status' | 'resize'

export function backstoreFailure(error: unknown, operation: BackstoreOperation): ScsiError {
  if (error instanceof ScsiError) return error
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined
  const message = error instanceof Error ? error.message : String(error)
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new BackstoreError('SPACE_ALLOCATION_FAILED_WRITE_PROTECT', `backstore ${operation}: ${message}`, error)
    case 'EROFS':
    case 'EPERM':
    case 'EACCES':
      return new CheckCondition('DATA_PROTECT', 'WRITE_PROTECTED', { message: `backstore ${operation}: ${message}`, cause: error })
  }
  if (typeof code === 'string') {
    return new BackstoreError(operation === 'read' || operation === 'status' ? 'UNRECOVERED_READ_ERROR' : 'WRITE_ERROR', `backstore ${operation}: ${message}`, error)
  }
  return new CheckCondition('HARDWARE_ERROR', 'INTERNAL_TARGET_FAILURE', { message: `backstore ${operation} failed: ${message}`, cause: error })
}
