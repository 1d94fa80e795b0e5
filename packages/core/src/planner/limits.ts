import { assert } from '../assert.js'
import { SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES } from '../secrets/limits.js'
import { CONTROL_PLANES_ALLOWED, EXPECT_MAX, NAME_CHARS_MAX } from '../token/constants.js'

/** Most control-plane nodes a plan may hold: the largest count a token may ask for (etcd's ceiling). */
export const CONTROL_PLANES_MAX = Math.max(...CONTROL_PLANES_ALLOWED)

/** Most nodes one plan lists: twice the largest `expect`, room for late joiners after formation. */
export const PLAN_NODES_MAX = 2 * EXPECT_MAX

/** Largest encoded plan: it is the Paxos value and a ledger entry, so it must stay small. */
export const PLAN_BYTES_MAX = 128 * 1024

/** Most notes in one plan, and most characters in one note. */
export const NOTES_MAX = 16
export const NOTE_CHARS_MAX = 240

/** Refused requests named one per note; beyond this they are counted in one summary note. */
export const NOTES_NAMED_REQUESTS_MAX = 8

/** A public cluster id is a short hash text; this bound only keeps the plan bounded. */
export const CLUSTER_ID_CHARS_MAX = 128

/** A cluster name is one DNS label, as in the token. */
export const PLAN_NAME_CHARS_MAX = NAME_CHARS_MAX

/** The longest IPv6 text form is 45 characters. */
export const VIP_CHARS_MAX = 45

/** An Ed25519 peer id is 38 bytes, at most 52 base58 characters ("12D3KooW…"). */
export const NODE_ID_CHARS_MAX = 52

// Worst-case encoded size, from the bounds above. CBOR spends at most 3 header bytes on an item
// below 64 KiB, and UTF-8 at most 3 bytes per UTF-16 code unit.
const HEADER_BYTES_MAX = 3
const UTF8_BYTES_PER_CHAR_MAX = 3
const FIELD_NAMES_AND_CONTAINERS_BYTES_MAX = 256
const textBytesMax = (chars: number): number => chars * UTF8_BYTES_PER_CHAR_MAX + HEADER_BYTES_MAX
const PLAN_BYTES_WORST_CASE =
  // every listed node, the init id and each recipient key of the sealed server token
  (PLAN_NODES_MAX + 1 + CONTROL_PLANES_MAX) * (NODE_ID_CHARS_MAX + HEADER_BYTES_MAX) +
  CONTROL_PLANES_MAX * (SEALED_SERVER_TOKEN_BYTES + HEADER_BYTES_MAX) +
  SEALED_AGENT_TOKEN_BYTES + HEADER_BYTES_MAX +
  2 * (64 + HEADER_BYTES_MAX) + // the two token hashes
  NOTES_MAX * textBytesMax(NOTE_CHARS_MAX) +
  textBytesMax(CLUSTER_ID_CHARS_MAX) + textBytesMax(PLAN_NAME_CHARS_MAX) + textBytesMax(VIP_CHARS_MAX) +
  9 + // the epoch as a 64-bit integer
  64 + // decidedUnder: its three field names and two small integers
  FIELD_NAMES_AND_CONTAINERS_BYTES_MAX

assert(PLAN_BYTES_WORST_CASE <= PLAN_BYTES_MAX, 'the largest plan the limits allow encodes within PLAN_BYTES_MAX')
assert(CONTROL_PLANES_MAX % 2 === 1, 'the control-plane ceiling is odd')
assert(CONTROL_PLANES_MAX <= PLAN_NODES_MAX, 'a plan can list its control planes')
assert(NOTES_NAMED_REQUESTS_MAX + 3 <= NOTES_MAX, 'named refusals, their summary, a shape note and an override note fit')
