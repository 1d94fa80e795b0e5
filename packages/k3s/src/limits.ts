import { assert } from '@p2p-bootstrap/core'

/** Bounds on what the renderer accepts from user configuration. More is a config mistake, not a cluster. */

/** Keys one user block (`k3s:`, node-local or cluster-wide) may hold. */
export const USER_KEYS_MAX = 256

/** Entries one list-valued key may hold after merging every source. */
export const LIST_ENTRIES_MAX = 256

/** Characters of one user value (a string, or one entry of a list). */
export const VALUE_CHARS_MAX = 4096

/** Entries of a Kairos `k3s.args` list. */
export const KAIROS_ARGS_MAX = 256

/** A Kubernetes label value (and a DNS label) holds at most 63 characters. */
export const LABEL_VALUE_CHARS_MAX = 63

/** Node names are one DNS label here, so they fit wherever Kubernetes puts them. */
export const NODE_NAME_CHARS_MAX = 63

/** Hex characters of the node-id hash that make a node name unique: 32 bits. */
export const NODE_NAME_SUFFIX_CHARS = 8

/** Characters left for the host-name part of a node name, after the '-' and the suffix. */
export const NODE_NAME_HOST_CHARS_MAX = NODE_NAME_CHARS_MAX - 1 - NODE_NAME_SUFFIX_CHARS

/** Linux limits interface names to 15 characters (IFNAMSIZ - 1). */
export const INTERFACE_CHARS_MAX = 15

/** A container image reference, registry and digest included. */
export const IMAGE_CHARS_MAX = 512

/** A DNS name such as the cluster domain. */
export const DOMAIN_CHARS_MAX = 253

assert(NODE_NAME_HOST_CHARS_MAX >= 1, 'a node name keeps at least one host-name character')
assert(NODE_NAME_SUFFIX_CHARS * 4 >= 32, 'the node-name suffix carries at least 32 bits of the node id hash')
