import { assert } from '@p2p-bootstrap/core'

/**
 * Bounds on what a config file and the `run` flags may hold. A config file is written by a person
 * or an image builder; anything near these limits is a wrong file, not a real setting.
 */

/** Largest config file read: a Kairos cloud-config with users, stages and files stays far below. */
export const CONFIG_FILE_BYTES_MAX = 1024 * 1024

/** Most entries in `listen` or `peers`: a node listens on a few addresses and needs a few peers. */
export const ADDRESS_LIST_ENTRIES_MAX = 64

/** Longest multiaddr accepted; real TCP multiaddrs with a peer id are about 100 characters. */
export const MULTIADDR_CHARS_MAX = 1024

/** Most labels one node publishes. */
export const LABELS_MAX = 64

/** Longest path accepted for `state-dir` or `root` (Linux PATH_MAX). */
export const PATH_CHARS_MAX = 4096

/** Longest network interface name on Linux (IFNAMSIZ − 1). */
export const INTERFACE_CHARS_MAX = 15

/** Longest token text carried from a file or a flag; the core applies its own, smaller, limit. */
export const TOKEN_TEXT_CHARS_MAX = 64 * 1024

assert(ADDRESS_LIST_ENTRIES_MAX * MULTIADDR_CHARS_MAX < CONFIG_FILE_BYTES_MAX, 'a full address list fits in a config file')
assert(TOKEN_TEXT_CHARS_MAX < CONFIG_FILE_BYTES_MAX, 'a token fits in a config file')
