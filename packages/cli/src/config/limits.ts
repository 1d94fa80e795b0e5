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

/** Most arguments in one command of the `apply` section (the bootstrapper's own limit). */
export const COMMAND_ARGUMENTS_MAX = 64

/** Longest single argument of a command. */
export const COMMAND_ARGUMENT_CHARS_MAX = 4096

/** Longest time one `apply` command may run: an hour covers the slowest first k3s start. */
export const COMMAND_TIMEOUT_SECONDS_MAX = 3600

/** Shortest fail-over delay: below a second, one lost probe round could replace a server. */
export const FAILOVER_DELAY_SECONDS_MIN = 1

/** Longest fail-over delay (the bootstrapper's own limit): a week. */
export const FAILOVER_DELAY_SECONDS_MAX = 7 * 24 * 3600

/** Most entries in Kairos' `k3s.args` or `k3s-agent.args` (the bootstrapper's own limit). */
export const KAIROS_ARGS_MAX = 64

assert(ADDRESS_LIST_ENTRIES_MAX * MULTIADDR_CHARS_MAX < CONFIG_FILE_BYTES_MAX, 'a full address list fits in a config file')
assert(TOKEN_TEXT_CHARS_MAX < CONFIG_FILE_BYTES_MAX, 'a token fits in a config file')
assert(COMMAND_ARGUMENTS_MAX * COMMAND_ARGUMENT_CHARS_MAX < CONFIG_FILE_BYTES_MAX, 'a longest command fits in a config file')
