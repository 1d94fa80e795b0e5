import { PathError } from '@p2p-bootstrap/core'

/** Codes of errors raised by the state dir; the CLI maps them to exit statuses. */
export type StateDirErrorCode =
  /** The path is not a directory we can own and write (a file, read-only, not ours). */
  | 'STATE_DIR_UNUSABLE'
  /** Another live agent holds the dir's lock. */
  | 'STATE_LOCKED'
  /** consensus.log is damaged mid-file: the node's promises and votes cannot be trusted. */
  | 'STATE_VOTES_CORRUPT'
  /** A file in the dir could not be read (EIO, EACCES) or is too large to be ours. */
  | 'STATE_READ_FAILED'
  /** A write or fsync failed (ENOSPC, EIO): fatal, the node must stop (S6). */
  | 'STATE_WRITE_FAILED'
  /** A record that cannot be stored as is: too large, or a value CBOR would not give back. */
  | 'STATE_RECORD_INVALID'
  /** A file name that is not a plain name inside the dir, or one the dir keeps for itself. */
  | 'STATE_BAD_NAME'

/** A state dir problem; `path` names the file or dir concerned, and the message says what to do. */
export class StateDirError extends PathError<StateDirErrorCode> {}

/** The errno-style code of a Node.js system error, if any ('ENOSPC', 'EIO', ...). */
export function errnoCode (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
