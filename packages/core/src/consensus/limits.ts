import { assert } from '../assert.js'
import { EXPECT_MAX } from '../token/constants.js'
import { NODE_ID_CHARS_MAX } from '../limits.js'
export { NODE_ID_CHARS_MAX }

/**
 * Every bound of the consensus module. Anything decoded from a peer or the ledger is checked
 * against these before it is used, so no message can make a node allocate without limit.
 */

/** Highest epoch we accept: one new epoch per role change; a billion is far beyond any cluster's life. */
export const EPOCH_MAX = 1_000_000_000

/** Highest ballot round: a safe integer with room for `nextBallot` to add one. */
export const BALLOT_ROUND_MAX = Number.MAX_SAFE_INTEGER - 1

/**
 * Highest ballot round on the wire, in votes and in certificates. An honest proposer adds one per
 * attempt (a few a second at most), so 2^40 rounds outlast any cluster. Far below
 * `BALLOT_ROUND_MAX`, so no ballot a peer sends can make our next one fail an assertion (it did, at
 * every restart once promised: S2 keeps the promise). Our own proposer never goes above it either,
 * so every vote we write parses everywhere; a peer that sends a ballot at this very round stalls
 * its epoch (it can only do so holding the token), it never stops a node.
 */
export const BALLOT_ROUND_WIRE_MAX = 2 ** 40

/**
 * How many times a proposer's wait doubles after ballots of its own that ended without a decision
 * (timed out, refused, or given up for a higher rival's): 3 caps the wait at 8 times the profile's
 * `ballotTimeoutMs` (8 s on a LAN), enough for a round trip through a machine so loaded that it
 * reads its messages seconds late, and short enough that a retry after a rival's crash comes soon.
 */
export const BALLOT_WAIT_DOUBLINGS_MAX = 3

/** Longest cluster id string (a public hash from the token). */
export const CLUSTER_ID_CHARS_MAX = 128

/** Largest proposed value (an encoded plan: thousands of workers plus sealed secrets). */
export const VALUE_BYTES_MAX = 256 * 1024

/** SHA-256 of a value. */
export const VALUE_HASH_BYTES = 32

/** Bytes of a best-effort ballot's member-set hash (SHA-256, truncated: it names a set, it proves nothing). */
export const MEMBER_SET_HASH_BYTES = 16

/** An Ed25519 signature. */
export const SIGNATURE_BYTES = 64

/** The largest bootstrap quorum: a majority of the largest `expect` a token may carry. */
export const QUORUM_MAX = Math.floor(EXPECT_MAX / 2) + 1

/** Votes in one certificate: a certificate carries exactly its quorum of votes. */
export const CERTIFICATE_VOTES_MAX = QUORUM_MAX

/** Candidate acceptors one proposer addresses (every expected node at most). */
export const ACCEPTORS_MAX = EXPECT_MAX

/** Vote records `certificateFromVotes` looks at in one call (several ballots' worth). */
export const VOTES_SCANNED_MAX = 16 * EXPECT_MAX

/** Self-addressed messages one instance call may loop back locally (a proposer that is also an acceptor). */
export const LOCAL_DELIVERIES_MAX = 4 * ACCEPTORS_MAX

/** Entries kept by a signature-verification cache unless the caller asks for another size. */
export const VERIFY_CACHE_ENTRIES_DEFAULT = 4096

/** Largest encoded `plan/<epoch>` entry value: the value, a full certificate, and CBOR framing. */
export const DECISION_BYTES_MAX = VALUE_BYTES_MAX + CERTIFICATE_VOTES_MAX * (NODE_ID_CHARS_MAX + SIGNATURE_BYTES + 16) + 1024

/** Largest encoded vote entry value. */
export const VOTE_BYTES_MAX = 512

/** Largest encoded consensus message (a `paxos/decided` carrying a full decision). */
export const MESSAGE_BYTES_MAX = DECISION_BYTES_MAX + 1024

assert(BALLOT_ROUND_WIRE_MAX < BALLOT_ROUND_MAX, 'a node can always go above a ballot it was sent')
assert(CERTIFICATE_VOTES_MAX >= QUORUM_MAX, 'a certificate holds the largest bootstrap quorum')
assert(ACCEPTORS_MAX >= QUORUM_MAX, 'a proposer can address a quorum')
assert(LOCAL_DELIVERIES_MAX >= 2 * ACCEPTORS_MAX, 'a local loop can carry a request and a reply per acceptor')
assert(MESSAGE_BYTES_MAX > DECISION_BYTES_MAX, 'a decided message holds a decision')
