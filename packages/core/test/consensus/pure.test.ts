// Goal: the small pure helpers of consensus (ballot order, quorum sizes and rules, vote keys, the
// proposal policy) compute what the design says. Method: it.each tables for each helper, and a
// fast-check property comparing the quorum sizes with a brute-force oracle of quorum intersection.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { compareBallots, formatBallot, nextBallot } from '../../src/consensus/ballot.js'
import type { Ballot } from '../../src/consensus/ballot.js'
import { bootstrapQuorum, epochQuorum, quorumRuleFor } from '../../src/consensus/quorum.js'
import { parseVoteKey, voteKey } from '../../src/consensus/vote.js'
import { ConsensusError } from '../../src/consensus/errors.js'
import { proposalDecision } from '../../src/consensus/policy.js'
import type { ProposalInput } from '../../src/consensus/policy.js'
import { InvariantError } from '../../src/assert.js'
import { IDS, PROFILE, idAt } from './fixtures.js'

const A = 'aaa'
const B = 'bbb'

describe('ballots', () => {
  it.each<[Ballot, Ballot, number]>([
    [{ round: 1, proposer: A }, { round: 2, proposer: A }, -1],
    [{ round: 2, proposer: A }, { round: 1, proposer: B }, 1],
    [{ round: 3, proposer: A }, { round: 3, proposer: B }, -1],
    [{ round: 3, proposer: B }, { round: 3, proposer: A }, 1],
    [{ round: 3, proposer: B }, { round: 3, proposer: B }, 0]
  ])('compareBallots(%j, %j) = %i', (a, b, sign) => {
    expect(Math.sign(compareBallots(a, b))).toBe(sign)
  })

  it.each<[Ballot | null, string, Ballot]>([
    [null, A, { round: 1, proposer: A }],
    [{ round: 4, proposer: B }, A, { round: 5, proposer: A }],
    [{ round: 4, proposer: A }, B, { round: 5, proposer: B }]
  ])('nextBallot(%j, %s) = %j', (seen, self, next) => {
    expect(nextBallot(seen, self)).toEqual(next)
  })

  it('formats a ballot with a short id', () => {
    const text = formatBallot({ round: 3, proposer: idAt(0) })
    expect(text.startsWith(`3.${idAt(0).slice(0, 8)}…`)).toBe(true)
    expect(text.endsWith(idAt(0).slice(-4))).toBe(true)
  })
})

/** Brute force: the smallest q such that any two q-subsets of n nodes share a node. */
function naiveIntersectingQuorum (n: number): number {
  for (let q = 1; q <= n; q++) {
    // Two disjoint q-subsets exist exactly when 2q <= n; enumerate subsets to show it naively.
    let disjointPairExists = false
    const subsets: number[] = []
    for (let mask = 0; mask < 1 << n; mask++) if (popcount(mask) === q) subsets.push(mask)
    outer: for (const a of subsets) for (const b of subsets) if ((a & b) === 0) { disjointPairExists = true; break outer }
    if (!disjointPairExists) return q
  }
  return n
}

function popcount (x: number): number {
  let count = 0
  for (let v = x; v !== 0; v &= v - 1) count++
  return count
}

