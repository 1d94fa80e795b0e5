import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { DecidedShape } from '../types.js'
import { QUORUM_MAX } from './limits.js'

/**
 * Quorum rules, as pure functions.
 *
 * - Epoch 1 with `expect`: any token holder may vote, the quorum is a majority of `expect`. Two
 *   quorums intersect whenever at most `expect` nodes take part, which is what makes S1 hold.
 * - Epoch 1 without `expect` (best effort): the voters are the members the plan names (the set its
 *   proposer saw), the quorum their majority. The rule comes from the value alone, so proposer,
 *   acceptors completing from votes and every verifier count it the same way; a ballot also names
 *   its member set and an acceptor that sees another one refuses it (member-set.ts). Without
 *   `expect` no algorithm can tell a partition from a small fleet, so two parts that cannot see
 *   each other can each bootstrap; this mode is best effort and says so.
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
 * `members` only matters in best-effort mode and is required there: the members the plan names
 * (a verifier, or a proposer counting accepts of a value), or the set a ballot names (phase 1).
 */
export function quorumRuleFor (
  epoch: number,
  shape: DecidedShape,
  previousPlan?: { readonly controlPlanes: readonly NodeId[] },
  members?: readonly NodeId[]
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
  assert(members !== undefined && members.length >= 1, 'a best-effort rule counts the members of its plan or ballot')
  const voters = [...new Set(members)].sort()
  return { voters, quorum: majority(voters.length), mode: 'best-effort' }
}

/** True when `nodeId` may vote under `rule`. */
export function isEligibleVoter (rule: QuorumRule, nodeId: NodeId): boolean {
  return rule.voters === 'any' || rule.voters.includes(nodeId)
}
