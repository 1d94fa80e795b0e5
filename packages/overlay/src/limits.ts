import { assert } from '@p2p-bootstrap/core'

/** Static peers a node accepts from config; more is a config mistake, not a cluster. */
export const STATIC_PEERS_MAX = 256

/** Listen addresses a node accepts. */
export const LISTEN_ADDRESSES_MAX = 16

/** Discovered peers remembered for re-dialling; the oldest non-static ones are forgotten first. */
export const KNOWN_PEERS_MAX = 1024

/**
 * Peers the peer store keeps that are neither members, static or kept peers, nor connected; the
 * oldest are deleted beyond it (libp2p's store has no count limit, only ages). An entry costs
 * well under 1 KiB, so this is under 1 MiB however many peer ids a LAN announces.
 */
export const PEER_STORE_OTHERS_MAX = KNOWN_PEERS_MAX

/** Upper bound on any connection limit a caller may configure. */
export const CONNECTIONS_MAX = 1024

/**
 * Inbound connections in their handshake at once, from any address, loopback included (libp2p's
 * pending limit skips its allow list). Room for a whole single-host fleet dialling one node at
 * once; at most one noise frame (64 KiB) buffered each, so a few MiB at worst.
 */
export const INBOUND_HANDSHAKES_MAX = 64

/**
 * How long a connection refused for want of a handshake place is held before it is closed, so a
 * flood cannot turn refusals into thousands of reconnections a second. Below every inbound upgrade
 * timeout, which would end it anyway; the listener's `maxConnections` bounds how many are held.
 */
export const INBOUND_REFUSAL_DELAY_MS = 1_000

/** Upper bound on any timeout or interval a caller may configure (10 minutes). */
export const DURATION_MS_MAX = 600_000

/** Lower bound on dial timeouts: below this even a loopback handshake cannot finish. */
export const DIAL_TIMEOUT_MS_MIN = 100

/** Lower bound on the mDNS query interval: faster floods the LAN (traffic is O(N²) per interval). */
export const MDNS_INTERVAL_MS_MIN = 100

/**
 * Longest random wait before a node's first mDNS query, so nodes booted together (one power
 * cycle, one test) do not all multicast in the same millisecond.
 */
export const MDNS_START_JITTER_MS_MAX = 200

/**
 * Spread of every discovery interval around its base (±20 %), so nodes started together drift
 * apart instead of querying in lockstep forever.
 */
export const DISCOVERY_JITTER_FRACTION = 0.2

/**
 * A node answers mDNS queries for its tag at most once per this window. Answers are multicast,
 * so one answer serves every node that asked within the window; a burst of queries costs one
 * answer per node, not one per query.
 */
export const MDNS_ANSWER_INTERVAL_MS = 1_000

/** Questions we look at in one mDNS query; a packet with more is ignored. */
export const MDNS_QUESTIONS_MAX = 16

/** Records (answers plus additionals) we look at in one mDNS response; more and it is ignored. */
export const MDNS_RECORDS_MAX = 32

/** Addresses a node advertises in, and accepts from, one mDNS answer. */
export const MDNS_ADDRESSES_MAX = 8

/** Bytes of one TXT string (RFC 6763 §6.1), so `dnsaddr=<multiaddr>` must fit in it. */
export const MDNS_TXT_BYTES_MAX = 255

/** Longest DNS label (RFC 1035); the instance label is the peer id and must fit. */
export const DNS_LABEL_BYTES_MAX = 63

/** Recent query ids of our own remembered, so our own multicast query is not answered by us. */
export const MDNS_OWN_QUERY_IDS_MAX = 4

/** Providers taken from one rendezvous lookup; the DHT returns at most k (20) anyway. */
export const RENDEZVOUS_PROVIDERS_MAX = 64

/** Bytes of the identity file we are willing to read; an Ed25519 protobuf key is 68 bytes. */
export const IDENTITY_FILE_BYTES_MAX = 4096

/** Name of the identity file inside the state dir. */
export const IDENTITY_FILE_NAME = 'identity.key'

/** Mode of the identity file: owner read/write only. */
export const IDENTITY_FILE_MODE = 0o600

/** Mode of a state dir we create: owner only. */
export const STATE_DIR_MODE = 0o700

/** Permission bits that must be clear on the identity file (group and others). */
export const IDENTITY_FILE_FORBIDDEN_BITS = 0o077

assert(KNOWN_PEERS_MAX >= STATIC_PEERS_MAX, 'every static peer fits in the known-peer table')
assert(DIAL_TIMEOUT_MS_MIN < DURATION_MS_MAX, 'a dial timeout range is not empty')
assert(MDNS_INTERVAL_MS_MIN < DURATION_MS_MAX, 'an mDNS interval range is not empty')
assert(DISCOVERY_JITTER_FRACTION > 0 && DISCOVERY_JITTER_FRACTION < 1, 'a jittered interval stays positive')
assert(MDNS_ADDRESSES_MAX + 1 <= MDNS_RECORDS_MAX, 'an answer of ours (one PTR, one TXT per address) fits the parser')
assert(MDNS_ANSWER_INTERVAL_MS < DURATION_MS_MAX, 'a coalesced answer is sent before any interval ends')
