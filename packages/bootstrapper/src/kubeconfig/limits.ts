import { ENTRY_VALUE_BYTES_MAX, NODE_ID_CHARS_MAX, SEALED_PLAINTEXT_BYTES_MAX, assert } from '@p2p-bootstrap/core'

/** Ledger name under `node/<id>/` where a Ready control plane publishes the sealed kubeconfig. */
export const KUBECONFIG_ENTRY_NAME = 'kubeconfig'

/**
 * Leads an admin public key: `p2pb-admin1:<libp2p peer id of the Ed25519 key>`. The prefix keeps an
 * admin key from being mistaken for a node id (or pasted where one belongs), and carries a version.
 */
export const ADMIN_PUBLIC_KEY_PREFIX = 'p2pb-admin1:'

/** Leads the secret line of an admin private key file: base64 of the libp2p protobuf private key. */
export const ADMIN_SECRET_PREFIX = 'p2pb-admin-secret1:'

/** Format version of the sealed ledger value; a reader refuses any other. */
export const SEALED_KUBECONFIG_VERSION = 1

/** Most admin keys one cluster seals to: one box each, so the ledger value grows with them. */
export const ADMIN_KEYS_MAX = 16

/**
 * Largest admin kubeconfig sealed. k3s writes about 3 KiB (CA, client certificate and EC key, all
 * base64); 16 KiB leaves room for longer chains while 16 boxes still fit one ledger value.
 */
export const KUBECONFIG_BYTES_MAX = 16 * 1024

/** Longest admin public key text: the prefix and an Ed25519 peer id. */
export const ADMIN_PUBLIC_KEY_CHARS_MAX = ADMIN_PUBLIC_KEY_PREFIX.length + NODE_ID_CHARS_MAX

/** Largest private key file read: a comment, the public key and ~120 base64 characters. */
export const ADMIN_KEY_FILE_BYTES_MAX = 4 * 1024

/** What the core's box to a node adds to its plaintext (53 bytes: version, key check, X25519 key, tag), rounded up. */
export const BOX_OVERHEAD_BYTES_MAX = 64

/** CBOR framing of one `{ key, box }` pair (map head, field names, length heads), rounded up. */
const BOX_FRAMING_BYTES_MAX = 32

/** CBOR framing of the whole value (map head, version, field names, array head), rounded up. */
const VALUE_FRAMING_BYTES_MAX = 32

/** Largest sealed value: what a reader accepts before decoding anything. */
export const SEALED_KUBECONFIG_BYTES_MAX = VALUE_FRAMING_BYTES_MAX +
  ADMIN_KEYS_MAX * (BOX_FRAMING_BYTES_MAX + ADMIN_PUBLIC_KEY_CHARS_MAX + KUBECONFIG_BYTES_MAX + BOX_OVERHEAD_BYTES_MAX)

assert(KUBECONFIG_BYTES_MAX <= SEALED_PLAINTEXT_BYTES_MAX, 'a kubeconfig fits in one sealed box')
assert(SEALED_KUBECONFIG_BYTES_MAX <= ENTRY_VALUE_BYTES_MAX, 'a kubeconfig sealed to every admin key fits in one ledger value')
