/**
 * Every key the network needs, derived from the token's one secret with HKDF-SHA256 under a
 * fixed salt and a distinct label per key, so learning one key (the public cluster id, the mDNS
 * name seen on the LAN) reveals nothing about the secret or any other key.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { base32 } from '@scure/base'
import { assert } from '../assert.js'
import { RENDEZVOUS_SLOT_MS_DEFAULT, SECRET_BYTES } from './constants.js'
import type { NetworkToken } from './types.js'

const DERIVE_SALT = 'p2p-bootstrap/network-token'

/** One label per derived key; the test checks they are pairwise distinct. */
export const DERIVATION_LABELS = {
  clusterId: 'p2pb/v1/cluster-id',
  pnetKey: 'p2pb/v1/pnet-psk',
  mdnsServiceName: 'p2pb/v1/mdns-service',
  dhtProtocolPrefix: 'p2pb/v1/dht-protocol',
  syncProtocolPrefix: 'p2pb/v1/sync-protocol',
  sealingKey: 'p2pb/v1/sealing-key',
  rendezvousKey: 'p2pb/v1/rendezvous-slot/'
} as const

const CLUSTER_ID_BYTES = 10 // 80 bits: 16 base32 characters, collision-free across any real fleet
const PNET_KEY_BYTES = 32 // the length @libp2p/pnet requires
const MDNS_NAME_BYTES = 5 // 'p2pb-' + 10 hex = 15 characters, the RFC 6335 service-name maximum
const PROTOCOL_TAG_BYTES = 6 // 12 hex characters inside a protocol id
const SEALING_KEY_BYTES = 32 // an XChaCha20-Poly1305 / AES-256 key
const RENDEZVOUS_KEY_BYTES = 32

/** The swarm-key text header that @libp2p/pnet's `preSharedKey({ psk })` parses. */
const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'

export interface DerivedKeys {
  /** Public, short and safe to log or show: 'c' + 16 lower-case base32 characters. */
  readonly clusterId: string
  /** The pnet pre-shared key in swarm-key text form, as bytes: pass to `preSharedKey({ psk })`. */
  readonly pnetKey: Uint8Array
  /** A DNS-SD service name ('p2pb-' + 10 hex); the mDNS service tag is `_<name>._udp.local`. */
  readonly mdnsServiceName: string
  /** kad-dht `protocol` prefix ('/p2pb/' + 12 hex): keeps our DHT apart from any other. */
  readonly dhtProtocolPrefix: string
  /** Prefix of our own stream protocols ('/p2pb-sync/' + 12 hex), e.g. `${prefix}/ledger/1.0.0`. */
  readonly syncProtocolPrefix: string
  /** 32-byte key that seals ledger payloads readable by members only (the agent token). */
  readonly sealingKey: Uint8Array
  /** 32-byte DHT rendezvous key of a time slot (see `rendezvousSlots`); rotates so outsiders cannot track it. */
  readonly rendezvousKey: (slot: number) => Uint8Array
}

/** Derives every network key from the token; pure and deterministic. */
export function deriveKeys (token: NetworkToken): DerivedKeys {
  const { secret } = token
  assert(secret.byteLength === SECRET_BYTES, 'a parsed token holds a 32-byte secret')
  const subkey = (label: string, length: number): Uint8Array =>
    hkdf(sha256, secret, utf8ToBytes(DERIVE_SALT), utf8ToBytes(label), length)
  const pnetHex = bytesToHex(subkey(DERIVATION_LABELS.pnetKey, PNET_KEY_BYTES))
  return {
    clusterId: 'c' + base32.encode(subkey(DERIVATION_LABELS.clusterId, CLUSTER_ID_BYTES)).toLowerCase(),
    pnetKey: utf8ToBytes(SWARM_KEY_HEADER + pnetHex),
    mdnsServiceName: 'p2pb-' + bytesToHex(subkey(DERIVATION_LABELS.mdnsServiceName, MDNS_NAME_BYTES)),
    dhtProtocolPrefix: '/p2pb/' + bytesToHex(subkey(DERIVATION_LABELS.dhtProtocolPrefix, PROTOCOL_TAG_BYTES)),
    syncProtocolPrefix: '/p2pb-sync/' + bytesToHex(subkey(DERIVATION_LABELS.syncProtocolPrefix, PROTOCOL_TAG_BYTES)),
    sealingKey: subkey(DERIVATION_LABELS.sealingKey, SEALING_KEY_BYTES),
    rendezvousKey: (slot: number): Uint8Array => {
      assert(Number.isSafeInteger(slot) && slot >= 0, 'a rendezvous slot is a non-negative integer (from rendezvousSlots)')
      return subkey(DERIVATION_LABELS.rendezvousKey + String(slot), RENDEZVOUS_KEY_BYTES)
    }
  }
}

/**
 * The rendezvous slots to use at `nowMs`: advertise under `current`, and also look under
 * `previous` so nodes whose clocks straddle a slot boundary still meet. At the very first slot
 * `previous` equals `current`.
 */
export function rendezvousSlots (nowMs: number, slotMs: number = RENDEZVOUS_SLOT_MS_DEFAULT): { current: number, previous: number } {
  assert(Number.isSafeInteger(slotMs) && slotMs > 0, 'a rendezvous slot length is a positive integer of ms')
  assert(Number.isFinite(nowMs) && nowMs >= 0, 'nowMs is a non-negative Unix time in ms')
  const current = Math.floor(nowMs / slotMs)
  return { current, previous: Math.max(current - 1, 0) }
}
