import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import type { NetworkToken } from '@p2p-bootstrap/core'
import { OverlayError } from './errors.js'
import {
  CONNECTIONS_MAX, DIAL_TIMEOUT_MS_MIN, DURATION_MS_MAX, LISTEN_ADDRESSES_MAX, MDNS_INTERVAL_MS_MIN,
  STATIC_PEERS_MAX
} from './limits.js'
import { profileByName } from './profiles.js'
import type { OverlayProfile, OverlayProfileName } from './profiles.js'
import { validateKeys } from './keys.js'
import { STATIC_PEER_FORMS, staticPeerMultiaddr } from './static-peer-address.js'
import type { OverlayKeys } from './keys.js'

/** Connection limits that override the profile's. */
export interface OverlayLimits {
  maxConnections?: number
  maxIncomingPendingConnections?: number
  dialTimeoutMs?: number
  addressDialTimeoutMs?: number
}

/** What `createOverlay` takes. Exactly one of `token` and `keys` is given. */
export interface OverlayOptions {
  /** The network token (text or parsed); the overlay derives its keys from it. */
  token?: string | NetworkToken
  /** Keys already derived from the token: `deriveKeys(token)` from the core fits as is. */
  keys?: OverlayKeys
  /** The node's Ed25519 libp2p key, usually from `loadOrCreateIdentity`. */
  identity: PrivateKey
  /** Listen multiaddrs; default `/ip4/0.0.0.0/tcp/0`. */
  listen?: string[]
  /**
   * Static peers, dialled at start and kept connected: `192.168.1.10` (port 4001),
   * `192.168.1.10:4001`, `[fd00::10]:4001`, `host:port`, or a TCP multiaddr. With `/p2p/<peer id>`
   * the peer must answer with that id; without, its id is learned in the handshake (the private
   * network keeps nodes without the token out).
   */
  peers?: string[]
  /**
   * mDNS discovery on the LAN; `{ intervalMs }` overrides the profile's initial query interval
   * (the interval still backs off to the profile's maximum, or to `intervalMs` if that is larger).
   */
  mdns?: boolean | { intervalMs: number }
  /** The private kad-dht (server mode, token-derived protocol); default true. */
  dht?: boolean
  limits?: OverlayLimits
  /** Timing profile; default 'lan'. */
  profile?: OverlayProfileName
  /** Start at once (default); false to add event listeners before `start()`. */
  start?: boolean
  /**
   * Advanced: overrides of single fields of the profile, applied last (after `profile`, `limits`
   * and `mdns`), for benchmarks and unusual networks. Each value is checked against its field's
   * range and the profile's relations (target ≤ max connections, initial ≤ maximum interval or
   * back-off, address ≤ whole dial timeout); an unknown field is refused. Prefer a named profile:
   * its values are measured together.
   */
  tuning?: Partial<OverlayProfile>
}

/** A static peer: its address, and the peer id it must answer with when the address names one. */
export interface StaticPeer {
  readonly address: Multiaddr
  /** Absent for a peer given by address alone: its id is learned when the dial completes. */
  readonly peerId?: string
}

