// Goal: the acceptor keeps Paxos' promises (S2) and hands out its state for disk before its reply
// (S6). Method: a table of message sequences, each checked step by step for the reply kind, whether
// a record and a vote come out, and the state; plus restore from records, including damaged ones.
import { describe, expect, it } from 'vitest'
import { initialAcceptorState, onAccept, onPrepare, restoreAcceptors } from '../../src/consensus/acceptor.js'
import type { AcceptorState } from '../../src/consensus/acceptor.js'
import { ConsensusError } from '../../src/consensus/errors.js'
import { verifyAccept } from '../../src/consensus/statement.js'
import { decodeVoteEntry } from '../../src/consensus/vote.js'
import { InvariantError } from '../../src/assert.js'
import { CLUSTER_ID, idAt, keyAt, verify } from './fixtures.js'

/** The cluster shape every proposer and acceptor of these tests holds. */
const SHAPE = { expect: 3, controlPlanes: 1 }

const signer = { key: keyAt(0), clusterId: CLUSTER_ID }
const P1 = idAt(1)
const P2 = idAt(2)
const VALUE_A = Uint8Array.of(1)
const VALUE_B = Uint8Array.of(2)

type Input =
  | { prepare: [number, string] }
  | { accept: [number, string, Uint8Array] }
type Expected = { reply: string | null, persist: boolean, vote: boolean, promised: [number, string] | null, accepted: [number, string] | null }

function run (state: AcceptorState, input: Input): { state: AcceptorState, reply: string | null, persist: boolean, vote: boolean } {
  if ('prepare' in input) {
    const [round, proposer] = input.prepare
    const step = onPrepare(state, { kind: 'paxos/prepare', epoch: 1, ballot: { round, proposer }, shape: SHAPE })
    if (step.persist !== null) expect(step.persist.state).toBe(step.state)
    return { state: step.state, reply: step.reply?.kind ?? null, persist: step.persist !== null, vote: false }
  }
  const [round, proposer, value] = input.accept
  const step = onAccept(state, { kind: 'paxos/accept', epoch: 1, ballot: { round, proposer }, value, shape: SHAPE }, signer)
  if (step.vote !== null) {
    // The vote handed to the ledger is the signed statement the reply carries.
    expect(decodeVoteEntry(step.vote.key, step.vote.value)).toEqual(step.vote.vote)
    expect(verifyAccept(keyAt(0).nodeId, CLUSTER_ID, 1, { round, proposer }, step.vote.vote.valueHash, step.vote.vote.signature, verify)).toBe(true)
  }
  return { state: step.state, reply: step.reply?.kind ?? null, persist: step.persist !== null, vote: step.vote !== null }
}

const pick = (b: { round: number, proposer: string } | null | undefined): [number, string] | null => (b == null ? null : [b.round, b.proposer])

