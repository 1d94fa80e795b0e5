import { createLibp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from '@libp2p/interface'
import type { Connection, Libp2p, PeerId, PeerInfo } from '@libp2p/interface'
import { OverlayError } from './errors.js'
import { dialError } from './dial-error.js'
import { libp2pOptions } from './libp2p-config.js'
import { PeerBlockList } from './peer-block-list.js'
import { InboundHandshakes } from './inbound-handshakes.js'
import type { InboundHandshakeStats } from './inbound-handshakes.js'
import { INBOUND_HANDSHAKES_MAX, INBOUND_REFUSAL_DELAY_MS, PEER_STORE_OTHERS_MAX } from './limits.js'
import { PeerStoreBound } from './peer-store-bound.js'
import type { PeerStoreBoundStats } from './peer-store-bound.js'
import type { OverlayServices } from './libp2p-config.js'
import { resolveOverlayOptions } from './options.js'
import type { OverlayOptions, ResolvedOverlayOptions } from './options.js'
import type { NetworkToken } from '@p2p-bootstrap/core'
import type { OverlayKeys } from './keys.js'
import { PeerDialer } from './peer-dialer.js'
import { RendezvousDiscovery, routingTableOf } from './discovery/rendezvous.js'
import type { RendezvousStats } from './discovery/rendezvous.js'
import type { MdnsDiscoveryStats } from './discovery/mdns-discovery.js'

/** Events of an overlay; each carries the remote peer id string. */
export interface OverlayEvents {
  'peer:connect': CustomEvent<string>
  'peer:disconnect': CustomEvent<string>
  'peer:discovery': CustomEvent<string>
}

export interface AbortOptions {
  signal?: AbortSignal
}

/** Counters of each discovery mechanism, for tests and benchmarks; absent when it is off. */
export interface OverlayDiscoveryStats {
  readonly mdns: MdnsDiscoveryStats | undefined
  readonly rendezvous: RendezvousStats | undefined
}

/** Turns a token into keys; the default is the core's `deriveKeys(parseToken(text))`. */
export type KeysFromToken = (token: string | NetworkToken) => OverlayKeys

/** A running private libp2p node: only holders of the same token can connect to it. */
export class Overlay extends TypedEventEmitter<OverlayEvents> {
  readonly libp2p: Libp2p<OverlayServices>
  readonly peerId: string
  readonly clusterId: string
  /**
   * The DHT rendezvous (nodes on other subnets), when the DHT is on and the keys carry a
   * rendezvous key; its `peer` events say which providers each round found.
   */
  readonly rendezvous: RendezvousDiscovery | undefined
  private readonly dialer: PeerDialer
  private readonly signalTimeoutMs: number
  private readonly peerStoreBound: PeerStoreBound
  /** Members of the cluster (the bootstrapper says which): never dropped from the peer store. */
  private members = new Set<string>()

  constructor (
    libp2p: Libp2p<OverlayServices>,
    options: ResolvedOverlayOptions,
    private readonly blocked: PeerBlockList = new PeerBlockList(),
    private readonly handshakes: InboundHandshakes = new InboundHandshakes(INBOUND_HANDSHAKES_MAX)
  ) {
    super()
    this.libp2p = libp2p
    this.peerId = libp2p.peerId.toString()
    this.clusterId = options.keys.clusterId
    this.signalTimeoutMs = options.profile.dialTimeoutMs
    this.dialer = new PeerDialer(libp2p, options.profile, options.peers)
    this.rendezvous = rendezvousFor(libp2p, options)
    this.peerStoreBound = new PeerStoreBound(
      libp2p,
      PEER_STORE_OTHERS_MAX,
      (id) => this.members.has(id) || this.dialer.isPinnedId(id),
      (id) => { this.dialer.forget(id) }
    )
    this.rendezvous?.addEventListener('peer', (event: CustomEvent<PeerInfo>) => {
      // Also for peers already in the peer store, which raise no libp2p peer:discovery.
      this.dialer.discovered(event.detail.id)
    })
    libp2p.addEventListener('peer:connect', (event: CustomEvent<PeerId>) => {
      this.safeDispatchEvent('peer:connect', { detail: event.detail.toString() })
    })
    libp2p.addEventListener('peer:disconnect', (event: CustomEvent<PeerId>) => {
      this.safeDispatchEvent('peer:disconnect', { detail: event.detail.toString() })
    })
    libp2p.addEventListener('peer:discovery', (event: CustomEvent<PeerInfo>) => {
      if (event.detail.id.equals(libp2p.peerId)) return
      this.dialer.discovered(event.detail.id)
      this.safeDispatchEvent('peer:discovery', { detail: event.detail.id.toString() })
    })
    libp2p.addEventListener('connection:open', (event: CustomEvent<Connection>) => {
      this.dialer.connectionOpened(event.detail)
    })
  }

  /** Starts listening, discovery and the reconcile loop; idempotent. */
  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.libp2p.status !== 'started') {
      await this.libp2p.start()
    }
    if (options.signal?.aborted === true) {
      await this.stop()
      options.signal.throwIfAborted()
    }
    this.peerStoreBound.start()
    this.dialer.start()
    this.rendezvous?.start()
  }

  /** Stops the rendezvous and the reconcile loop, then closes every connection and listener; idempotent. */
  async stop (): Promise<void> {
    await this.rendezvous?.stop()
    this.dialer.stop()
    this.peerStoreBound.stop()
    await this.libp2p.stop()
  }

  /**
   * Inbound connections in their handshake now, and counters since start: begun, refused because
   * every place was taken, finished (token holders), and the most at once. Outsiders without the
   * token begin and never finish.
   */
  inboundHandshakeStats (): InboundHandshakeStats & { readonly pending: number } {
    return { ...this.handshakes.stats, pending: this.handshakes.pending }
  }

  /**
   * The peer store's bound: peers noted in it, and peers deleted from it because more than
   * `PEER_STORE_OTHERS_MAX` were neither members, static or kept peers, nor connected.
   */
  peerStoreStats (): PeerStoreBoundStats {
    return this.peerStoreBound.stats()
  }

  /**
   * The cluster's members (peer ids), replacing the last set: the peer store never drops them to
   * make room, however many other peers discovery reports.
   */
  setMembers (peerIds: readonly string[]): void {
    this.members = new Set(peerIds)
  }

  /** Counters of mDNS and the DHT rendezvous (undefined where one is off). */
  discoveryStats (): OverlayDiscoveryStats {
    return { mdns: this.libp2p.services.mdns?.stats(), rendezvous: this.rendezvous?.stats() }
  }

  /** Addresses others can dial, each ending in /p2p/<peer id>. */
  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(address => address.toString())
  }

  /**
   * Keeps these peers connected (re-dialled with back-off, above the discovery target, by the
   * addresses in the peer store): the control plane, once a plan names it. Replaces the last set.
   */
  keepConnected (peerIds: readonly string[]): void {
    this.dialer.keep(peerIds)
  }

  /**
   * Disconnects `peerId` and refuses it (no dial, no inbound connection) for `durationMs`: the
   * core found it sending bad signatures. Its earlier messages were already dropped by the core.
   */
  block (peerId: string, durationMs: number): void {
    let id
    try {
      id = peerIdFromString(peerId)
    } catch {
      return // not a peer id: nothing connected under it
    }
    this.blocked.block(peerId, performance.now() + Math.max(0, durationMs))
    void this.libp2p.hangUp(id).catch(() => {})
  }

  /** True while `peerId` is refused by `block`. */
  isBlocked (peerId: string): boolean {
    return this.blocked.isBlocked(peerId)
  }

  /** Peer ids with at least one open connection, sorted. */
  connectedPeers (): string[] {
    return this.libp2p.getPeers().map(peerId => peerId.toString()).sort()
  }

  /**
   * Dials one multiaddr. Throws `OVERLAY_HANDSHAKE_REFUSED` when the private-network handshake
   * fails (another token), `OVERLAY_DIAL_FAILED` otherwise, or the signal's reason when aborted.
   */
  async dial (address: string, options: AbortOptions = {}): Promise<Connection> {
    if (this.libp2p.status !== 'started') {
      throw new OverlayError('OVERLAY_NOT_STARTED', 'the overlay is not started: call start() before dial()')
    }
    let target
    try {
      target = multiaddr(address)
    } catch (err) {
      throw new OverlayError('OVERLAY_BAD_OPTION', `dial address ${JSON.stringify(address)} is not a multiaddr; write it like /ip4/192.168.1.10/tcp/4001/p2p/<peer id>`, { cause: err })
    }
    // libp2p's own dial timeout also applies; this bounds a call made without a signal.
    const signal = options.signal ?? AbortSignal.timeout(this.signalTimeoutMs)
    try {
      return await this.libp2p.dial(target, { signal })
    } catch (err) {
      options.signal?.throwIfAborted()
      throw dialError(address, err)
    }
  }
}

