import { assert } from '@p2p-bootstrap/core'
import { DURATION_MS_MAX } from '../limits.js'

/**
 * Limits of the peer messenger. Every queue, stream count and decoded length has a maximum here,
 * and the options are checked against these ranges once, at construction.
 */

/** Largest frame any caller may configure (16 MiB); the core's frames are 1 MiB. */
export const MESSENGER_FRAME_BYTES_LIMIT = 16 * 1024 * 1024

/** Bytes of an unsigned varint that can encode any allowed frame length. */
export const FRAME_PREFIX_BYTES_MAX = 4

/** Frames queued per peer by default; the oldest is dropped beyond it (the protocols above tolerate loss). */
export const QUEUE_FRAMES_DEFAULT = 512

/** Upper bound on the per-peer frame queue a caller may configure. */
export const QUEUE_FRAMES_LIMIT = 65_536

/**
 * Bytes queued per peer by default, so a burst of large frames to a slow peer cannot take memory
 * without bound (512 frames of 1 MiB would be half a GiB). Raised to one largest frame if smaller.
 */
export const QUEUE_BYTES_DEFAULT = 8 * 1024 * 1024

/**
 * Bytes queued for all peers together by default. Each peer's own bound keeps one slow peer from
 * taking memory; this keeps many (peers that never read, up to `PEER_WRITERS_MAX` of them) from
 * doing it together. Past it a peer's new frame first drops its own oldest, else is dropped.
 */
export const QUEUE_BYTES_GLOBAL_DEFAULT = 64 * 1024 * 1024

/** Upper bound on the per-peer queued bytes a caller may configure (1 GiB). */
export const QUEUE_BYTES_LIMIT = 1024 * 1024 * 1024

/** Inbound streams of the protocol per connection by default; a peer needs one, a crossing or a replacement two. */
export const INBOUND_STREAMS_DEFAULT = 8

/** Upper bound on inbound streams per connection a caller may configure. */
export const INBOUND_STREAMS_LIMIT = 256

export const WRITE_TIMEOUT_MS_DEFAULT = 10_000
export const IDLE_STREAM_TIMEOUT_MS_DEFAULT = 60_000
export const DIAL_TIMEOUT_MS_DEFAULT = 5_000
export const REDIAL_BACKOFF_MS_DEFAULT = 2_000

/** Lower bound on write, idle and dial timeouts: below this even loopback cannot keep up. */
export const MESSENGER_TIMEOUT_MS_MIN = 50

/** Peers with a queue or stream at once; a writer is forgotten once idle, so this only bounds bursts to many peers. */
export const PEER_WRITERS_MAX = 1024

/** Addresses of one peer accepted in one `addPeerAddresses` call; the rest are skipped. */
export const PEER_ADDRESSES_MAX = 32

/** Characters of one address accepted before parsing it. */
export const PEER_ADDRESS_CHARS_MAX = 512

/** Characters of a protocol id. */
export const PROTOCOL_CHARS_MAX = 200

/** 2^(7·n) is the first length an n-byte varint cannot encode. */
assert(MESSENGER_FRAME_BYTES_LIMIT < 2 ** (7 * FRAME_PREFIX_BYTES_MAX), 'every allowed frame length fits in the prefix')
assert(QUEUE_BYTES_LIMIT >= MESSENGER_FRAME_BYTES_LIMIT + FRAME_PREFIX_BYTES_MAX, 'a queue can hold one largest frame')
assert(QUEUE_FRAMES_DEFAULT <= QUEUE_FRAMES_LIMIT, 'the default queue length is allowed')
assert(INBOUND_STREAMS_DEFAULT <= INBOUND_STREAMS_LIMIT, 'the default stream count is allowed')
assert(MESSENGER_TIMEOUT_MS_MIN < DURATION_MS_MAX, 'a timeout range is not empty')