describe('quorums', () => {
  it.each([[1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 4], [7, 4], [1000, 501]])('bootstrapQuorum(%i) = %i', (expect_, quorum) => {
    expect(bootstrapQuorum(expect_)).toBe(quorum)
  })

  it.each([[1, 1], [3, 2], [5, 3], [7, 4]])('epochQuorum(%i) = %i', (n, quorum) => {
    expect(epochQuorum(n)).toBe(quorum)
  })

  it('rejects an empty voter set', () => {
    expect(() => epochQuorum(0)).toThrow(InvariantError)
  })

  it('matches the smallest intersecting quorum of a brute-force oracle', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }), (n) => bootstrapQuorum(n) === naiveIntersectingQuorum(n)))
  })

  it('any two quorums intersect when at most expect nodes take part', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }).chain((expect_) => fc.tuple(
        fc.constant(expect_),
        fc.integer({ min: 1, max: expect_ }),
        fc.integer({ min: 0, max: 2 ** expect_ - 1 }),
        fc.integer({ min: 0, max: 2 ** expect_ - 1 })
      )),
      ([expect_, takingPart, first, second]) => {
        const universe = (1 << takingPart) - 1
        const a = first & universe
        const b = second & universe
        const quorum = bootstrapQuorum(expect_)
        // Only subsets that are quorums count; they must then share a node.
        return popcount(a) < quorum || popcount(b) < quorum || (a & b) !== 0
      }
    ), { numRuns: 2000 })
  })

  it.each([
    ['expect 5', 1, { expect: 5, controlPlanes: 3 }, undefined, undefined, { voters: 'any', quorum: 3, mode: 'expect' }],
    ['best effort, a plan of 4 members', 1, { controlPlanes: 3 }, undefined, ['d', 'b', 'a', 'c'], { voters: ['a', 'b', 'c', 'd'], quorum: 3, mode: 'best-effort' }],
    ['best effort, a plan of 1 member', 1, { controlPlanes: 1 }, undefined, ['a'], { voters: ['a'], quorum: 1, mode: 'best-effort' }],
    ['epoch 2, 3 control planes', 2, { expect: 5, controlPlanes: 3 }, { controlPlanes: ['c', 'a', 'b'] }, undefined, { voters: ['a', 'b', 'c'], quorum: 2, mode: 'expect' }],
    ['epoch 3, 1 control plane', 3, { controlPlanes: 1 }, { controlPlanes: ['a'] }, undefined, { voters: ['a'], quorum: 1, mode: 'expect' }]
  ] as const)('quorumRuleFor: %s', (_name, epoch, shape, previous, membersSeen, rule) => {
    expect(quorumRuleFor(epoch, shape, previous, membersSeen)).toEqual(rule)
  })
})

describe('vote keys', () => {
  it('round-trips a vote key', () => {
    const key = voteKey(2, { round: 7, proposer: idAt(1) }, idAt(2))
    expect(key).toBe(`vote/2/7.${idAt(1)}/${idAt(2)}`)
    expect(parseVoteKey(key)).toEqual({ epoch: 2, ballot: { round: 7, proposer: idAt(1) }, voter: idAt(2) })
  })

  it.each(['vote/0/1.a/b', 'vote/1/0.a/b', 'vote/1/1/b', 'plan/1', 'vote/1/1.a/b/c', 'vote/01/1.a/b', `vote/1/99999999999999999999.a/b`])('refuses %j', (key) => {
    expect(() => parseVoteKey(key)).toThrow(ConsensusError)
  })
})

