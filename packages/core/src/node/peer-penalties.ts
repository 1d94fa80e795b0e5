import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'

/**
 * Bad signatures per sender, so checking them costs a peer's own budget and not the node's event
 * loop: a token holder once sent a 1 MB delta of 4,000 entries with random signatures and blocked
 * a node for 5 s (its peers declared it dead). A peer that sends more than `badSignaturesMax` bad
 * signatures within `windowMs` is penalised for `penaltyMs`: its ledger messages are dropped
 * unread, and the node says so once (the adapter disconnects it for that long). Honest peers never
 * send a bad signature: they forward only entries they verified.
 */

export interface PeerPenaltyBounds {
  readonly badSignaturesMax: number
  readonly windowMs: number
  readonly penaltyMs: number
  /** Peers tracked at once; the least recently seen is forgotten first. */
  readonly peersMax: number
}

interface Record {
  windowStartMs: number
  badSignatures: number
  penalisedUntilMs: number
}

export class PeerPenalties {
  readonly #records = new Map<NodeId, Record>()

  constructor (readonly bounds: PeerPenaltyBounds) {
    assert(bounds.badSignaturesMax > 0 && bounds.windowMs > 0 && bounds.penaltyMs > 0 && bounds.peersMax > 0, 'peer penalty bounds are positive')
  }

  /** True while `peer` is penalised: its ledger messages are not read. */
  penalised (peer: NodeId, nowMs: number): boolean {
    const record = this.#records.get(peer)
    return record !== undefined && nowMs < record.penalisedUntilMs
  }

  /**
   * Counts `count` bad signatures from `peer`; returns the end of a penalty that starts now, or
   * null when the peer is still within its budget (or already penalised).
   */
  badSignatures (peer: NodeId, count: number, nowMs: number): number | null {
    const record = this.#touch(peer, nowMs)
    if (nowMs < record.penalisedUntilMs) return null
    if (nowMs - record.windowStartMs >= this.bounds.windowMs) {
      record.windowStartMs = nowMs
      record.badSignatures = 0
    }
    record.badSignatures += count
    if (record.badSignatures <= this.bounds.badSignaturesMax) return null
    record.penalisedUntilMs = nowMs + this.bounds.penaltyMs
    record.badSignatures = 0
    record.windowStartMs = nowMs
    return record.penalisedUntilMs
  }

  #touch (peer: NodeId, nowMs: number): Record {
    const known = this.#records.get(peer)
    if (known !== undefined) {
      // Most recently seen last, so the first key is the one to forget.
      this.#records.delete(peer)
      this.#records.set(peer, known)
      return known
    }
    if (this.#records.size >= this.bounds.peersMax) {
      const oldest = this.#records.keys().next().value
      if (oldest !== undefined) this.#records.delete(oldest)
    }
    const record = { windowStartMs: nowMs, badSignatures: 0, penalisedUntilMs: 0 }
    this.#records.set(peer, record)
    return record
  }
}
