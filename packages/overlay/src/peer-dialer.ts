import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { redialDelayMs } from './backoff.js'
import { KNOWN_PEERS_MAX } from './limits.js'
import type { StaticPeer } from './options.js'
import type { OverlayProfile } from './profiles.js'

/** A static peer given by address alone; its id is learned from the first connection. */
interface AddressPeer {
  readonly address: StaticPeer['address']
  /** The id that answered at this address (it may change if the machine was reinstalled). */
  peerId: PeerId | undefined
  /** The address is one of this node's own (a fleet-wide list includes every node): never dialled. */
  isSelf: boolean
  failures: number
  nextAttemptAtMs: number
}

interface KnownPeer {
  readonly peerId: PeerId
  /** Set for static peers: dialled by this address, kept connected regardless of the target. */
  readonly address: StaticPeer['address'] | undefined
  failures: number
  nextAttemptAtMs: number
}

/**
 * Keeps the node connected: libp2p v3 does not dial the peers it discovers, so this dials them
 * (bounded concurrency, up to `targetConnections`), keeps static peers connected, and re-dials
 * with back-off from a reconcile loop. A static peer given by address alone is dialled by that
 * address and kept connected under the id that answered. It holds no protocol logic.
 */
export class PeerDialer {
  private readonly known = new Map<string, KnownPeer>()
  private readonly byAddress: AddressPeer[] = []
  private readonly dialling = new Set<string>()
  /** Peers the application wants connected whatever the target (the control plane). */
  private kept = new Set<string>()
  private controller: AbortController | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor (
    private readonly libp2p: Libp2p,
    private readonly profile: OverlayProfile,
    staticPeers: readonly StaticPeer[]
  ) {
    for (const peer of staticPeers) {
      if (peer.peerId === undefined) {
        this.byAddress.push({ address: peer.address, peerId: undefined, isSelf: false, failures: 0, nextAttemptAtMs: 0 })
      } else {
        this.known.set(peer.peerId, { peerId: peerIdFromString(peer.peerId), address: peer.address, failures: 0, nextAttemptAtMs: 0 })
      }
    }
  }

