/**
 * When a node runs its next anti-entropy round: the steady-state rhythm of a settled cluster.
 *
 * Anti-entropy only repairs what a push missed (new entries are pushed at once). While a cluster
 * forms, or just after anything changed, a missed push matters and rounds run every
 * `antiEntropyIntervalMs`. Once this node holds the plan and its rounds keep finding nothing to
 * repair, each wait doubles up to `antiEntropySteadyMaxMs` (memberlist's push-pull order), so an
 * idle agent sends little beyond its probes. Any sign of a difference (a new entry, a membership
 * change, a digest that differs) snaps the wait back to the base interval, and the next round is
 * at most one base interval away. A missed push is therefore still repaired within the steady
 * maximum (L2: a node that missed the plan still learns it).
 *
 * Pure: the caller keeps the value, passes `nowMs` and acts on `nextMs`.
 */
import type { TimingProfile } from '../profiles.js'
import type { LedgerMessage } from './messages.js'

export interface AntiEntropyRhythm {
  /** The wait used after the last round. */
  readonly intervalMs: number
  /** When the next round is due. */
  readonly nextMs: number
  /** Something differed since the last round: the next wait is the base interval again. */
  readonly changed: boolean
}

type RhythmProfile = Pick<TimingProfile, 'antiEntropyIntervalMs' | 'antiEntropySteadyMaxMs'>

/** The rhythm of a starting node: first round after `firstDelayMs` (drawn by the caller so nodes do not round together). */
export function startRhythm (nowMs: number, firstDelayMs: number, profile: RhythmProfile): AntiEntropyRhythm {
  return { intervalMs: profile.antiEntropyIntervalMs, nextMs: nowMs + firstDelayMs, changed: true }
}

/**
 * A round ran at `nowMs`: the next wait doubles (up to the steady maximum) only when this node
 * holds the plan and nothing differed since the previous round; otherwise it is the base interval.
 */
export function afterRound (rhythm: AntiEntropyRhythm, nowMs: number, holdsPlan: boolean, profile: RhythmProfile): AntiEntropyRhythm {
  const base = profile.antiEntropyIntervalMs
  const quiet = holdsPlan && !rhythm.changed
  const intervalMs = quiet ? Math.min(profile.antiEntropySteadyMaxMs, Math.max(base, rhythm.intervalMs * 2)) : base
  return { intervalMs, nextMs: nowMs + intervalMs, changed: false }
}

/** Something differed at `nowMs`: back to the base interval, the next round at most one base interval away. */
export function afterChange (rhythm: AntiEntropyRhythm, nowMs: number, profile: RhythmProfile): AntiEntropyRhythm {
  const base = profile.antiEntropyIntervalMs
  return { intervalMs: base, nextMs: Math.min(rhythm.nextMs, nowMs + base), changed: true }
}

/**
 * Whether a ledger message from a peer shows the two replicas differ. A digest differs when we
 * answered it (roots unequal; an equal digest gets no answer); buckets, summaries and pulls are
 * only sent across a difference; a delta differs only if it brought something new, which the
 * caller sees as accepted entries, so it is not counted here (a duplicate push changes nothing).
 */
export function exchangeDiffers (message: LedgerMessage['kind'], answered: number): boolean {
  switch (message) {
    case 'ledger/digest': return answered > 0
    case 'ledger/buckets': return true
    case 'ledger/summary': return true
    case 'ledger/pull': return true
    case 'ledger/delta': return false
  }
}
