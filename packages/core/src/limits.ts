import { assert } from './assert.js'

/**
 * The core's named limits. Everything that arrives from outside (a frame, a file, a peer's
 * entries) is bounded by one of these, so no input can make a node allocate or work without
 * bound. Their relations are asserted below, at import time: a wrong edit fails at once.
 */

/** Longest ledger key: ASCII, so characters are bytes. A vote key with two node ids is ≈ 130. */
export const ENTRY_KEY_BYTES_MAX = 256

/** Largest ledger value: a plan for 1,000 nodes (ids, sealed tokens, certificate) must fit. */
export const ENTRY_VALUE_BYTES_MAX = 512 * 1024 // a decision: a plan of 2,000 nodes plus a certificate of 501 votes

/** An Ed25519 signature. */
export const ENTRY_SIGNATURE_BYTES = 64

/** Longest node id string: an Ed25519 libp2p peer id is 52 base58 characters. */
export const NODE_ID_CHARS_MAX = 64

/** What an encoded entry adds around its key and value: field names, stamp, writer, signature. */
export const ENTRY_OVERHEAD_BYTES_MAX = 256

/** Largest encoded ledger entry. */
export const ENTRY_ENCODED_BYTES_MAX = ENTRY_KEY_BYTES_MAX + ENTRY_VALUE_BYTES_MAX + ENTRY_OVERHEAD_BYTES_MAX

/** What a message adds around its payload: its kind, field names, array headers. */
export const FRAME_HEADER_BYTES = 64

/** Largest frame on the wire (one encoded message). */
export const FRAME_BYTES_MAX = 1024 * 1024

/** Most entries one replica holds: 1,000 nodes × a few keys each, plus votes of many rounds. */
export const LEDGER_ENTRIES_MAX = 100_000

/** Most encoded bytes one replica holds. */
export const LEDGER_BYTES_MAX = 64 * 1024 * 1024

/**
 * `node/<id>/…` entries one node may hold. An honest node writes about ten names (facts, status,
 * leaving, CA and k3s hashes, server and stopped marks, the sealed kubeconfig): six times that.
 */
export const WRITER_NODE_ENTRIES_MAX = 64

/**
 * Encoded bytes of one node's `node/<id>/…` entries. Its largest honest value is the sealed admin
 * kubeconfig (16 boxes of up to 16 KiB, about 260 KiB); 1 MiB is four times that, so one identity
 * holds under 2 % of the ledger.
 */
export const WRITER_NODE_BYTES_MAX = 1024 * 1024

/** Votes one voter may hold: one per ballot it accepted, a few per epoch, over every epoch. */
export const WRITER_VOTES_MAX = 4096

/**
 * Share of the ledger's entry and byte bounds kept for votes, decisions and the control plane's
 * own entries: other `node/` entries stop at the rest, so however many identities write, a vote,
 * a plan or a control plane's status always has room (a full ledger once stopped control planes
 * at every restart, their own vote refused).
 */
export const LEDGER_RESERVED_DIVISOR = 4

/**
 * Bad signatures read from one message before the rest of it is skipped. Cheap checks (bounds,
 * key family, ownership, staleness) come first; a signature is the costly one (about 0.1-1 ms), and
 * an honest peer forwards only entries it verified, so a few bad ones mean the rest is junk too.
 */
export const BAD_SIGNATURES_PER_MESSAGE_MAX = 4

/** Bad signatures one peer may send within `BAD_SIGNATURE_WINDOW_MS` before it is penalised. */
export const BAD_SIGNATURES_PER_PEER_MAX = 16
export const BAD_SIGNATURE_WINDOW_MS = 60_000

/** How long a penalised peer's ledger messages are dropped unread (and the adapter keeps it disconnected). */
export const PEER_PENALTY_MS = 5 * 60_000

/** Peers whose bad signatures are counted at once; the least recently seen is forgotten first. */
export const PENALISED_PEERS_TRACKED_MAX = 1024

/** Most decisions held back while waiting for what they depend on (plan e-1). */
export const PENDING_DECISIONS_MAX = 64

