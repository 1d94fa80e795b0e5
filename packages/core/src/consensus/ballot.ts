import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import { BALLOT_ROUND_MAX } from './limits.js'

/**
 * A ballot number: rounds first, then the proposer's id as a string, so two proposers never share
 * a ballot and every pair of ballots is ordered.
 */
export interface Ballot {
  readonly round: number
  readonly proposer: NodeId
}

/** Characters of a node id kept at each end by `shortNodeId`. */
const SHORT_ID_HEAD_CHARS = 8
const SHORT_ID_TAIL_CHARS = 4

/** Orders ballots by (round, proposer); negative when `a` is lower. */
export function compareBallots (a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1
  if (a.proposer === b.proposer) return 0
  return a.proposer < b.proposer ? -1 : 1
}

/** The higher of two ballots, treating null as lower than any ballot. */
export function maxBallot (a: Ballot | null, b: Ballot | null): Ballot | null {
  if (a === null) return b
  if (b === null) return a
  return compareBallots(a, b) >= 0 ? a : b
}

/** True when the two ballots are the same. */
export function sameBallot (a: Ballot | null, b: Ballot | null): boolean {
  if (a === null || b === null) return a === b
  return compareBallots(a, b) === 0
}

/** A node id short enough for a status line: "12D3KooW…x7Yq". */
export function shortNodeId (nodeId: NodeId): string {
  if (nodeId.length <= SHORT_ID_HEAD_CHARS + SHORT_ID_TAIL_CHARS + 1) return nodeId
  return `${nodeId.slice(0, SHORT_ID_HEAD_CHARS)}…${nodeId.slice(-SHORT_ID_TAIL_CHARS)}`
}

/** A ballot as text for status and logs: "3.12D3KooW…x7Yq". */
export function formatBallot (ballot: Ballot): string {
  return `${ballot.round}.${shortNodeId(ballot.proposer)}`
}

/** The ballot `self` uses next: one round above the highest ballot it has seen (or round 1). */
export function nextBallot (highestSeen: Ballot | null, self: NodeId): Ballot {
  const round = (highestSeen?.round ?? 0) + 1
  assert(round <= BALLOT_ROUND_MAX, 'ballot rounds stay below BALLOT_ROUND_MAX')
  const ballot = { round, proposer: self }
  assert(highestSeen === null || compareBallots(ballot, highestSeen) > 0, 'a new ballot is above every ballot seen')
  return ballot
}
