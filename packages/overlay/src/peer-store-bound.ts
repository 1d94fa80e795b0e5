import type { Libp2p, PeerId, PeerUpdate } from '@libp2p/interface'

/**
 * A count limit on libp2p's peer store, which has none of its own (only ages: addresses 1 h,
 * peers 6 h). mDNS, the DHT and identify put every peer they hear of into it, so an outsider on
 * the LAN who knows the cluster's mDNS service name could announce peer ids by the thousand and
 * each would be kept for an hour. Here every peer new to the store is noted in arrival order;
 * while more than `othersMax` of those noted are neither protected (members, static and kept
 * peers, as `isProtected` says) nor connected, the oldest such are deleted from the store.
 * Protected and connected peers are never deleted: their number is bounded elsewhere (the ledger,
 * the static-peer limit, the connection limit).
 */

export interface PeerStoreBoundStats {
  /** Peers noted as in the store now (some may have expired there since). */
  readonly tracked: number
  /** Peers deleted from the store to keep it within the bound. */
  readonly evicted: number
}

export class PeerStoreBound {
  /** Peers new to the store, oldest first (a Map keeps insertion order). */
  readonly #tracked = new Map<string, PeerId>()
  #evicted = 0
  #started = false

  constructor (
    private readonly libp2p: Libp2p,
    private readonly othersMax: number,
    private readonly isProtected: (peerId: string) => boolean,
    private readonly onEvicted: (peerId: string) => void = () => {}
  ) {}

  start (): void {
    if (this.#started) return
    this.#started = true
    this.libp2p.addEventListener('peer:update', this.#onUpdate)
  }

  stop (): void {
    this.#started = false
    this.libp2p.removeEventListener('peer:update', this.#onUpdate)
    this.#tracked.clear()
  }

  stats (): PeerStoreBoundStats {
    return { tracked: this.#tracked.size, evicted: this.#evicted }
  }

  readonly #onUpdate = (event: CustomEvent<PeerUpdate>): void => {
    const { peer, previous } = event.detail
    // Only a peer new to the store (or back after it expired or was deleted) adds an entry.
    if (previous !== undefined || peer.id.equals(this.libp2p.peerId)) return
    const id = peer.id.toString()
    this.#tracked.delete(id)
    this.#tracked.set(id, peer.id)
    // Cheap test first: only when the store may be over the bound are protections looked at.
    if (this.#tracked.size > this.othersMax) this.#evictOldestOthers()
  }

  #evictOldestOthers (): void {
    const others: Array<[string, PeerId]> = []
    for (const entry of this.#tracked) {
      if (!this.isProtected(entry[0]) && this.libp2p.getConnections(entry[1]).length === 0) others.push(entry)
    }
    for (const [id, peerId] of others.slice(0, Math.max(0, others.length - this.othersMax))) {
      this.#tracked.delete(id)
      this.#evicted++
      this.onEvicted(id)
      void this.libp2p.peerStore.delete(peerId).catch(() => {
        // Stopped meanwhile: the whole store goes with the node.
      })
    }
  }
}