/** Key-hash buckets of the anti-entropy digest. More buckets: finer repair, larger bucket list. */
export const DIGEST_BUCKETS = 256

/** Bytes of each bucket hash (and of each entry hash in a summary): a truncated SHA-256. */
export const BUCKET_HASH_BYTES = 16

/** Largest encoded summary item (key, stamp, writer, hash, field names). */
export const SUMMARY_ITEM_BYTES_MAX = ENTRY_KEY_BYTES_MAX + NODE_ID_CHARS_MAX + BUCKET_HASH_BYTES + 96

/** Largest encoded summary range without its items: bucket, two bounding keys, field names. */
export const SUMMARY_RANGE_BYTES_MAX = 2 * ENTRY_KEY_BYTES_MAX + 64

/** Most (key, stamp, writer, hash) items in one summary message. */
export const SUMMARY_ITEMS_MAX = 1024

/** Most keys asked for in one pull message. */
export const PULL_KEYS_MAX = 1024

/** Most entries in one delta message (the frame size bounds it first for large entries). */
export const DELTA_ENTRIES_MAX = 8192

/** Most entry bytes sent in answer to one summary or pull; the rest follows next round. */
export const SYNC_ANSWER_BYTES_MAX = 8 * FRAME_BYTES_MAX

/** Largest ledger snapshot file: every entry plus its length header, magic, version, checksum. */
export const SNAPSHOT_BYTES_MAX = LEDGER_BYTES_MAX + 9 * LEDGER_ENTRIES_MAX + 1024

/** Verified signatures remembered (shared across replicas in the simulator). */
export const SIGNATURE_CACHE_ENTRIES_MAX = 65_536

/** Highest HLC counter; past it the clock moves its wall part on by 1 ms. */
export const HLC_COUNTER_MAX = 0xffff_ffff

assert(FRAME_BYTES_MAX >= ENTRY_ENCODED_BYTES_MAX + FRAME_HEADER_BYTES, 'a frame holds one largest entry')
assert(ENTRY_VALUE_BYTES_MAX >= 128 * 1024, 'a plan for 1,000 nodes fits in one entry')
assert(FRAME_BYTES_MAX >= SUMMARY_ITEMS_MAX * SUMMARY_ITEM_BYTES_MAX + DIGEST_BUCKETS * SUMMARY_RANGE_BYTES_MAX + FRAME_HEADER_BYTES, 'a frame holds a full summary')
assert(FRAME_BYTES_MAX >= PULL_KEYS_MAX * (ENTRY_KEY_BYTES_MAX + 3) + FRAME_HEADER_BYTES, 'a frame holds a full pull')
assert(FRAME_BYTES_MAX >= DIGEST_BUCKETS * BUCKET_HASH_BYTES + FRAME_HEADER_BYTES, 'a frame holds every bucket hash')
assert(SYNC_ANSWER_BYTES_MAX >= FRAME_BYTES_MAX, 'one sync answer can carry at least one full frame')
assert(LEDGER_BYTES_MAX >= ENTRY_ENCODED_BYTES_MAX, 'a ledger holds at least one largest entry')
assert(SNAPSHOT_BYTES_MAX > LEDGER_BYTES_MAX, 'a snapshot holds a full ledger')
assert(Number.isSafeInteger(SNAPSHOT_BYTES_MAX), 'limits are safe integers')
assert(WRITER_NODE_BYTES_MAX >= ENTRY_ENCODED_BYTES_MAX + 64 * 1024, 'one node can hold its largest entry and its small ones')
assert(WRITER_NODE_BYTES_MAX * 16 <= LEDGER_BYTES_MAX - LEDGER_BYTES_MAX / LEDGER_RESERVED_DIVISOR, 'one identity holds a small share of the ledger')
assert(WRITER_NODE_ENTRIES_MAX * 16 <= LEDGER_ENTRIES_MAX - LEDGER_ENTRIES_MAX / LEDGER_RESERVED_DIVISOR, 'one identity holds a small share of the entries')
