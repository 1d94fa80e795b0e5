import { assert } from '../assert.js'

/**
 * Every bound of the membership protocol. Nothing arriving from the wire can make a node hold more
 * than these, and per-node traffic is a constant of them, not of the cluster size.
 */

/** Characters of a node id we accept; an Ed25519 libp2p peer id is 52. */
export const NODE_ID_CHARS_MAX = 128

/**
 * Highest incarnation a peer may send. A node raises its own by one per start and per refuted
 * suspicion, so 2^40 outlasts any node; far below 2^53 it leaves a refutation (one above what was
 * said about us) a safe integer, so no gossiped number can make the victim fail an assertion.
 */
export const INCARNATION_MAX = 2 ** 40

/** Highest probe sequence number a peer may send; ours count one per probe from zero. */
export const SEQ_MAX = 2 ** 48

/** Bytes of the opaque metadata gossiped with `alive` (a shape hash is 32). */
export const META_BYTES_MAX = 64

/** Gossip updates piggybacked on one message: bounds message size whatever the cluster size. */
export const GOSSIP_UPDATES_PER_MESSAGE_MAX = 8

/** Members one node tracks (self excluded); updates about further unknown ids are ignored. */
export const MEMBERS_MAX = 4096

/** Upper bound of the profile's `indirectProbes`: each costs messages on every failed probe. */
export const INDIRECT_PROBES_MAX = 8

/** Upper bound of the profile's `gossipFanout`: each round costs that many messages while news lasts. */
export const GOSSIP_FANOUT_MAX = 8

/** Indirect probes a node relays for others at once; more requests are dropped (the requester asks others too). */
export const RELAYS_PENDING_MAX = 64

/** λ of SWIM's dissemination: each update is piggybacked λ·⌈log10(N+1)⌉ times. */
export const RETRANSMIT_MULTIPLIER = 4

/** Members told at once, by a ping carrying the news, when this node leaves (a one-off cost). */
export const ANNOUNCE_FANOUT = 3

/**
 * Every this many probe periods, a node also pings one random dead member. Without it two sides
 * of a healed partition that declared each other dead would never talk again; costs 1/8 message
 * per period.
 */
export const DEAD_PROBE_PERIODS = 8

/**
 * Lifeguard's k: independent confirmations after which a suspicion has shrunk to its minimum. Two
 * other nodes failing to reach a member, each directly and through `indirectProbes` others, is
 * strong evidence; on a loss-free path it almost never happens to a live member.
 */
export const SUSPICION_CONFIRMATIONS_EXPECTED = 2

/**
 * Lifeguard's S - 1: the highest local health score. At it a node probes and times out 8 times
 * slower than its profile says (memberlist's default awareness limit is 8 as well).
 */
export const LOCAL_HEALTH_MAX = 7

/**
 * A fully confirmed suspicion lasts the unconfirmed timeout divided by this: one lossy path alone
 * waits three times as long as a member that several nodes failed to reach. memberlist uses 6;
 * with round-robin probing a second confirmation at ten members often takes a whole round, and
 * 6 left a real death undetected for 15 s in some seeds where 3 keeps it under 10 s.
 */
export const SUSPICION_MIN_DIVISOR = 3

/** Encoded size bound of one membership message, checked before decoding. */
export const MEMBERSHIP_MESSAGE_BYTES_MAX = 4096

/** A generous estimate of one encoded gossip update: id, suspecter id, state, incarnation, meta and map keys. */
const UPDATE_BYTES_ESTIMATE = 2 * NODE_ID_CHARS_MAX + META_BYTES_MAX + 64

/** A generous estimate of a message without its gossip: kind, seq, incarnation, target. */
const MESSAGE_HEADER_BYTES_ESTIMATE = NODE_ID_CHARS_MAX + 96

assert(
  MEMBERSHIP_MESSAGE_BYTES_MAX >= MESSAGE_HEADER_BYTES_ESTIMATE + GOSSIP_UPDATES_PER_MESSAGE_MAX * UPDATE_BYTES_ESTIMATE,
  'a message with full gossip fits under the decode limit'
)
assert(Number.isSafeInteger(INCARNATION_MAX + 1), 'a refutation above the highest incarnation a peer may send stays a safe integer')
assert(GOSSIP_UPDATES_PER_MESSAGE_MAX >= 2, 'a message carries a hint about its recipient and at least one queued update')
assert(SUSPICION_MIN_DIVISOR >= 1, 'a confirmed suspicion is never longer than an unconfirmed one')
assert(ANNOUNCE_FANOUT <= INDIRECT_PROBES_MAX, 'an announcement costs no more than one failed probe')
assert(RELAYS_PENDING_MAX >= INDIRECT_PROBES_MAX, 'a node can relay at least one full round of indirect probes')