describe('proposalDecision', () => {
  const [low, mid, high] = [IDS[0] ?? '', IDS[1] ?? '', IDS[2] ?? '']
  const base: ProposalInput = {
    self: low, nowMs: 10_000, epoch: 1, liveMembers: [low, mid, high], expect: 5,
    quorumSeenSinceMs: 9_200, allExpectedSeenSinceMs: null, memberSetStableSinceMs: 9_200,
    lastBallotActivityMs: null, profile: PROFILE, backoffMs: 10
  }
  const gather = PROFILE.gatherTimeoutMs
  const ballot = PROFILE.ballotTimeoutMs
  const settle = PROFILE.settleWindowMs
  /** The extra wait of a node ranked one above the second-lowest id. */
  const stagger = PROFILE.proposerBackoffMsMax
  it.each<[string, Partial<ProposalInput>, boolean, string, number | undefined]>([
    ['below quorum', { liveMembers: [low, mid], quorumSeenSinceMs: null }, false, 'waiting for 1 more node to reach a quorum of 3 of 5 expected (2 seen)', undefined],
    ['preferred, gathering', {}, false, 'waiting for 2 more of 5 expected nodes (quorum of 3 reached 0.8 s ago)', 9_200 + gather],
    ['preferred, gather timeout over', { nowMs: 9_200 + gather }, true, `quorum of 3 of 5 expected nodes seen for ${(gather / 1000).toFixed(1)} s: proposing without the 2 missing nodes`, undefined],
    ['preferred, all expected', { liveMembers: [low, mid, high, 'x', 'y'], allExpectedSeenSinceMs: 10_000 }, true, 'all 5 expected nodes are here: proposing', undefined],
    ['self is added to the live members', { liveMembers: [mid, high] }, false, 'waiting for 2 more of 5 expected nodes (quorum of 3 reached 0.8 s ago)', 9_200 + gather],
    ['other, preferred not due', { self: mid }, false, `waiting for the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)} (no ballot yet; taking over in ${((gather - 800 + ballot + 10) / 1000).toFixed(1)} s)`, 9_200 + gather + ballot + 10],
    ['other, quorum not stamped yet', { self: mid, quorumSeenSinceMs: null }, false, `waiting for the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)} (no ballot yet; taking over in ${((gather + ballot + 10) / 1000).toFixed(1)} s)`, 10_000 + gather + ballot + 10],
    ['other, preferred silent', { self: mid, nowMs: 9_200 + gather + ballot + 10 }, true, `no ballot progress for ${((ballot + 10) / 1000).toFixed(1)} s from the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)}: proposing instead`, undefined],
    ['other, ballot active', { self: mid, nowMs: 9_200 + gather + ballot + 10, lastBallotActivityMs: 9_200 + gather + 50 }, false, `waiting for the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)} (last ballot activity ${((ballot - 40) / 1000).toFixed(1)} s ago; taking over in 0.1 s)`, 9_200 + gather + 50 + ballot + 10],
    ['best effort, settling', { expect: undefined, memberSetStableSinceMs: 9_000 }, false, `waiting for the member set to settle (3 nodes, unchanged for 1.0 s of ${(settle / 1000).toFixed(1)} s; best effort: no expect set, so a partition cannot be told from a small fleet)`, 9_000 + settle],
    ['best effort, settled', { expect: undefined, memberSetStableSinceMs: 10_000 - settle }, true, `member set of 3 nodes unchanged for ${(settle / 1000).toFixed(1)} s: proposing with a quorum of 2 (best effort: no expect set, so a partition cannot be told from a small fleet)`, undefined],
    ['best effort, second-lowest takes over', { expect: undefined, self: mid, memberSetStableSinceMs: 10_000 - settle - ballot - 10 }, true, `no ballot progress for ${((ballot + 10) / 1000).toFixed(1)} s from the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)}: proposing instead`, undefined],
    ['best effort, third-lowest waits its turn', { expect: undefined, self: high, memberSetStableSinceMs: 10_000 - settle - ballot - 10 }, false, `waiting for the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)} (no ballot yet; taking over in ${(stagger / 1000).toFixed(1)} s)`, 10_000 + stagger],
    ['best effort, third-lowest takes over after one stagger', { expect: undefined, self: high, memberSetStableSinceMs: 10_000 - settle - ballot - stagger - 10 }, true, `no ballot progress for ${((ballot + stagger + 10) / 1000).toFixed(1)} s from the preferred proposer ${low.slice(0, 8)}…${low.slice(-4)}: proposing instead`, undefined],
    ['epoch 2 is named', { epoch: 2, nowMs: 9_200 + gather }, true, `epoch 2: quorum of 3 of 5 expected nodes seen for ${(gather / 1000).toFixed(1)} s: proposing without the 2 missing nodes`, undefined]
  ])('%s', (_name, change, propose, reason, nextCheckMs) => {
    const decision = proposalDecision({ ...base, ...change })
    expect(decision).toEqual(nextCheckMs === undefined ? { propose, reason } : { propose, reason, nextCheckMs })
  })
})
