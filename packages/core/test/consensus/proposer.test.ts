// Goal: the proposer retries a stalled ballot above everything it has seen, jumps past a nack's
// promise, keeps a value that may have been chosen, and counts only eligible, correctly signed
// accepts; its waits grow with each failed ballot up to a cap, and it yields to a higher rival
// ballot instead of outbidding it (issue 16: a fixed wait livelocked a slow fleet). Method: drive
// one Proposer by hand with crafted replies and a fixed-seed Prng, ticking it 1 ms at a time.
import { describe, expect, it } from 'vitest'
import { Prng } from '../../src/prng.js'
import { BALLOT_WAIT_DOUBLINGS_MAX } from '../../src/consensus/limits.js'
import { Proposer } from '../../src/consensus/proposer.js'
import { grownWaitMs } from '../../src/consensus/retry.js'
import { quorumRuleFor } from '../../src/consensus/quorum.js'
import { valueHashOf } from '../../src/consensus/statement.js'
import { makeVote } from '../../src/consensus/vote.js'
import { CLUSTER_ID, PROFILE, idAt, keyAt, verify } from './fixtures.js'

const acceptors = [idAt(0), idAt(1), idAt(2)]
const rule = quorumRuleFor(1, { expect: 3, controlPlanes: 1 })
const RETRY_MS_MAX = PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax
const make = (): Proposer => new Proposer({ self: idAt(0), epoch: 1, clusterId: CLUSTER_ID, profile: PROFILE, prng: new Prng(5), verify, shape: { expect: 3, controlPlanes: 1 } })
const own = Uint8Array.of(42)

/** Ticks 1 ms at a time from `fromMs` until the proposer sends a prepare; its time and round. */
function nextPrepare (proposer: Proposer, fromMs: number): { atMs: number, round: number } {
  for (let atMs = fromMs; atMs < fromMs + 100_000; atMs++) {
    const message = proposer.tick(atMs).send[0]?.message
    if (message?.kind === 'paxos/prepare') return { atMs, round: message.ballot.round }
  }
  throw new Error('no prepare within 100 s')
}