/** The DHT rendezvous of a node, or undefined when the DHT is off or the keys have no rendezvous key. */
function rendezvousFor (libp2p: Libp2p<OverlayServices>, options: ResolvedOverlayOptions): RendezvousDiscovery | undefined {
  const { rendezvousKey } = options.keys
  const dht = libp2p.services.dht
  if (!options.dhtEnabled || rendezvousKey === undefined || dht === undefined) return undefined
  return new RendezvousDiscovery(
    { peerId: libp2p.peerId, contentRouting: libp2p.contentRouting, routingTable: routingTableOf(dht), logger: libp2p.logger },
    { rendezvousKey, intervalMs: options.profile.rendezvousIntervalMs, timeoutMs: options.profile.rendezvousTimeoutMs }
  )
}

/**
 * Builds (and, unless `start: false`, starts) a private overlay node from validated options.
 * Every option is checked before libp2p is touched; errors name the option.
 */
export async function createOverlayWith (
  options: OverlayOptions,
  keysFromToken: KeysFromToken,
  abort: AbortOptions = {}
): Promise<Overlay> {
  abort.signal?.throwIfAborted()
  const ownPeerId = options.identity?.type === 'Ed25519' ? peerIdFromPrivateKey(options.identity).toString() : ''
  const resolved = resolveOverlayOptions(options, ownPeerId, keysFromToken)
  const blocked = new PeerBlockList()
  const handshakes = new InboundHandshakes(INBOUND_HANDSHAKES_MAX, INBOUND_REFUSAL_DELAY_MS)
  const libp2p = await createLibp2p(await libp2pOptions(resolved, blocked, handshakes))
  const overlay = new Overlay(libp2p, resolved, blocked, handshakes)
  if (options.start !== false) {
    try {
      await overlay.start(abort)
    } catch (err) {
      // A half-started node would keep its listeners open; nobody else holds it to stop it.
      await overlay.stop()
      throw err
    }
  }
  return overlay
}