/** Options after validation: every default filled in, limits folded into the profile. */
export interface ResolvedOverlayOptions {
  readonly keys: OverlayKeys
  readonly identity: PrivateKey
  readonly listen: readonly string[]
  readonly peers: readonly StaticPeer[]
  readonly mdnsEnabled: boolean
  readonly dhtEnabled: boolean
  readonly profile: OverlayProfile
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'] as const

function badOption (option: string, problem: string): OverlayError {
  return new OverlayError('OVERLAY_BAD_OPTION', `overlay option ${option}: ${problem}`)
}

function checkInteger (option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badOption(option, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/** Parses a TCP multiaddr; `option` names it in the error (e.g. `peers[2]`). */
function parseTcpAddress (option: string, value: unknown): Multiaddr {
  if (typeof value !== 'string') {
    throw badOption(option, `must be a multiaddr string such as /ip4/192.168.1.10/tcp/4001, got ${typeof value}`)
  }
  let address: Multiaddr
  try {
    address = multiaddr(value)
  } catch (err) {
    throw badOption(option, `${JSON.stringify(value)} is not a multiaddr (${(err as Error).message}); write it like /ip4/192.168.1.10/tcp/4001`)
  }
  if (!address.getComponents().some(component => component.name === 'tcp')) {
    throw badOption(option, `${JSON.stringify(value)} has no /tcp/<port>: the overlay only speaks TCP`)
  }
  return address
}

function parseStaticPeer (option: string, value: unknown, ownPeerId: string): StaticPeer {
  const text = typeof value === 'string' ? staticPeerMultiaddr(value.trim()) : undefined
  if (typeof value === 'string' && text === undefined) {
    throw badOption(option, `${JSON.stringify(value)} is not a peer address: write ${STATIC_PEER_FORMS}`)
  }
  const address = parseTcpAddress(option, text ?? value)
  const peerId = address.getComponents().findLast(component => component.name === 'p2p')?.value
  // By address alone: the private network keeps strangers out, and the id comes with the handshake.
  if (peerId === undefined) return { address }
  try {
    peerIdFromString(peerId)
  } catch {
    throw badOption(option, `${JSON.stringify(peerId)} in ${address.toString()} is not a libp2p peer id`)
  }
  if (peerId === ownPeerId) {
    throw badOption(option, `${address.toString()} is this node itself; remove it from the static peers`)
  }
  return { address, peerId }
}

/** A whole-number field's allowed range; booleans are only checked to be booleans. */
interface IntegerRange { readonly min: number, readonly max: number }

/**
 * The range of every field `tuning` may set. A mapped type, so a new profile field cannot be
 * forgotten here. Lower bounds are where a smaller value stops working: 0 ms turns an interval into
 * a busy loop, a dial shorter than DIAL_TIMEOUT_MS_MIN cannot finish a handshake.
 */
const TUNING_FIELDS: { readonly [K in keyof OverlayProfile]: OverlayProfile[K] extends boolean ? 'boolean' : IntegerRange } = {
  mdnsIntervalInitialMs: { min: MDNS_INTERVAL_MS_MIN, max: DURATION_MS_MAX },
  mdnsIntervalMaxMs: { min: MDNS_INTERVAL_MS_MIN, max: DURATION_MS_MAX },
  rendezvousIntervalMs: { min: 1, max: DURATION_MS_MAX },
  rendezvousTimeoutMs: { min: DIAL_TIMEOUT_MS_MIN, max: DURATION_MS_MAX },
  reconcileIntervalMs: { min: 1, max: DURATION_MS_MAX },
  redialBackoffInitialMs: { min: 1, max: DURATION_MS_MAX },
  redialBackoffMaxMs: { min: 1, max: DURATION_MS_MAX },
  dialTimeoutMs: { min: DIAL_TIMEOUT_MS_MIN, max: DURATION_MS_MAX },
  addressDialTimeoutMs: { min: DIAL_TIMEOUT_MS_MIN, max: DURATION_MS_MAX },
  pnetHandshakeTimeoutMs: { min: DIAL_TIMEOUT_MS_MIN, max: DURATION_MS_MAX },
  inboundUpgradeTimeoutMs: { min: DIAL_TIMEOUT_MS_MIN, max: DURATION_MS_MAX },
  maxConnections: { min: 2, max: CONNECTIONS_MAX },
  targetConnections: { min: 0, max: CONNECTIONS_MAX },
  maxIncomingPendingConnections: { min: 1, max: CONNECTIONS_MAX },
  inboundConnectionsPerHostPerSecond: { min: 1, max: CONNECTIONS_MAX },
  discoveryDialConcurrency: { min: 1, max: CONNECTIONS_MAX },
  connectionPingIntervalMs: { min: 1, max: DURATION_MS_MAX },
  allowLoopback: 'boolean'
}

function isTunable (key: string): key is keyof OverlayProfile {
  return Object.hasOwn(TUNING_FIELDS, key)
}

/** What is wrong with a `tuning` object: the field at fault ('' for the whole) and the problem. */
export interface OverlayTuningProblem {
  readonly field: string
  readonly problem: string
}

/**
 * The first problem of an overlay `tuning` object taken alone (shape, unknown fields, ranges), or
 * null. Exported so that a caller (the bootstrapper) can refuse bad tuning before anything starts,
 * naming the field its own way; the relations are checked when the profile is built.
 */
export function overlayTuningProblem (tuning: unknown): OverlayTuningProblem | null {
  if (typeof tuning !== 'object' || tuning === null || Array.isArray(tuning)) {
    return { field: '', problem: `must be an object of profile fields such as { mdnsIntervalMaxMs: 1000 }, got ${tuning === null ? 'null' : Array.isArray(tuning) ? 'an array' : typeof tuning}` }
  }
  for (const [key, value] of Object.entries(tuning)) {
    if (!isTunable(key)) {
      return { field: key, problem: `is not a field of the overlay profile; use one of ${Object.keys(TUNING_FIELDS).join(', ')}` }
    }
    const range = TUNING_FIELDS[key]
    if (range === 'boolean') {
      if (typeof value !== 'boolean') return { field: key, problem: `must be true or false, got ${JSON.stringify(value) ?? typeof value}` }
    } else if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      return { field: key, problem: `must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(value) ?? typeof value}` }
    }
  }
  return null
}

/** The profile's whole-number fields (all but the booleans). */
type NumberField = { [K in keyof OverlayProfile]: OverlayProfile[K] extends number ? K : never }[keyof OverlayProfile]

/** Pairs of fields whose order the overlay relies on: the first must not exceed the second. */
const TUNING_RELATIONS: ReadonlyArray<readonly [NumberField, NumberField, string]> = [
  ['targetConnections', 'maxConnections', 'the reconcile loop cannot aim above the hard cap'],
  ['mdnsIntervalInitialMs', 'mdnsIntervalMaxMs', 'the query interval only grows from the first to the longest'],
  ['redialBackoffInitialMs', 'redialBackoffMaxMs', 'the back-off only grows from the first to the longest'],
  ['addressDialTimeoutMs', 'dialTimeoutMs', 'one address cannot take longer than the whole dial']
]

/** `tuning` over an already resolved profile: each field checked, then the profile's relations. */
function tuneProfile (profile: OverlayProfile, tuning: unknown): OverlayProfile {
  const problem = overlayTuningProblem(tuning)
  if (problem !== null) throw badOption(problem.field === '' ? 'tuning' : `tuning.${problem.field}`, problem.problem)
  const given = tuning as Partial<OverlayProfile>
  const tuned: OverlayProfile = { ...profile, ...given }
  for (const [lower, upper, why] of TUNING_RELATIONS) {
    if (tuned[lower] > tuned[upper]) {
      const field = Object.hasOwn(given, lower) ? lower : upper
      throw badOption(`tuning.${field}`, `makes ${lower} (${tuned[lower]}) larger than ${upper} (${tuned[upper]}): ${why}; tune both, or leave ${field} to the profile`)
    }
  }
  return tuned
}

function resolveProfile (options: OverlayOptions): OverlayProfile {
  const name = options.profile ?? 'lan'
  if (name !== 'lan' && name !== 'wan' && name !== 'test') {
    throw badOption('profile', `must be 'lan', 'wan' or 'test', got ${JSON.stringify(name)}`)
  }
  const base = profileByName(name)
  const limits = options.limits ?? {}
  const maxConnections = limits.maxConnections === undefined
    ? base.maxConnections
    : checkInteger('limits.maxConnections', limits.maxConnections, 2, CONNECTIONS_MAX)
  const dialTimeoutMs = limits.dialTimeoutMs === undefined
    ? base.dialTimeoutMs
    : checkInteger('limits.dialTimeoutMs', limits.dialTimeoutMs, DIAL_TIMEOUT_MS_MIN, DURATION_MS_MAX)
  const addressDialTimeoutMs = limits.addressDialTimeoutMs === undefined
    ? Math.min(base.addressDialTimeoutMs, dialTimeoutMs)
    : checkInteger('limits.addressDialTimeoutMs', limits.addressDialTimeoutMs, DIAL_TIMEOUT_MS_MIN, dialTimeoutMs)
  const maxIncomingPendingConnections = limits.maxIncomingPendingConnections === undefined
    ? base.maxIncomingPendingConnections
    : checkInteger('limits.maxIncomingPendingConnections', limits.maxIncomingPendingConnections, 1, CONNECTIONS_MAX)
  let mdnsIntervalInitialMs = base.mdnsIntervalInitialMs
  if (typeof options.mdns === 'object' && options.mdns !== null) {
    mdnsIntervalInitialMs = checkInteger('mdns.intervalMs', options.mdns.intervalMs, MDNS_INTERVAL_MS_MIN, DURATION_MS_MAX)
  }
  const limited: OverlayProfile = {
    ...base,
    maxConnections,
    // Room is kept for inbound dials from peers that need us (see the profile field).
    targetConnections: Math.min(base.targetConnections, maxConnections - 1),
    dialTimeoutMs,
    addressDialTimeoutMs,
    maxIncomingPendingConnections,
    mdnsIntervalInitialMs,
    // A caller's initial interval above the profile's maximum means "never faster than this".
    mdnsIntervalMaxMs: Math.max(base.mdnsIntervalMaxMs, mdnsIntervalInitialMs)
  }
  return options.tuning === undefined ? limited : tuneProfile(limited, options.tuning)
}

function checkList (option: string, value: unknown, max: number): unknown[] {
  if (!Array.isArray(value)) {
    throw badOption(option, `must be an array of multiaddr strings, got ${typeof value}`)
  }
  if (value.length > max) {
    throw badOption(option, `has ${value.length} entries; at most ${max} are allowed`)
  }
  return value
}

/**
 * Validates everything once, before anything starts, naming the option at fault.
 * `keysFromToken` turns a token into keys (injected so this module stays free of token parsing).
 */
export function resolveOverlayOptions (
  options: OverlayOptions,
  ownPeerId: string,
  keysFromToken: (token: string | NetworkToken) => OverlayKeys
): ResolvedOverlayOptions {
  if (options.identity?.type !== 'Ed25519') {
    throw badOption('identity', 'must be an Ed25519 libp2p private key (use loadOrCreateIdentity)')
  }
  if ((options.token === undefined) === (options.keys === undefined)) {
    throw badOption('token', 'give exactly one of `token` and `keys`')
  }
  const keys = options.keys !== undefined
    ? validateKeys('keys', options.keys)
    : validateKeys('token', keysFromToken(options.token ?? ''))
  const listen = checkList('listen', options.listen ?? [...DEFAULT_LISTEN], LISTEN_ADDRESSES_MAX)
    .map((value, index) => parseTcpAddress(`listen[${index}]`, value).toString())
  if (listen.length === 0) {
    throw badOption('listen', 'must hold at least one address, e.g. /ip4/0.0.0.0/tcp/4001')
  }
  const peers = checkList('peers', options.peers ?? [], STATIC_PEERS_MAX)
    .map((value, index) => parseStaticPeer(`peers[${index}]`, value, ownPeerId))
  if (options.mdns !== undefined && typeof options.mdns !== 'boolean' && (typeof options.mdns !== 'object' || options.mdns === null)) {
    throw badOption('mdns', `must be true, false or { intervalMs }, got ${options.mdns === null ? 'null' : typeof options.mdns}`)
  }
  if (options.dht !== undefined && typeof options.dht !== 'boolean') {
    throw badOption('dht', `must be true or false, got ${typeof options.dht}`)
  }
  return {
    keys,
    identity: options.identity,
    listen,
    peers,
    mdnsEnabled: options.mdns !== undefined && options.mdns !== false,
    dhtEnabled: options.dht ?? true,
    profile: resolveProfile(options)
  }
}
