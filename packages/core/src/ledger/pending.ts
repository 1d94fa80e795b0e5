import { bytesToHex } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import type { Entry } from './entry.js'

interface PendingDecision {
  readonly entry: Entry
  readonly epoch: number
}

/**
 * Decisions that arrived before what they depend on (plan e-1). Bounded: when full, the decision
 * of the highest epoch gives way to a lower one, since lower epochs are needed first; if the
 * newcomer is the highest, it is refused (a peer will offer it again by anti-entropy).
 */
export class PendingDecisions {
  private readonly waiting = new Map<string, PendingDecision>()
  readonly capacity: number

  constructor (capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity >= 0, 'pending capacity is a non-negative integer')
    this.capacity = capacity
  }

  get size (): number {
    return this.waiting.size
  }

  has (entry: Entry): boolean {
    return this.waiting.has(pendingId(entry))
  }

  /** Holds a decision back; false if the set is full of lower epochs. */
  add (entry: Entry, epoch: number): boolean {
    const id = pendingId(entry)
    if (this.waiting.has(id)) return true
    if (this.waiting.size >= this.capacity) {
      const highest = this.highest()
      if (highest === undefined || highest[1].epoch <= epoch) return false
      this.waiting.delete(highest[0])
    }
    this.waiting.set(id, { entry, epoch })
    return true
  }

  remove (entry: Entry): void {
    this.waiting.delete(pendingId(entry))
  }

  /** The waiting decisions, lowest epoch first (a fixed order, so replicas re-check alike). */
  inOrder (): Entry[] {
    return [...this.waiting.entries()]
      .sort(([idA, a], [idB, b]) => a.epoch - b.epoch || (idA < idB ? -1 : idA > idB ? 1 : 0))
      .map(([, decision]) => decision.entry)
  }

  private highest (): [string, PendingDecision] | undefined {
    let best: [string, PendingDecision] | undefined
    for (const item of this.waiting.entries()) {
      if (best === undefined || item[1].epoch > best[1].epoch) best = item
    }
    return best
  }
}

function pendingId (entry: Entry): string {
  return `${entry.key}\n${bytesToHex(entry.signature)}`
}
