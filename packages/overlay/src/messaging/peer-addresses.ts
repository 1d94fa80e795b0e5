import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { PEER_ADDRESS_CHARS_MAX, PEER_ADDRESSES_MAX } from './limits.js'

/** Addresses of one peer that may go into the peer store, and how many were refused. */
export interface CheckedPeerAddresses {
  /** Host and TCP port only, without the /p2p suffix (the peer store keys them by peer id). */
  readonly addresses: readonly Multiaddr[]
  readonly skipped: number
}

const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/**
 * The dialable form of one address learned from the network, or undefined if it is not
 * `/<ip4|ip6|dns…>/<host>/tcp/<port>` optionally followed by `/p2p/<peerId>` of that same peer.
 * Anything else (another peer's id, relays, other transports) would let a peer's ledger record
 * point our dials somewhere we did not mean to go, so it is refused rather than stored.
 */
export function checkPeerAddress (peerId: string, value: unknown): Multiaddr | undefined {
  if (typeof value !== 'string' || value.length > PEER_ADDRESS_CHARS_MAX) return undefined
  let address: Multiaddr
  try {
    address = multiaddr(value)
  } catch {
    return undefined
  }
  const [host, tcp, p2p, ...rest] = address.getComponents()
  if (host === undefined || !HOST_PROTOCOLS.has(host.name) || tcp?.name !== 'tcp' || rest.length > 0) return undefined
  if (p2p !== undefined && (p2p.name !== 'p2p' || p2p.value !== peerId)) return undefined
  return multiaddr([host, tcp])
}

/** Checks each address (at most `PEER_ADDRESSES_MAX`; the rest count as skipped) and removes duplicates. */
export function checkPeerAddresses (peerId: string, values: readonly unknown[]): CheckedPeerAddresses {
  const seen = new Set<string>()
  const addresses: Multiaddr[] = []
  let skipped = Math.max(0, values.length - PEER_ADDRESSES_MAX)
  for (const value of values.slice(0, PEER_ADDRESSES_MAX)) {
    const address = checkPeerAddress(peerId, value)
    if (address === undefined) {
      skipped += 1
      continue
    }
    const text = address.toString()
    if (!seen.has(text)) {
      seen.add(text)
      addresses.push(address)
    }
  }
  return { addresses, skipped }
}
