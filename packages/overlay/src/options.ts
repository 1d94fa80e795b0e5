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
  /** Static peers: TCP multiaddrs ending in `/p2p/<peer id>`, dialled at start and kept. */
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
}

/** A static peer: its address and the peer id it must answer with. */
export interface StaticPeer {
  readonly address: Multiaddr
  readonly peerId: string
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
  const address = parseTcpAddress(option, value)
  const peerId = address.getComponents().findLast(component => component.name === 'p2p')?.value
  if (peerId === undefined) {
    throw badOption(option, `${address.toString()} has no /p2p/<peer id>: add the peer id the node prints at start, so a stranger cannot answer in its place`)
  }
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
  return {
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
