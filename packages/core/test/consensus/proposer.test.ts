// Goal: the proposer retries a stalled ballot above everything it has seen, jumps past a nack's
// promise, keeps a value that may have been chosen, and counts only eligible, correctly signed
// accepts. Method: drive one Proposer by hand with crafted replies and a fixed-seed Prng.
import { describe, expect, it } from 'vitest'
import { Prng } from '../../src/prng.js'
import { Proposer } from '../../src/consensus/proposer.js'
import { quorumRuleFor } from '../../src/consensus/quorum.js'
import { valueHashOf } from '../../src/consensus/statement.js'
import { makeVote } from '../../src/consensus/vote.js'
import { CLUSTER_ID, PROFILE, idAt, keyAt, verify } from './fixtures.js'

const acceptors = [idAt(0), idAt(1), idAt(2)]
const rule = quorumRuleFor(1, { expect: 3, controlPlanes: 1 })
const RETRY_MS_MAX = PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax
const make = (): Proposer => new Proposer({ self: idAt(0), epoch: 1, clusterId: CLUSTER_ID, profile: PROFILE, prng: new Prng(5), verify, shape: { expect: 3, controlPlanes: 1 } })
const own = Uint8Array.of(42)

describe('proposer', () => {
  it('retries a silent ballot one round higher after the timeout', () => {
    const proposer = make()
    const first = proposer.propose(0, { acceptors, rule, value: () => own })
    expect(first.send.map((s) => s.to)).toEqual(acceptors)
    expect(proposer.tick(PROFILE.ballotTimeoutMs - 1).send).toEqual([])
    const retry = proposer.tick(RETRY_MS_MAX)
    expect(retry.send[0]?.message).toEqual({ kind: 'paxos/prepare', epoch: 1, ballot: { round: 2, proposer: idAt(0) }, shape: { expect: 3, controlPlanes: 1 } })
  })

  it('jumps past the promise a nack names', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    proposer.onNack({ kind: 'paxos/nack', epoch: 1, ballot: { round: 1, proposer: idAt(0) }, promised: { round: 7, proposer: idAt(2) } }, 10)
    expect(proposer.phase).toBe('idle')
    const retry = proposer.tick(10 + PROFILE.proposerBackoffMsMax)
    expect(retry.send[0]?.message).toMatchObject({ ballot: { round: 8, proposer: idAt(0) } })
  })

  it('proposes the highest accepted value among the promises, ignores an impossible one, and asks for its own value only when needed', () => {
    let asked = 0
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => { asked++; return own } })
    const ballot = { round: 1, proposer: idAt(0) }
    // '0' sorts below every peer id, so (1, '0') is below our (1, id) ballot.
    const older = { ballot: { round: 1, proposer: '0' }, value: Uint8Array.of(1) }
    const impossible = { ballot: { round: 1, proposer: 'z' }, value: Uint8Array.of(9) }
    expect(proposer.onPromise(idAt(0), { kind: 'paxos/promise', epoch: 1, ballot, accepted: impossible }).send).toEqual([])
    expect(proposer.onPromise(idAt(1), { kind: 'paxos/promise', epoch: 1, ballot, accepted: older }).send).toEqual([])
    const accept = proposer.onPromise(idAt(2), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null })
    expect(accept.send[0]?.message).toEqual({ kind: 'paxos/accept', epoch: 1, ballot, value: Uint8Array.of(1), shape: { expect: 3, controlPlanes: 1 } })
    expect(asked).toBe(0)
  })

  it('decides only on a quorum of eligible, correctly signed accepts', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    const ballot = { round: 1, proposer: idAt(0) }
    proposer.onPromise(idAt(1), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null })
    proposer.onPromise(idAt(2), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null })
    const accepted = (i: number, from = idAt(i)) => {
      const vote = makeVote(keyAt(i), CLUSTER_ID, 1, ballot, valueHashOf(own)).vote
      return proposer.onAccepted(from, { kind: 'paxos/accepted', epoch: 1, ballot, valueHash: vote.valueHash, signature: vote.signature })
    }
    expect(accepted(1).decision).toBeNull()
    expect(accepted(1).decision).toBeNull() // a duplicate counts once
    expect(accepted(3).decision).toBeNull() // not a candidate acceptor
    expect(accepted(1, idAt(2)).decision).toBeNull() // signed by another node
    const decision = accepted(2).decision
    expect(decision?.certificate.votes.map((v) => v.voter)).toEqual([idAt(1), idAt(2)])
    expect(proposer.phase).toBe('decided')
  })
})