describe('proposer', () => {
  it('retries a silent ballot one round higher after the timeout', () => {
    const proposer = make()
    const first = proposer.propose(0, { acceptors, rule, value: () => own })
    expect(first.send.map((s) => s.to)).toEqual(acceptors)
    expect(proposer.tick(PROFILE.ballotTimeoutMs - 1).send).toEqual([])
    const retry = proposer.tick(RETRY_MS_MAX)
    expect(retry.send[0]?.message).toEqual({ kind: 'paxos/prepare', epoch: 1, ballot: { round: 2, proposer: idAt(0) }, shape: { expect: 3, controlPlanes: 1 } })
  })

  it('jumps past the promise a nack names, after a grown wait for a rival\'s and only the jitter for its own', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    proposer.onNack({ kind: 'paxos/nack', epoch: 1, ballot: { round: 1, proposer: idAt(0) }, promised: { round: 7, proposer: idAt(2) } }, 10)
    expect(proposer.phase).toBe('idle')
    expect(proposer.failures).toBe(1)
    const retry = nextPrepare(proposer, 11)
    expect(retry.round).toBe(8)
    expect(retry.atMs - 10).toBeGreaterThanOrEqual(grownWaitMs(PROFILE.ballotTimeoutMs, 1))
    expect(retry.atMs - 10).toBeLessThanOrEqual(grownWaitMs(PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax, 1))
    // Our own ballot from before a restart (round 12) is only passed: no wait beyond the jitter.
    proposer.onNack({ kind: 'paxos/nack', epoch: 1, ballot: { round: 8, proposer: idAt(0) }, promised: { round: 12, proposer: idAt(0) } }, retry.atMs)
    const own12 = nextPrepare(proposer, retry.atMs + 1)
    expect(own12.round).toBe(13)
    expect(own12.atMs - retry.atMs).toBeLessThanOrEqual(grownWaitMs(PROFILE.proposerBackoffMsMax, 2))
  })

  it('doubles its wait after each timed-out ballot, up to the cap', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    let startedMs = 0
    const failuresToCap = BALLOT_WAIT_DOUBLINGS_MAX + 2
    for (let failures = 0; failures < failuresToCap; failures++) {
      const retry = nextPrepare(proposer, startedMs + 1)
      const waitedMs = retry.atMs - startedMs
      expect(waitedMs, `ballot ${failures + 1}`).toBeGreaterThanOrEqual(grownWaitMs(PROFILE.ballotTimeoutMs, failures))
      expect(waitedMs, `ballot ${failures + 1}`).toBeLessThanOrEqual(grownWaitMs(PROFILE.ballotTimeoutMs, failures) + grownWaitMs(PROFILE.proposerBackoffMsMax, failures))
      expect(retry.round).toBe(failures + 2)
      expect(proposer.failures).toBe(failures + 1)
      startedMs = retry.atMs
    }
    // Past the cap the wait stops growing.
    const capMs = grownWaitMs(PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax, BALLOT_WAIT_DOUBLINGS_MAX)
    expect(nextPrepare(proposer, startedMs + 1).atMs - startedMs).toBeLessThanOrEqual(capMs)
  })

  it.each([
    [0, 1], [1, 2], [2, 4], [3, 8], [4, 8], [40, 8]
  ])('grownWaitMs after %d failures is %d times the base', (failures, times) => {
    expect(grownWaitMs(100, failures)).toBe(100 * times)
  })

  it('yields to a higher rival ballot and waits until its last sign has aged a grown wait', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    // A lower rival ballot (round 1 of a lower id) changes nothing.
    proposer.onRivalBallot({ round: 1, proposer: '0' }, 5)
    expect(proposer.phase).toBe('preparing')
    // A higher one: our ballot is given up at once, not when it times out.
    const rival = { round: 3, proposer: idAt(2) }
    proposer.onRivalBallot(rival, 20)
    expect(proposer.phase).toBe('idle')
    expect(proposer.failures).toBe(1)
    // The rival is still at work (its accept reaches us): our retry moves on from this later sign.
    const lastSignMs = 20 + grownWaitMs(PROFILE.ballotTimeoutMs, 1) - 1
    expect(proposer.tick(lastSignMs).send).toEqual([])
    proposer.onRivalBallot(rival, lastSignMs)
    expect(proposer.failures).toBe(1)
    const retry = nextPrepare(proposer, lastSignMs + 1)
    expect(retry.atMs - lastSignMs).toBeGreaterThanOrEqual(grownWaitMs(PROFILE.ballotTimeoutMs, 1))
    expect(retry.round).toBe(4)
  })

  it('gives phase 2 a full wait of its own once a quorum promised', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    const ballot = { round: 1, proposer: idAt(0) }
    // The promises come in just before phase 1's shortest deadline.
    const promisedMs = PROFILE.ballotTimeoutMs - 1
    proposer.onPromise(idAt(1), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null }, promisedMs)
    const accept = proposer.onPromise(idAt(2), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null }, promisedMs)
    expect(accept.send[0]?.message.kind).toBe('paxos/accept')
    expect(proposer.tick(promisedMs + PROFILE.ballotTimeoutMs - 1).send).toEqual([])
    expect(proposer.phase).toBe('accepting')
    expect(nextPrepare(proposer, promisedMs + PROFILE.ballotTimeoutMs).atMs).toBeLessThanOrEqual(promisedMs + PROFILE.ballotTimeoutMs + PROFILE.proposerBackoffMsMax)
  })

  it('proposes the highest accepted value among the promises, ignores an impossible one, and asks for its own value only when needed', () => {
    let asked = 0
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => { asked++; return own } })
    const ballot = { round: 1, proposer: idAt(0) }
    // '0' sorts below every peer id, so (1, '0') is below our (1, id) ballot.
    const older = { ballot: { round: 1, proposer: '0' }, value: Uint8Array.of(1) }
    const impossible = { ballot: { round: 1, proposer: 'z' }, value: Uint8Array.of(9) }
    expect(proposer.onPromise(idAt(0), { kind: 'paxos/promise', epoch: 1, ballot, accepted: impossible }, 1).send).toEqual([])
    expect(proposer.onPromise(idAt(1), { kind: 'paxos/promise', epoch: 1, ballot, accepted: older }, 1).send).toEqual([])
    const accept = proposer.onPromise(idAt(2), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null }, 1)
    expect(accept.send[0]?.message).toEqual({ kind: 'paxos/accept', epoch: 1, ballot, value: Uint8Array.of(1), shape: { expect: 3, controlPlanes: 1 } })
    expect(asked).toBe(0)
  })

  it('decides only on a quorum of eligible, correctly signed accepts', () => {
    const proposer = make()
    proposer.propose(0, { acceptors, rule, value: () => own })
    const ballot = { round: 1, proposer: idAt(0) }
    proposer.onPromise(idAt(1), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null }, 1)
    proposer.onPromise(idAt(2), { kind: 'paxos/promise', epoch: 1, ballot, accepted: null }, 1)
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
