import type { NodeId } from '../identity.js'
import type { Prng } from '../prng.js'

/**
 * SWIM's randomised round-robin: members are probed in a shuffled order, reshuffled after each
 * full round, so each of M members is probed once per round — at most 2·M−1 periods apart —
 * rather than left to the luck of independent random picks. New members are inserted at a random
 * position in the rest of the current round.
 */
export class ProbeOrder {
  private order: NodeId[] = []
  private index = 0

  /** The next member to probe, or null if `candidates()` is empty. */
  next (prng: Prng, isProbeable: (nodeId: NodeId) => boolean, candidates: () => NodeId[]): NodeId | null {
    while (this.index < this.order.length) {
      const nodeId = this.order[this.index++]
      if (nodeId !== undefined && isProbeable(nodeId)) return nodeId
    }
    this.order = prng.shuffle(candidates())
    this.index = 0
    const first = this.order[this.index]
    if (first === undefined) return null
    this.index++
    return first
  }

  /** Adds a member to the rest of this round, unless it is already waiting in it. */
  insert (prng: Prng, nodeId: NodeId): void {
    if (this.order.indexOf(nodeId, this.index) !== -1) return
    this.order.splice(prng.intInclusive(this.index, this.order.length), 0, nodeId)
  }
}

/** The probe of the current period. */
export interface Probe {
  readonly target: NodeId
  readonly seq: number
  /** Moved on by the time our own event loop was frozen (Membership.resumed). */
  startedMs: number
  indirectSent: boolean
  acked: boolean
}
