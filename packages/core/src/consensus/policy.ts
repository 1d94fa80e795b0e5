import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { TimingProfile } from '../profiles.js'
import { shortNodeId } from './ballot.js'
import { bootstrapQuorum, majority } from './quorum.js'

/**
 * When this node should start a ballot: a pure function of what the node has seen, so the timing
 * is testable as a table and replayable in the simulator.
 *
 * - The preferred proposer is the lowest live id. With `expect` it proposes as soon as all
 *   expected nodes are seen, or once a quorum of them has been seen for `gatherTimeoutMs` (L1:
 *   a quorum is enough; waiting a little first lets late boots join the first plan).
 * - Every other node proposes only after no ballot progress for `ballotTimeoutMs + backoffMs`
 *   (the caller draws `backoffMs` from its seeded Prng), so a crashed preferred proposer is
 *   replaced without rivals duelling on every boot.
 * - Without `expect` (best effort) the trigger is a member set unchanged for `settleWindowMs`,
 *   and the quorum is a majority of the members seen. No algorithm can tell a partition from a
 *   small fleet: two halves of a partitioned fleet that each settle can each bootstrap. Set
 *   `expect` to rule that out (S1).
 *
 * Safety never depends on this function: Paxos keeps one value per epoch whoever proposes.
 */

export interface ProposalInput {
  readonly self: NodeId
  readonly nowMs: number
  readonly epoch: number
  /** Live members as this node sees them (self included or not: it is added). */
  readonly liveMembers: readonly NodeId[]
  readonly expect?: number
  /** Since when at least a quorum of `expect` has been live; null when fewer are. */
  readonly quorumSeenSinceMs: number | null
  /** Since when all `expect` nodes have been live; null when fewer are. */
  readonly allExpectedSeenSinceMs: number | null
  /** Since when the live member set has not changed. */
  readonly memberSetStableSinceMs: number
  /** When a ballot of this epoch last made progress (any message or a start); null when never. */
  readonly lastBallotActivityMs: number | null
  readonly profile: TimingProfile
  /** This node's back-off, drawn by the caller from [0, profile.proposerBackoffMsMax]. */
  readonly backoffMs: number
}

export interface ProposalDecision {
  readonly propose: boolean
  /** One sentence for `status` ("waiting for 2 more of 5 expected nodes (…)"). */
  readonly reason: string
  /** When the answer may change without new input; absent when only new input can change it. */
  readonly nextCheckMs?: number
}

/** Seconds with one decimal for status lines ("0.8 s"). */
export function formatSeconds (durationMs: number): string {
  return `${(Math.max(0, durationMs) / 1000).toFixed(1)} s`
}

