import { assert } from '../assert.js'

/** Every native token starts with this prefix, followed by the version number and a '.'. */
export const TOKEN_PREFIX = 'p2pb'

/** The version `formatToken` writes. */
export const TOKEN_VERSION_CURRENT = 1

/** Versions `parseToken` reads. */
export const TOKEN_VERSIONS_KNOWN: readonly number[] = [1]

/** Separates prefix+version, payload and checksum. Outside both base64 alphabets, so unambiguous. */
export const TOKEN_PART_SEPARATOR = '.'

/** Bytes of the shared secret: 256 bits, the design's floor. */
export const SECRET_BYTES = 32

/** Bytes of SHA-256 kept as checksum: 48 bits, exactly 8 base64url characters (no spare bits). */
export const CHECKSUM_BYTES = 6

/** Longest token text we look at; a Kairos token is about 500 characters, ours about 100. */
export const TOKEN_TEXT_CHARS_MAX = 8192

/** Largest decoded payload; a full v1 payload is under 150 bytes. */
export const TOKEN_PAYLOAD_BYTES_MAX = 1024

/** Largest `expect` a token may carry: far above any fleet we bootstrap in one go. */
export const EXPECT_MAX = 1000

/** Allowed control-plane counts: odd, so etcd keeps a majority; 7 is etcd's practical ceiling. */
export const CONTROL_PLANES_ALLOWED: readonly number[] = [1, 3, 5, 7]

/** A cluster name is one DNS label. */
export const NAME_CHARS_MAX = 63

/** Latest `createdMs` a token may carry: the largest time an ECMAScript Date can show. */
export const CREATED_MS_MAX = 8_640_000_000_000_000

/** Default length of a DHT rendezvous slot: the rendezvous key changes once an hour. */
export const RENDEZVOUS_SLOT_MS_DEFAULT = 60 * 60 * 1000

assert(TOKEN_VERSIONS_KNOWN.includes(TOKEN_VERSION_CURRENT), 'we can read the version we write')
assert((CHECKSUM_BYTES * 8) % 6 === 0, 'the checksum fills whole base64 characters, so every character change alters it')
assert(CONTROL_PLANES_ALLOWED.every((count) => count % 2 === 1), 'control-plane counts are odd')
assert(TOKEN_PAYLOAD_BYTES_MAX * 2 < TOKEN_TEXT_CHARS_MAX, 'a maximal payload fits in a maximal text')
