/**
 * The agent's durable state dir: an atomic file writer, an append-only CRC-framed record log, and
 * the dir itself (lock, permissions, identity, the consensus and ledger logs). See state-dir.ts.
 */
export { openStateDir } from './state-dir.js'
export type { CompactOptions, StateDir, StateDirOptions, LoadedState } from './state-dir.js'
export type { StateNotice } from './directory.js'
export { StateDirError } from './errors.js'
export type { StateDirErrorCode } from './errors.js'
export { writeFileAtomic } from './atomic-write.js'
export type { WriteFileAtomicOptions } from './atomic-write.js'
export { RecordLog, loadRecordLog, scanFrames, encodeFrames, writeRecordLog } from './record-log.js'
export type { LoadedLog, LogDamage, ScannedLog } from './record-log.js'
export {
  RECORD_BYTES_MAX, STATE_DIR_MODE, STATE_FILE_MODE, CONSENSUS_LOG_NAME, LEDGER_LOG_NAME, LOCK_FILE_NAME, IDENTITY_FILE_NAME
} from './limits.js'
