/**
 * Peers this node refuses for a while (the core found them sending bad signatures): no dial to
 * them, and no connection from them past the encryption handshake, until their time is up. Read by
 * libp2p's connection gater; bounded, so a flood of identities cannot grow it without limit.
 */

/** Peers blocked at once; past it the block ending first is dropped. */
export const BLOCKED_PEERS_MAX = 1024

export class PeerBlockList {
  readonly #untilMs = new Map<string, number>()

  // Monotonic, so a wall-clock step neither lifts a block early nor makes it last for hours.
  constructor (private readonly now: () => number = () => performance.now()) {}

  /** Refuses `peerId` until `untilMs` (this list's clock); a later block extends an earlier one. */
  block (peerId: string, untilMs: number): void {
    const known = this.#untilMs.get(peerId) ?? 0
    if (!this.#untilMs.has(peerId) && this.#untilMs.size >= BLOCKED_PEERS_MAX) this.#dropEarliest()
    this.#untilMs.set(peerId, Math.max(known, untilMs))
  }

  isBlocked (peerId: string): boolean {
    const untilMs = this.#untilMs.get(peerId)
    if (untilMs === undefined) return false
    if (this.now() < untilMs) return true
    this.#untilMs.delete(peerId)
    return false
  }

  get size (): number {
    return this.#untilMs.size
  }

  #dropEarliest (): void {
    let earliest: string | undefined
    let earliestMs = Number.POSITIVE_INFINITY
    for (const [peerId, untilMs] of this.#untilMs) {
      if (untilMs < earliestMs) { earliest = peerId; earliestMs = untilMs }
    }
    if (earliest !== undefined) this.#untilMs.delete(earliest)
  }
}