describe('acceptor', () => {
  it.each<[string, Array<[Input, Expected]>]>([
    ['promises a first prepare and persists it', [
      [{ prepare: [1, P1] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [1, P1], accepted: null }]
    ]],
    ['repeats a promise for a duplicate prepare without a new record', [
      [{ prepare: [1, P1] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [1, P1], accepted: null }],
      [{ prepare: [1, P1] }, { reply: 'paxos/promise', persist: false, vote: false, promised: [1, P1], accepted: null }]
    ]],
    ['nacks a lower prepare: a promise never decreases', [
      [{ prepare: [2, P1] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [2, P1], accepted: null }],
      [{ prepare: [1, P2] }, { reply: 'paxos/nack', persist: false, vote: false, promised: [2, P1], accepted: null }]
    ]],
    ['orders equal rounds by proposer id', [
      [{ prepare: [2, P2] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [2, P2], accepted: null }],
      [{ prepare: [2, P1] }, { reply: 'paxos/nack', persist: false, vote: false, promised: [2, P2], accepted: null }]
    ]],
    ['accepts at its promise, signs, persists and votes', [
      [{ prepare: [1, P1] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [1, P1], accepted: null }],
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [1, P1], accepted: [1, P1] }]
    ]],
    ['accepts without a prior prepare (its promise reply was lost)', [
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [1, P1], accepted: [1, P1] }]
    ]],
    ['never accepts below its promise', [
      [{ prepare: [3, P2] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [3, P2], accepted: null }],
      [{ accept: [2, P1, VALUE_A] }, { reply: 'paxos/nack', persist: false, vote: false, promised: [3, P2], accepted: null }]
    ]],
    ['answers a duplicate accept again without a new record or vote', [
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [1, P1], accepted: [1, P1] }],
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: false, vote: false, promised: [1, P1], accepted: [1, P1] }]
    ]],
    ['refuses a second value at the same ballot: one value per ballot', [
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [1, P1], accepted: [1, P1] }],
      [{ accept: [1, P1, VALUE_B] }, { reply: null, persist: false, vote: false, promised: [1, P1], accepted: [1, P1] }]
    ]],
    ['reports its accepted value in a later promise and moves to a higher accept', [
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [1, P1], accepted: [1, P1] }],
      [{ prepare: [2, P2] }, { reply: 'paxos/promise', persist: true, vote: false, promised: [2, P2], accepted: [1, P1] }],
      [{ accept: [1, P1, VALUE_A] }, { reply: 'paxos/nack', persist: false, vote: false, promised: [2, P2], accepted: [1, P1] }],
      [{ accept: [2, P2, VALUE_A] }, { reply: 'paxos/accepted', persist: true, vote: true, promised: [2, P2], accepted: [2, P2] }]
    ]]
  ])('%s', (_name, steps) => {
    let state = initialAcceptorState(1)
    for (const [input, expected] of steps) {
      const result = run(state, input)
      state = result.state
      expect({ reply: result.reply, persist: result.persist, vote: result.vote, promised: pick(state.promised), accepted: pick(state.accepted?.ballot) }).toEqual(expected)
    }
  })

  it('hands back the accepted value in a promise', () => {
    const accepted = onAccept(initialAcceptorState(1), { kind: 'paxos/accept', epoch: 1, ballot: { round: 1, proposer: P1 }, value: VALUE_A, shape: SHAPE }, signer).state
    const step = onPrepare(accepted, { kind: 'paxos/prepare', epoch: 1, ballot: { round: 2, proposer: P2 }, shape: SHAPE })
    expect(step.reply).toEqual({ kind: 'paxos/promise', epoch: 1, ballot: { round: 2, proposer: P2 }, accepted: { ballot: { round: 1, proposer: P1 }, value: VALUE_A } })
  })

  it('refuses a message of another epoch as a routing bug', () => {
    expect(() => onPrepare(initialAcceptorState(2), { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1, proposer: P1 }, shape: SHAPE })).toThrow(InvariantError)
  })

  it('restores the last state per epoch from records', () => {
    const first = onPrepare(initialAcceptorState(1), { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1, proposer: P1 }, shape: SHAPE })
    const second = onAccept(first.state, { kind: 'paxos/accept', epoch: 1, ballot: { round: 2, proposer: P2 }, value: VALUE_A, shape: SHAPE }, signer)
    const other = onPrepare(initialAcceptorState(2), { kind: 'paxos/prepare', epoch: 2, ballot: { round: 5, proposer: P1 }, shape: SHAPE })
    const records = [first.persist, { kind: 'ledger-entry' }, second.persist, other.persist].filter((r) => r !== null)
    const restored = restoreAcceptors(records)
    expect(restored.get(1)).toEqual(second.state)
    expect(restored.get(2)).toEqual(other.state)
  })

  it('refuses a damaged record with a typed error', () => {
    expect(() => restoreAcceptors([{ kind: 'acceptor', state: { epoch: 1, promised: 'x', accepted: null } } as never])).toThrow(ConsensusError)
  })

  it('refuses records whose promise goes down (S2)', () => {
    const high = { kind: 'acceptor', state: { epoch: 1, promised: { round: 3, proposer: P1 }, accepted: null } }
    const low = { kind: 'acceptor', state: { epoch: 1, promised: { round: 2, proposer: P1 }, accepted: null } }
    expect(() => restoreAcceptors([high, low])).toThrow(InvariantError)
  })

  it('refuses a record accepting above its promise', () => {
    const broken = { kind: 'acceptor', state: { epoch: 1, promised: { round: 1, proposer: P1 }, accepted: { ballot: { round: 2, proposer: P1 }, value: VALUE_A } } }
    expect(() => restoreAcceptors([broken])).toThrow(InvariantError)
  })
})
