import type { NodeId } from '../identity.js'
import { RELAYS_PENDING_MAX } from './limits.js'

/** An indirect probe this node runs for someone else: our ping's seq maps back to theirs. */
interface Relay {
  readonly requester: NodeId
  readonly requesterSeq: number
  readonly expiresMs: number
}

/** Pending indirect probes, bounded; entries expire in insertion order (they share one lifetime). */
export class Relays {
  private readonly pending = new Map<number, Relay>()

  /** False when full: the request is dropped, and the requester's other intermediaries still try. */
  add (seq: number, relay: Relay): boolean {
    if (this.pending.size >= RELAYS_PENDING_MAX) return false
    this.pending.set(seq, relay)
    return true
  }

  /** Removes and returns the relay waiting for an ack of `seq`, if any. */
  take (seq: number): Relay | undefined {
    const relay = this.pending.get(seq)
    if (relay !== undefined) this.pending.delete(seq)
    return relay
  }

  expire (nowMs: number): void {
    for (const [seq, relay] of this.pending) {
      if (relay.expiresMs > nowMs) break
      this.pending.delete(seq)
    }
  }

  /** When the oldest relay expires, or Infinity. */
  nextExpiryMs (): number {
    for (const relay of this.pending.values()) return relay.expiresMs
    return Number.POSITIVE_INFINITY
  }
}
