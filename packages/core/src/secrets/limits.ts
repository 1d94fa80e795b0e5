import { assert } from '../assert.js'

/** Random bytes behind each k3s token: 256 bits, the design's floor for a secret. */
export const CLUSTER_TOKEN_RANDOM_BYTES = 32

/** A k3s token is the hex of its random bytes: safe in YAML and in `K10…::server:<secret>`. */
export const CLUSTER_TOKEN_CHARS = CLUSTER_TOKEN_RANDOM_BYTES * 2

/** The token-derived sealing key is a 256-bit key. */
export const SEALING_KEY_BYTES = 32

/** X25519 public and secret keys, and the Ed25519 public key they come from. */
export const X25519_KEY_BYTES = 32

/** XChaCha20-Poly1305: a 24-byte nonce is safe to draw at random; the tag is 16 bytes. */
export const NONCE_BYTES = 24
export const TAG_BYTES = 16

/** Bytes of a key check: enough to tell a wrong key from a damaged box, too few to matter as a leak. */
export const KEY_CHECK_BYTES = 4

/** One version byte leads every box, so the format can change without ambiguity. */
export const VERSION_BYTES = 1

/**
 * Largest plaintext one box holds. Tokens are 64 bytes; the bound leaves room for an admin
 * kubeconfig (a few KiB) while keeping what an outside box can make us allocate small.
 */
export const SEALED_PLAINTEXT_BYTES_MAX = 64 * 1024

/** Box to a node: version, key check, ephemeral X25519 public key, ciphertext with tag. */
export const NODE_BOX_OVERHEAD_BYTES = VERSION_BYTES + KEY_CHECK_BYTES + X25519_KEY_BYTES + TAG_BYTES

/** Box under a shared key: version, key check, random nonce, ciphertext with tag. */
export const KEY_BOX_OVERHEAD_BYTES = VERSION_BYTES + KEY_CHECK_BYTES + NONCE_BYTES + TAG_BYTES

/** Exact sizes of a sealed k3s token, which the plan's strict schema checks. */
export const SEALED_SERVER_TOKEN_BYTES = NODE_BOX_OVERHEAD_BYTES + CLUSTER_TOKEN_CHARS
export const SEALED_AGENT_TOKEN_BYTES = KEY_BOX_OVERHEAD_BYTES + CLUSTER_TOKEN_CHARS

assert(CLUSTER_TOKEN_CHARS <= SEALED_PLAINTEXT_BYTES_MAX, 'a token fits in one box')
assert(KEY_CHECK_BYTES * 8 >= 32, 'a random box passes the key check with odds of at most 2^-32')
