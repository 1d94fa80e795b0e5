import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { DecidedShape } from '../types.js'
import { QUORUM_MAX } from './limits.js'

/**
 * Quorum rules, as pure functions.
 *
 * - Epoch 1 with `expect`: any token holder may vote, the quorum is a majority of `expect`. Two
 *   quorums intersect whenever at most `expect` nodes take part, which is what makes S1 hold.
 * - Epoch 1 without `expect` (best effort): the proposer asks a majority of the members it sees;
 *   a verifier accepts the quorum the certificate states (at least one vote). Without `expect` no
 *   algorithm can tell a partition from a small fleet, so two partitions can each bootstrap; this
 *   mode is best effort and says so.
 * - Epoch e > 1: the voters are the control planes of plan(e-1), the quorum their majority.
 */

export type QuorumMode = 'expect' | 'best-effort'

export interface QuorumRule {
  /** Who may vote: anyone holding the token ('any') or exactly these nodes. */
  readonly voters: 'any' | readonly NodeId[]
  /** Distinct eligible votes a certificate needs. */
  readonly quorum: number
  readonly mode: QuorumMode
}

/** The smallest quorum a best-effort certificate may state. */
export const BEST_EFFORT_QUORUM_MIN = 1

/** The smallest number of `n` that is more than half of it. */
export function majority (n: number): number {
  assert(Number.isSafeInteger(n), 'a majority is of a whole number of nodes')
  assert(n >= 1, 'a majority is of at least one node')
  return Math.floor(n / 2) + 1
}

/** The epoch-1 quorum when the shape carries `expect`. */
export function bootstrapQuorum (expect: number): number {
  const quorum = majority(expect)
  assert(quorum <= QUORUM_MAX, 'expect is within the token limit')
  return quorum
}

/** The quorum of an epoch above 1, voted by the `controlPlaneCount` control planes of the plan before. */
export function epochQuorum (controlPlaneCount: number): number {
  return majority(controlPlaneCount)
}

/**
 * The rule for `epoch`. `previousPlan` is plan(epoch - 1) and is required above epoch 1.
 * `membersSeen` only matters in best-effort mode: a proposer or acceptor passes the number of
 * members it sees (the quorum becomes their majority); a verifier leaves it out and accepts the
 * quorum a certificate states.
 */
export function quorumRuleFor (
  epoch: number,
  shape: DecidedShape,
  previousPlan?: { readonly controlPlanes: readonly NodeId[] },
  membersSeen?: number
): QuorumRule {
  assert(Number.isSafeInteger(epoch) && epoch >= 1, 'epochs start at 1')
  if (epoch > 1) {
    assert(previousPlan !== undefined, 'a rule above epoch 1 needs the plan before it')
    const voters = [...new Set(previousPlan.controlPlanes)].sort()
    return { voters, quorum: epochQuorum(voters.length), mode: 'expect' }
  }
  if (shape.expect !== undefined) {
    return { voters: 'any', quorum: bootstrapQuorum(shape.expect), mode: 'expect' }
  }
  const quorum = membersSeen === undefined ? BEST_EFFORT_QUORUM_MIN : majority(Math.max(1, membersSeen))
  return { voters: 'any', quorum, mode: 'best-effort' }
}

/** True when `nodeId` may vote under `rule`. */
export function isEligibleVoter (rule: QuorumRule, nodeId: NodeId): boolean {
  return rule.voters === 'any' || rule.voters.includes(nodeId)
}