function plural (count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

export function proposalDecision (input: ProposalInput): ProposalDecision {
  assert(input.backoffMs >= 0, 'a back-off is not negative')
  assert(input.backoffMs <= input.profile.proposerBackoffMsMax, 'a back-off is drawn within proposerBackoffMsMax')
  assert(Number.isSafeInteger(input.epoch) && input.epoch >= 1, 'epochs start at 1')
  const members = [...new Set([...input.liveMembers, input.self])].sort()
  const preferred = members[0] ?? input.self
  const isPreferred = preferred === input.self
  const decision = input.expect === undefined
    ? bestEffortDecision(input, members.length, isPreferred, preferred)
    : expectDecision(input, input.expect, members.length, isPreferred, preferred)
  // Above epoch 1 the same timing applies to a plan change; the reason names the epoch.
  return input.epoch === 1 ? decision : { ...decision, reason: `epoch ${input.epoch}: ${decision.reason}` }
}

/** The moment the preferred proposer was due to propose: all expected seen, or the gather timeout. */
function preferredDueAtMs (input: ProposalInput, quorumSinceMs: number): number {
  const gatheredAtMs = quorumSinceMs + input.profile.gatherTimeoutMs
  return input.allExpectedSeenSinceMs === null ? gatheredAtMs : Math.min(input.allExpectedSeenSinceMs, gatheredAtMs)
}

function expectDecision (input: ProposalInput, expect: number, seen: number, isPreferred: boolean, preferred: NodeId): ProposalDecision {
  const quorum = bootstrapQuorum(expect)
  const missing = Math.max(0, expect - seen)
  if (seen < quorum) {
    return { propose: false, reason: `waiting for ${plural(quorum - seen, 'more node')} to reach a quorum of ${quorum} of ${expect} expected (${seen} seen)` }
  }
  const { nowMs } = input
  // A quorum is live but the caller has not stamped it yet: it was reached now.
  const quorumSinceMs = input.quorumSeenSinceMs ?? nowMs
  if (isPreferred) {
    if (missing === 0) return { propose: true, reason: `all ${expect} expected nodes are here: proposing` }
    const gatherEndsMs = quorumSinceMs + input.profile.gatherTimeoutMs
    const quorumAge = formatSeconds(nowMs - quorumSinceMs)
    if (nowMs >= gatherEndsMs) {
      return { propose: true, reason: `quorum of ${quorum} of ${expect} expected nodes seen for ${quorumAge}: proposing without the ${plural(missing, 'missing node')}` }
    }
    return { propose: false, reason: `waiting for ${missing} more of ${expect} expected nodes (quorum of ${quorum} reached ${quorumAge} ago)`, nextCheckMs: gatherEndsMs }
  }
  return takeOverDecision(input, preferred, preferredDueAtMs(input, quorumSinceMs))
}

function bestEffortDecision (input: ProposalInput, seen: number, isPreferred: boolean, preferred: NodeId): ProposalDecision {
  const settledAtMs = input.memberSetStableSinceMs + input.profile.settleWindowMs
  const quorum = majority(seen)
  const stableFor = formatSeconds(input.nowMs - input.memberSetStableSinceMs)
  const caveat = 'best effort: no expect set, so a partition cannot be told from a small fleet'
  if (input.nowMs < settledAtMs) {
    return {
      propose: false,
      reason: `waiting for the member set to settle (${plural(seen, 'node')}, unchanged for ${stableFor} of ${formatSeconds(input.profile.settleWindowMs)}; ${caveat})`,
      nextCheckMs: settledAtMs
    }
  }
  if (isPreferred) {
    return { propose: true, reason: `member set of ${plural(seen, 'node')} unchanged for ${stableFor}: proposing with a quorum of ${quorum} (${caveat})` }
  }
  return takeOverDecision(input, preferred, settledAtMs)
}

/**
 * A non-preferred node waits for ballot progress to stop for `ballotTimeoutMs + backoffMs`, plus
 * one `proposerBackoffMsMax` per node ranked between it and the preferred one: the second-lowest
 * id steps in first and the others hear its prepare before their turn. With the same wait for
 * all, 24 nodes of a slow fleet drew their back-offs from one second and all took over at once.
 */
function takeOverDecision (input: ProposalInput, preferred: NodeId, dueAtMs: number): ProposalDecision {
  const who = `the preferred proposer ${shortNodeId(preferred)}`
  const quietSinceMs = Math.max(dueAtMs, input.lastBallotActivityMs ?? dueAtMs)
  const rank = [...new Set(input.liveMembers)].filter((member) => member < input.self && member !== preferred).length
  const takeOverAtMs = quietSinceMs + input.profile.ballotTimeoutMs + rank * input.profile.proposerBackoffMsMax + input.backoffMs
  if (input.nowMs >= takeOverAtMs) {
    return { propose: true, reason: `no ballot progress for ${formatSeconds(input.nowMs - quietSinceMs)} from ${who}: proposing instead` }
  }
  const quiet = input.lastBallotActivityMs === null ? 'no ballot yet' : `last ballot activity ${formatSeconds(input.nowMs - input.lastBallotActivityMs)} ago`
  return { propose: false, reason: `waiting for ${who} (${quiet}; taking over in ${formatSeconds(takeOverAtMs - input.nowMs)})`, nextCheckMs: takeOverAtMs }
}
