import type { MultiaddrConnection } from '@libp2p/interface'

/**
 * Inbound connections still in their handshake (pnet, noise, yamux), bounded for every address.
 * libp2p's own `maxIncomingPendingConnections` and per-host rate limit skip allow-listed addresses
 * (loopback, for single-host runs), so a local process opening connections and never finishing
 * them would have held as many as it liked, each with a socket and a noise frame buffer (up to
 * 64 KiB). Here each inbound connection takes a place when libp2p hands it to the gater and gives
 * it back once upgraded or closed; with every place taken, the newest is refused after
 * `refusalDelayMs`, not at once: refused at once, a flood reconnected 4,000 times a second and the
 * garbage of each attempt grew the node by 185 MB, where a delay holds the attempts to the sockets
 * the listener takes (its `maxConnections`) per delay. Someone without the token never gets past
 * noise, so it holds a place for at most the upgrade timeout.
 */

export interface InboundHandshakeStats {
  /** Inbound connections that began a handshake. */
  started: number
  /** Inbound connections refused because every place was taken. */
  refused: number
  /** Inbound connections that finished their handshake (token holders). */
  upgraded: number
  /** The most in their handshake at once since start. */
  pendingPeak: number
}

export class InboundHandshakes {
  readonly stats: InboundHandshakeStats = { started: 0, refused: 0, upgraded: 0, pendingPeak: 0 }
  readonly #pending = new Set<MultiaddrConnection>()

  constructor (private readonly pendingMax: number, private readonly refusalDelayMs = 0) {}

  /** Connections in their handshake now. */
  get pending (): number {
    return this.#pending.size
  }

  /** libp2p's `denyInboundConnection`: true refuses the connection before any byte is read. */
  deny (connection: MultiaddrConnection): boolean | Promise<boolean> {
    if (this.#pending.size >= this.pendingMax) {
      this.stats.refused++
      if (this.refusalDelayMs <= 0) return true
      return new Promise((resolve) => { setTimeout(() => { resolve(true) }, this.refusalDelayMs) })
    }
    this.#pending.add(connection)
    this.stats.started++
    this.stats.pendingPeak = Math.max(this.stats.pendingPeak, this.#pending.size)
    connection.addEventListener('close', () => { this.#pending.delete(connection) }, { once: true })
    return false
  }

  /** The handshake finished (libp2p's `denyInboundUpgradedConnection` was asked): the place is free. */
  upgraded (connection: MultiaddrConnection): void {
    if (this.#pending.delete(connection)) this.stats.upgraded++
  }
}
