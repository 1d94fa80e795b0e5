import { P2pBootstrapError } from '../errors.js'

/** Codes of errors a local caller gets from the ledger (a bad write, a full ledger). */
export type LedgerErrorCode =
  | 'LEDGER_BAD_KEY'
  | 'LEDGER_NOT_OWNER'
  | 'LEDGER_TOO_LARGE'
  | 'LEDGER_FULL'
  | 'LEDGER_REJECTED'

/** A local write the ledger refuses; remote entries are rejected as values, never thrown. */
export class LedgerError extends P2pBootstrapError<LedgerErrorCode> {}

/** Codes of errors raised while reading a ledger snapshot from the state dir. */
export type SnapshotErrorCode =
  | 'SNAPSHOT_TRUNCATED'
  | 'SNAPSHOT_OVERSIZED'
  | 'SNAPSHOT_BAD_MAGIC'
  | 'SNAPSHOT_UNSUPPORTED_VERSION'
  | 'SNAPSHOT_CHECKSUM'
  | 'SNAPSHOT_MALFORMED'

/** A damaged or foreign ledger snapshot; the message names the problem and the fix. */
export class SnapshotError extends P2pBootstrapError<SnapshotErrorCode> {}
