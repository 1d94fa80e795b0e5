import { OverlayError } from './errors.js'

/**
 * The keys the overlay needs from the network token. The core's `deriveKeys(token)` returns an
 * object with (at least) these fields, so its result can be passed as is.
 */
export interface OverlayKeys {
  /** The pnet pre-shared key in swarm-key text form (`/key/swarm/psk/1.0.0/\n/base16/\n<64 hex>`). */
  readonly pnetKey: Uint8Array
  /** A DNS-SD service name (RFC 6335); the mDNS service tag is `_<name>._udp.local`. */
  readonly mdnsServiceName: string
  /** The private kad-dht protocol prefix, so our DHT never mixes with a public one. */
  readonly dhtProtocolPrefix: string
  /** The public cluster id (a hash, safe to log). */
  readonly clusterId: string
  /**
   * The 32-byte DHT rendezvous key of a time slot (the core's `rendezvousKey`). Optional so keys
   * built by hand still work; without it the overlay runs no DHT rendezvous.
   */
  readonly rendezvousKey?: (slot: number) => Uint8Array
}

const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'
const SWARM_KEY_ENCODING = '/base16/'
const SWARM_KEY_HEX = /^[0-9a-fA-F]{64}$/
/** RFC 6335 service name: 1–15 letters, digits and inner hyphens. */
const MDNS_SERVICE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?$/
const DHT_PROTOCOL_PREFIX_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/
const NAME_LENGTH_MAX = 200

function badKey (option: string, problem: string): OverlayError {
  return new OverlayError('OVERLAY_BAD_OPTION', `overlay option ${option}: ${problem}; derive the keys with deriveKeys(parseToken(text))`)
}

/** The mDNS service tag (`_<name>._udp.local`) for a token-derived service name. */
export function mdnsServiceTag (mdnsServiceName: string): string {
  return `_${mdnsServiceName}._udp.local`
}

/** True if `bytes` is a swarm key in the text form @libp2p/pnet reads, with a 32-byte key. */
export function isSwarmKey (bytes: Uint8Array): boolean {
  const lines = new TextDecoder().decode(bytes).trim().split('\n')
  return lines.length === 3 &&
    lines[0] === SWARM_KEY_HEADER &&
    lines[1] === SWARM_KEY_ENCODING &&
    SWARM_KEY_HEX.test(lines[2] ?? '')
}

/** Checks the shape of each key, so a wrong value fails here and not deep inside libp2p. */
export function validateKeys (option: string, keys: OverlayKeys): OverlayKeys {
  if (!(keys.pnetKey instanceof Uint8Array) || !isSwarmKey(keys.pnetKey)) {
    throw badKey(`${option}.pnetKey`, `must be a swarm key (${SWARM_KEY_HEADER} ${SWARM_KEY_ENCODING} <64 hex digits>)`)
  }
  if (typeof keys.mdnsServiceName !== 'string' || !MDNS_SERVICE_NAME_PATTERN.test(keys.mdnsServiceName)) {
    throw badKey(`${option}.mdnsServiceName`, `must be a DNS-SD service name such as p2pb-0a1b2c3d4e, got ${JSON.stringify(keys.mdnsServiceName)}`)
  }
  if (typeof keys.dhtProtocolPrefix !== 'string' || keys.dhtProtocolPrefix.length > NAME_LENGTH_MAX ||
    !DHT_PROTOCOL_PREFIX_PATTERN.test(keys.dhtProtocolPrefix)) {
    throw badKey(`${option}.dhtProtocolPrefix`, `must be a protocol path such as /p2pb/abc, got ${JSON.stringify(keys.dhtProtocolPrefix)}`)
  }
  if (typeof keys.clusterId !== 'string' || keys.clusterId.length === 0 || keys.clusterId.length > NAME_LENGTH_MAX) {
    throw badKey(`${option}.clusterId`, 'must be a non-empty string')
  }
  if (keys.rendezvousKey !== undefined && typeof keys.rendezvousKey !== 'function') {
    throw badKey(`${option}.rendezvousKey`, `must be a function of the slot number, got ${typeof keys.rendezvousKey}`)
  }
  return keys
}
