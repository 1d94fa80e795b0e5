// Goal: issue 15 finding 4 — a node configured with another shape takes no part in a decision.
// Prepare and accept carry the proposer's shape; an acceptor with another one neither promises
// nor votes, and says why with both shapes in words; one with the same shape behaves as before.
// Method: two consensus instances, one proposing under { expect 3 } to an acceptor under
// { expect 5 }, the messages handed over by hand.
import { describe, expect, it } from 'vitest'
import { ConsensusInstance } from '../../src/consensus/instance.js'
import { describeShape, shapeDisagreement, wireShape } from '../../src/consensus/shape-check.js'
import { quorumRuleFor } from '../../src/consensus/quorum.js'
import { Prng } from '../../src/prng.js'
import type { ClusterShape } from '../../src/types.js'
import { CLUSTER_ID, PROFILE, keyAt, verify } from './fixtures.js'

function instance (index: number, shape: ClusterShape): ConsensusInstance {
  return new ConsensusInstance({ key: keyAt(index), clusterId: CLUSTER_ID, epoch: 1, profile: PROFILE, prng: new Prng(index + 1), verify, shape })
}

describe('shape agreement in prepare and accept', () => {
  it('an acceptor with another shape refuses to promise or vote, naming both shapes', () => {
    const proposer = instance(0, { expect: 3, controlPlanes: 3 })
    const acceptor = instance(1, { expect: 5, controlPlanes: 3 })
    const rule = quorumRuleFor(1, { expect: 3, controlPlanes: 3 })
    const started = proposer.propose(0, { acceptors: [keyAt(0).nodeId, keyAt(1).nodeId], rule, value: () => Uint8Array.of(7) })
    const prepare = started.send.find((envelope) => envelope.to === keyAt(1).nodeId)?.message
    expect(prepare?.kind).toBe('paxos/prepare')
    if (prepare === undefined || prepare.kind !== 'paxos/prepare') return
    expect(prepare.shape).toEqual({ expect: 3, controlPlanes: 3 })
    const answer = acceptor.step(keyAt(0).nodeId, prepare, 1)
    expect(answer.send).toEqual([])
    expect(answer.persist).toEqual([])
    expect(answer.refused).toHaveLength(1)
    expect(answer.refused[0]?.reason).toBe(
      "the proposer's cluster shape is expect 3, 3 control planes, no vip, no name, this node's is expect 5, 3 control planes, no vip, no name: " +
      'it takes no part until both configs agree (check the token and each config)')
    const accept = { kind: 'paxos/accept' as const, epoch: 1, ballot: prepare.ballot, value: Uint8Array.of(7), shape: prepare.shape }
    const noVote = acceptor.step(keyAt(0).nodeId, accept, 2)
    expect({ votes: noVote.votes, send: noVote.send, persist: noVote.persist }).toEqual({ votes: [], send: [], persist: [] })
    expect(acceptor.acceptorState.promised).toBeNull()
  })

  it('an acceptor with the same shape promises and votes', () => {
    const shape: ClusterShape = { expect: 3, controlPlanes: 3, vip: '10.0.0.100', name: 'mill' }
    const acceptor = instance(1, shape)
    const ballot = { round: 1, proposer: keyAt(0).nodeId }
    const promise = acceptor.step(keyAt(0).nodeId, { kind: 'paxos/prepare', epoch: 1, ballot, shape: wireShape(shape) }, 1)
    expect(promise.send.map((envelope) => envelope.message.kind)).toEqual(['paxos/promise'])
    const vote = acceptor.step(keyAt(0).nodeId, { kind: 'paxos/accept', epoch: 1, ballot, value: Uint8Array.of(7), shape: wireShape(shape) }, 2)
    expect(vote.votes).toHaveLength(1)
    expect(vote.refused).toEqual([])
  })

  it.each([
    [{ controlPlanes: 1 }, { controlPlanes: 1 }, null],
    [{ controlPlanes: 1, name: 'a' }, { controlPlanes: 1, name: 'b' }, /name b.*name a/],
    [{ expect: 5, controlPlanes: 3 }, { controlPlanes: 3 }, /no expect, 3 control planes.*expect 5/]
  ])('shapeDisagreement(%j, %j)', (ours, proposers, expected) => {
    const said = shapeDisagreement(ours, proposers)
    if (expected === null) expect(said).toBeNull()
    else expect(said).toMatch(expected)
  })

  it('describes a shape in words and sends it without undefined fields', () => {
    expect(describeShape({ expect: 1, controlPlanes: 1, vip: '10.0.0.9', name: 'x' })).toBe('expect 1, 1 control plane, vip 10.0.0.9, name x')
    expect(Object.keys(wireShape({ controlPlanes: 3 }))).toEqual(['controlPlanes'])
  })
})
