import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import { MEMBERS_MAX, RETRANSMIT_MULTIPLIER } from './limits.js'
import type { MemberUpdate } from './messages.js'

/**
 * How many times one update is piggybacked before it is dropped, for `memberCount` members:
 * λ·⌈log10(N+1)⌉ (SWIM's dissemination bound, as memberlist computes it). Enough rounds that an
 * epidemic reaches everyone with high probability, and no more.
 */
export function retransmitLimit (memberCount: number): number {
  assert(Number.isSafeInteger(memberCount) && memberCount >= 0, 'a member count is a whole number')
  return RETRANSMIT_MULTIPLIER * Math.ceil(Math.log10(memberCount + 1))
}

interface QueuedUpdate {
  readonly update: MemberUpdate
  transmits: number
  /** Insertion order: among equally-sent updates the newest goes first. */
  readonly order: number
}

/**
 * The piggyback queue: at most one pending update per node (a newer one replaces it), the least
 * transmitted first, each dropped after its retransmit limit.
 */
export class GossipQueue {
  private readonly queued = new Map<NodeId, QueuedUpdate>()
  private enqueued = 0

  get size (): number {
    return this.queued.size
  }

  enqueue (update: MemberUpdate): void {
    this.queued.delete(update.nodeId)
    this.queued.set(update.nodeId, { update, transmits: 0, order: this.enqueued++ })
    // One entry per node id: the member table's bound (plus self) bounds the queue.
    assert(this.queued.size <= MEMBERS_MAX + 1, 'the gossip queue holds one update per member')
  }

  /**
   * Takes up to `count` updates for a message to `recipient` (never its own update: it knows
   * better), counting a transmission for each and dropping those at `limit`.
   */
  take (count: number, recipient: NodeId, limit: number): MemberUpdate[] {
    assert(limit >= 1, 'an update is sent at least once')
    const best: QueuedUpdate[] = []
    if (count <= 0) return []
    for (const entry of this.queued.values()) {
      if (entry.update.nodeId === recipient) continue
      insertBounded(best, entry, count)
    }
    for (const entry of best) {
      entry.transmits++
      if (entry.transmits >= limit) this.queued.delete(entry.update.nodeId)
    }
    return best.map((entry) => entry.update)
  }
}

/** Keeps `best` as the `count` entries least transmitted, newest first among equals. */
function insertBounded (best: QueuedUpdate[], entry: QueuedUpdate, count: number): void {
  let position = best.length
  while (position > 0) {
    const before = best[position - 1]
    assert(before !== undefined, 'positions stay inside the list')
    if (!precedes(entry, before)) break
    position--
  }
  if (position >= count) return
  best.splice(position, 0, entry)
  if (best.length > count) best.pop()
}

function precedes (a: QueuedUpdate, b: QueuedUpdate): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits
  return a.order > b.order
}
