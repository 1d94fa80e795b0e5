// Goal: issue 15 finding 5 — in best-effort mode (no `expect`) one quorum rule per ballot, counted
// the same way by every node: a proposer fixes the member set of its ballot, an acceptor that sees
// another set refuses it, and a certificate is checked against a majority of the members its plan
// names, never against the checking node's view. Method: certificates from real signed votes
// through the ledger's decision validator (a one-vote plan and a small-view quorum, both accepted
// before the fix), and one consensus instance fed prepares naming various member sets.
import { describe, expect, it } from 'vitest'
import { Prng } from '../../src/prng.js'
import { shortNodeId } from '../../src/consensus/ballot.js'
import { certificateFromVotes } from '../../src/consensus/certificate.js'
import { decisionValidator, encodeDecision } from '../../src/consensus/decision.js'
import { ConsensusInstance } from '../../src/consensus/instance.js'
import { memberSetOf } from '../../src/consensus/member-set.js'
import type { PrepareMessage } from '../../src/consensus/messages.js'
import type { QuorumRule } from '../../src/consensus/quorum.js'
import { valueHashOf } from '../../src/consensus/statement.js'
import { makeVote } from '../../src/consensus/vote.js'
import type { NodeId } from '../../src/identity.js'
import { CLUSTER_ID, PROFILE, decodeToyPlan, encodeToyPlan, idAt, keyAt, verify } from './fixtures.js'

const SHAPE = { controlPlanes: 1 }
const FIVE = [0, 1, 2, 3, 4].map(idAt)
const plan = encodeToyPlan({ epoch: 1, clusterId: CLUSTER_ID, init: idAt(0), controlPlanes: [idAt(0)], decidedUnder: SHAPE, members: FIVE })
const ballot = { round: 1, proposer: idAt(0) }
const validator = decisionValidator({ clusterId: CLUSTER_ID, decodePlanSummary: decodeToyPlan, verify })

/** A decision entry for `plan` whose certificate holds `voters`' votes and states the quorum of `rule`. */
function decisionEntry (voters: number[], rule: QuorumRule): Uint8Array {
  const votes = voters.map((i) => makeVote(keyAt(i), CLUSTER_ID, 1, ballot, valueHashOf(plan)).vote)
  const certificate = certificateFromVotes(votes, rule, CLUSTER_ID, { verify })
  if (certificate === null) throw new Error('test setup: the votes make no certificate')
  return encodeDecision({ epoch: 1, value: plan, certificate })
}

function verdictOf (bytes: Uint8Array): string {
  const verdict = validator('plan/1', bytes, () => undefined)
  return typeof verdict === 'object' ? verdict.invalid : verdict
}

describe('best-effort certificates (issue 15 finding 5)', () => {
  it('refuses a one-vote plan that names five members', () => {
    expect(verdictOf(decisionEntry([0], { voters: 'any', quorum: 1, mode: 'best-effort' }))).toContain('states a quorum of 1 but epoch 1 needs 3')
  })

  it('refuses a quorum counted from a smaller view than the plan names (2 of 3 seen)', () => {
    expect(verdictOf(decisionEntry([0, 1], { voters: 'any', quorum: 2, mode: 'best-effort' }))).toContain('needs 3 (a majority of the 5 members its plan names)')
  })

  it('refuses votes of nodes the plan does not name', () => {
    expect(verdictOf(decisionEntry([0, 1, 5], { voters: 'any', quorum: 3, mode: 'best-effort' }))).toContain(`voter ${shortNodeId(idAt(5))} may not vote`)
  })

  it('accepts a majority of the members the plan names', () => {
    expect(verdictOf(decisionEntry([1, 3, 4], { voters: FIVE, quorum: 3, mode: 'best-effort' }))).toBe('valid')
  })
})

describe('best-effort ballots name their member set (issue 15 finding 5)', () => {
  /** Node 2, which sees nodes 0–2 only. */
  function acceptor (view: readonly NodeId[]): ConsensusInstance {
    return new ConsensusInstance({
      key: keyAt(2), clusterId: CLUSTER_ID, epoch: 1, profile: PROFILE, prng: new Prng(7), verify, shape: SHAPE, bestEffortView: () => view
    })
  }
  const seen = [idAt(0), idAt(1), idAt(2)]
  const prepare = (members: PrepareMessage['members'], round = 1): PrepareMessage => ({
    kind: 'paxos/prepare', epoch: 1, ballot: { round, proposer: idAt(0) }, shape: SHAPE, ...(members !== undefined && { members })
  })

  it('refuses a ballot counting five members when it sees three, and says both', () => {
    const out = acceptor(seen).step(idAt(0), prepare(memberSetOf(FIVE)), 0)
    expect(out.send).toEqual([])
    expect(out.persist).toEqual([])
    expect(out.refused[0]?.reason).toMatch(/the proposer counts 5 members .*this node sees 3/)
  })

  it('names at most 8 of the members it sees in a refusal, and counts the rest', () => {
    const many = Array.from({ length: 12 }, (_, i) => `node-${String(i).padStart(2, '0')}`)
    const reason = acceptor(many).step(idAt(0), prepare(memberSetOf(FIVE)), 0).refused[0]?.reason ?? ''
    expect(reason).toContain('this node sees 12 (node-00, node-01, node-02, node-03, node-04, node-05, node-06, node-07 and 4 more;')
  })

  it('refuses a ballot that names no member set', () => {
    const out = acceptor(seen).step(idAt(0), prepare(undefined), 0)
    expect(out.send).toEqual([])
    expect(out.refused[0]?.reason).toContain('names no member set')
  })

  it('promises a ballot counting the members it sees, in any order', () => {
    const out = acceptor(seen).step(idAt(0), prepare(memberSetOf([idAt(2), idAt(0), idAt(1)])), 0)
    expect(out.refused).toEqual([])
    expect(out.send.map((envelope) => envelope.message.kind)).toEqual(['paxos/promise'])
  })

  it('a proposer whose view changed counts the new member set from its next ballot on', () => {
    const proposer = new ConsensusInstance({
      key: keyAt(0), clusterId: CLUSTER_ID, epoch: 1, profile: PROFILE, prng: new Prng(8), verify, shape: SHAPE, bestEffortView: () => seen
    })
    const request = (members: readonly NodeId[]): Parameters<ConsensusInstance['propose']>[1] => ({
      acceptors: members,
      rule: { voters: [...members].sort(), quorum: Math.floor(members.length / 2) + 1, mode: 'best-effort' },
      value: () => plan,
      members: memberSetOf(members)
    })
    const first = proposer.propose(0, request(seen))
    const firstSets = first.send.map((envelope) => (envelope.message as PrepareMessage).members?.count)
    expect(firstSets).toEqual([3, 3])
    proposer.retarget(request(FIVE))
    expect(proposer.proposedMembers?.count).toBe(5)
    const retried = proposer.tick(PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax + 1)
    expect(retried.send.map((envelope) => envelope.to)).toEqual(FIVE.filter((id) => id !== idAt(0)))
    expect(retried.send.map((envelope) => (envelope.message as PrepareMessage).members?.count)).toEqual([5, 5, 5, 5])
  })
})
