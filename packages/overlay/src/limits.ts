import { assert } from '@p2p-bootstrap/core'

/** Static peers a node accepts from config; more is a config mistake, not a cluster. */
export const STATIC_PEERS_MAX = 256

/** Listen addresses a node accepts. */
export const LISTEN_ADDRESSES_MAX = 16

/** Discovered peers remembered for re-dialling; the oldest non-static ones are forgotten first. */
export const KNOWN_PEERS_MAX = 1024

/** Upper bound on any connection limit a caller may configure. */
export const CONNECTIONS_MAX = 1024

/** Upper bound on any timeout or interval a caller may configure (10 minutes). */
export const DURATION_MS_MAX = 600_000

/** Lower bound on dial timeouts: below this even a loopback handshake cannot finish. */
export const DIAL_TIMEOUT_MS_MIN = 100

/** Lower bound on the mDNS query interval: faster floods the LAN (traffic is O(N²) per interval). */
export const MDNS_INTERVAL_MS_MIN = 100

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