  start (): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.reconcile()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.controller?.abort(new Error('overlay stopped'))
    this.controller = undefined
  }

  /**
   * Keeps these peers connected like static peers (dialled by the addresses in the peer store,
   * above the discovery target); replaces the previous set.
   */
  keep (peerIds: readonly string[]): void {
    this.kept = new Set(peerIds.filter(id => id !== this.libp2p.peerId.toString()))
    for (const id of this.kept) {
      if (!this.known.has(id)) this.rememberPeer(peerIdFromString(id))
      this.dialIfWanted(id)
    }
  }

  /** A peer was discovered (mDNS, DHT). The smaller peer id dials first, so crossing dials are rare. */
  discovered (peerId: PeerId): void {
    const id = peerId.toString()
    if (!this.known.has(id)) {
      this.rememberPeer(peerId)
    }
    if (this.libp2p.peerId.toString() < id) {
      this.dialIfWanted(id)
    }
  }

  /**
   * Two connections to one peer come from crossing dials. Both sides keep the one dialled by the
   * smaller peer id, so they close the same one.
   */
  connectionOpened (connection: Connection): void {
    const connections = this.libp2p.getConnections(connection.remotePeer)
    if (connections.length < 2) return
    const localIsSmaller = this.libp2p.peerId.toString() < connection.remotePeer.toString()
    const keptDirection = localIsSmaller ? 'outbound' : 'inbound'
    const kept = connections.find(candidate => candidate.direction === keptDirection) ?? connections[0]
    for (const candidate of connections) {
      if (candidate !== kept) {
        candidate.close().catch((err: unknown) => { candidate.abort(err instanceof Error ? err : new Error(String(err))) })
      }
    }
  }

  /** True for static peers (by id, or by address once it answered) and peers kept by `keep`. */
  isPinnedId (id: string): boolean {
    const known = this.known.get(id)
    return (known !== undefined && this.isPinned(known)) || this.kept.has(id) ||
      this.byAddress.some(peer => peer.peerId?.toString() === id)
  }

  /** A discovered peer left the peer store (its bound): no addresses to dial it by any more. */
  forget (id: string): void {
    if (!this.isPinnedId(id)) this.known.delete(id)
  }

  private rememberPeer (peerId: PeerId): void {
    if (this.known.size >= KNOWN_PEERS_MAX) {
      // The oldest discovered peer that is not static and not connected makes room.
      for (const [id, peer] of this.known) {
        if (peer.address === undefined && !this.kept.has(id) && !this.isConnected(peer.peerId)) {
          this.known.delete(id)
          break
        }
      }
    }
    if (this.known.size < KNOWN_PEERS_MAX) {
      this.known.set(peerId.toString(), { peerId, address: undefined, failures: 0, nextAttemptAtMs: 0 })
    }
  }

  private isPinned (peer: KnownPeer): boolean {
    return peer.address !== undefined || this.kept.has(peer.peerId.toString())
  }

  private isConnected (peerId: PeerId): boolean {
    return this.libp2p.getConnections(peerId).length > 0
  }

  private dialIfWanted (id: string): void {
    const peer = this.known.get(id)
    if (peer === undefined || this.isConnected(peer.peerId)) return
    const isStatic = peer.address !== undefined || this.kept.has(id)
    if (!isStatic && this.libp2p.getPeers().length + this.dialling.size >= this.profile.targetConnections) return
    if (this.dialling.has(id) || this.dialling.size >= this.profile.discoveryDialConcurrency) return
    if (performance.now() < peer.nextAttemptAtMs) return
    void this.dial(peer)
  }

  private async dial (peer: KnownPeer): Promise<void> {
    const signal = this.controller?.signal
    if (signal === undefined) return
    const id = peer.peerId.toString()
    this.dialling.add(id)
    try {
      await this.libp2p.dial(peer.address ?? peer.peerId, { signal })
      this.noteDialed(peer, true)
    } catch {
      // Failures are expected (peer down, wrong token); back-off bounds what they cost.
      this.noteDialed(peer, false)
    } finally {
      this.dialling.delete(id)
    }
  }

  /**
   * Dials a peer known by address only, unless it is connected under the id learned there. Its
   * own addresses are skipped: one list for the whole fleet names this node too.
   */
  private dialAddressIfWanted (peer: AddressPeer): void {
    if (peer.isSelf) return
    if (peer.peerId !== undefined && this.isConnected(peer.peerId)) return
    const key = `address:${peer.address.toString()}`
    if (this.dialling.has(key) || this.dialling.size >= this.profile.discoveryDialConcurrency) return
    if (performance.now() < peer.nextAttemptAtMs) return
    if (this.isOwnAddress(peer.address.toString())) {
      peer.isSelf = true
      return
    }
    void this.dialAddress(peer, key)
  }

  private isOwnAddress (address: string): boolean {
    const own = this.libp2p.peerId.toString()
    return this.libp2p.getMultiaddrs().some(candidate => candidate.toString().replace(`/p2p/${own}`, '') === address)
  }

  private async dialAddress (peer: AddressPeer, key: string): Promise<void> {
    const signal = this.controller?.signal
    if (signal === undefined) return
    this.dialling.add(key)
    try {
      const connection = await this.libp2p.dial(peer.address, { signal })
      if (connection.remotePeer.equals(this.libp2p.peerId)) {
        // This node answered at an address it does not list as its own (a NAT, a second name).
        peer.isSelf = true
        await connection.close()
        return
      }
      peer.peerId = connection.remotePeer
      this.noteDialed(peer, true)
    } catch {
      // As for any static peer: down, not yet booted, or without the token; back-off bounds the cost.
      this.noteDialed(peer, false)
    } finally {
      this.dialling.delete(key)
    }
  }

  /** A success clears the back-off; a failure lengthens it (backoff.ts), so failed dials cost little. */
  private noteDialed (peer: AddressPeer | KnownPeer, connected: boolean): void {
    peer.failures = connected ? 0 : peer.failures + 1
    peer.nextAttemptAtMs = connected
      ? 0
      : performance.now() + redialDelayMs(peer.failures, this.profile.redialBackoffInitialMs, this.profile.redialBackoffMaxMs)
  }

  /** One pass: static peers first (always wanted), then known peers up to the target. */
  private reconcile (): void {
    if (this.controller === undefined) return
    for (const peer of this.byAddress) this.dialAddressIfWanted(peer)
    const ordered = [...this.known.values()]
      .sort((a, b) => Number(this.isPinned(b)) - Number(this.isPinned(a)) || a.nextAttemptAtMs - b.nextAttemptAtMs)
    for (const peer of ordered) {
      this.dialIfWanted(peer.peerId.toString())
    }
    this.timer = setTimeout(() => { this.reconcile() }, this.profile.reconcileIntervalMs)
  }
}
