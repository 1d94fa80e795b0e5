import { assert, ENTRY_ENCODED_BYTES_MAX } from '@p2p-bootstrap/core'

/** Mode of the state dir: owner only (it holds the node key, votes and cluster secrets). */
export const STATE_DIR_MODE = 0o700

/** Permission bits that must be clear on the state dir (group and others). */
export const STATE_DIR_FORBIDDEN_BITS = 0o077

/** Default mode of every file the state dir writes: owner read/write only. */
export const STATE_FILE_MODE = 0o600

/** Bytes of a log frame's header: payload length and CRC-32, each a big-endian u32. */
export const FRAME_HEADER_BYTES = 8

/**
 * Largest CBOR payload of one record, checked on write and on read: a length above it in a frame
 * header is damage, never an allocation. The largest real record is a ledger entry holding a
 * decision (`ENTRY_ENCODED_BYTES_MAX`, about 0.5 MiB), so this leaves room for growth.
 */
export const RECORD_BYTES_MAX = 2 * 1024 * 1024

/** Nesting depth of a record's value (objects and arrays); real records are a few levels deep. */
export const RECORD_DEPTH_MAX = 32

/**
 * Largest log file we load: logs are read whole. The ledger log is compacted at every start and
 * the consensus log holds a few small records per epoch, so a file this big is not a real log.
 */
export const LOG_FILE_BYTES_MAX = 1024 * 1024 * 1024

/** Numbered copies `ledger.log.corrupt-<n>` we look through for a free name before giving up. */
export const CORRUPT_COPIES_MAX = 1000

/** Attempts at taking the lock when a stale one vanishes or reappears under us. */
export const LOCK_ATTEMPTS_MAX = 3

/** Bytes of the lock file we read: a pid and a nonce. */
export const LOCK_FILE_BYTES_MAX = 256

/** Bytes of a file name inside the state dir (the common file-system limit). */
export const FILE_NAME_BYTES_MAX = 255

/** File names inside the state dir. */
export const LOCK_FILE_NAME = 'agent.lock'
export const CONSENSUS_LOG_NAME = 'consensus.log'
export const LEDGER_LOG_NAME = 'ledger.log'
export const IDENTITY_FILE_NAME = 'identity.key'

assert(RECORD_BYTES_MAX >= ENTRY_ENCODED_BYTES_MAX + 1024, 'a record holds the largest ledger entry and its record fields')
assert(RECORD_BYTES_MAX <= 0xffff_ffff, 'a record length fits the u32 of a frame header')
assert(LOG_FILE_BYTES_MAX >= FRAME_HEADER_BYTES + RECORD_BYTES_MAX, 'a log file holds the largest frame')
assert(LOCK_FILE_BYTES_MAX >= 64, 'a lock file holds a pid and a nonce')
