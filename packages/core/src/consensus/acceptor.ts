import { equalBytes } from './bytes.js'
import { z } from 'zod'
import { assert } from '../assert.js'
import type { NodeKey } from '../identity.js'
import type { PersistRecord } from '../node/contract.js'
import { compareBallots, sameBallot } from './ballot.js'
import type { Ballot } from './ballot.js'
import { ConsensusError } from './errors.js'
import { BALLOT_ROUND_MAX, BALLOT_ROUND_WIRE_MAX } from './limits.js'
import { epochSchema, nodeIdSchema, valueSchema } from './messages.js'
import type { AcceptMessage, AcceptedMessage, NackMessage, PrepareMessage, PromiseMessage } from './messages.js'
import { valueHashOf } from './statement.js'
import { makeVote } from './vote.js'
import type { VoteWrite } from './vote.js'

/**
 * The acceptor of one epoch, as pure functions over an immutable state. Each step returns the
 * reply and, when the state changed, the new state as a persist record: the node must have it on
 * disk (fsync) before the reply leaves (S6), or a restart could promise a lower ballot or forget
 * an accept and let a second value be chosen (S2).
 */

export interface AcceptedValue {
  readonly ballot: Ballot
  readonly value: Uint8Array
}

export interface AcceptorState {
  readonly epoch: number
  /** The highest ballot promised; never decreases (S2). */
  readonly promised: Ballot | null
  /** The last value accepted and its ballot; never above `promised`. */
  readonly accepted: AcceptedValue | null
}

/** The persist record of an acceptor state; the last one per epoch wins on restore. */
export interface AcceptorRecord extends PersistRecord {
  readonly kind: 'acceptor'
  readonly state: AcceptorState
}

export const ACCEPTOR_RECORD_KIND = 'acceptor'

/**
 * A ballot as stored: any round an earlier version may have written (up to `BALLOT_ROUND_MAX`), so
 * a record poisoned by a peer parses and can be dropped with a notice instead of failing the start.
 */
const storedBallotSchema = z.strictObject({
  round: z.int().min(1).max(BALLOT_ROUND_MAX),
  proposer: nodeIdSchema
})

export const acceptorStateSchema = z.strictObject({
  epoch: epochSchema,
  promised: storedBallotSchema.nullable(),
  accepted: z.strictObject({ ballot: storedBallotSchema, value: valueSchema }).nullable()
})

export const acceptorRecordSchema = z.strictObject({
  kind: z.literal(ACCEPTOR_RECORD_KIND),
  state: acceptorStateSchema
})

export interface AcceptorStep<Reply> {
  readonly state: AcceptorState
  /** Null when the message deserves no answer (another value at an accepted ballot). */
  readonly reply: Reply | null
  /** The new state to persist before the reply is sent (S6); null when nothing changed. */
  readonly persist: AcceptorRecord | null
  /** On a new accept: the signed vote for the node to write to the ledger. */
  readonly vote: VoteWrite | null
}

export interface AcceptorSigner {
  readonly key: NodeKey
  readonly clusterId: string
}

export function initialAcceptorState (epoch: number): AcceptorState {
  return { epoch, promised: null, accepted: null }
}

/** Phase 1b: promise a ballot above every earlier promise, or nack with the promise we hold. */
export function onPrepare (state: AcceptorState, message: PrepareMessage): AcceptorStep<PromiseMessage | NackMessage> {
  assert(message.epoch === state.epoch, 'a prepare reaches the acceptor of its epoch')
  const order = state.promised === null ? 1 : compareBallots(message.ballot, state.promised)
  if (order < 0 && state.promised !== null) {
    return { state, reply: nack(state.epoch, message.ballot, state.promised), persist: null, vote: null }
  }
  const next = order > 0 ? { ...state, promised: message.ballot } : state
  checkTransition(state, next)
  const reply: PromiseMessage = { kind: 'paxos/promise', epoch: state.epoch, ballot: message.ballot, accepted: next.accepted === null ? null : { ballot: next.accepted.ballot, value: next.accepted.value } }
  return { state: next, reply, persist: next === state ? null : record(next), vote: null }
}

/**
 * Phase 2b: accept a value at a ballot not below our promise, sign the accept statement, and hand
 * the vote to the node. A repeated accept (duplicated message) is answered again without a new
 * state or vote; another value at a ballot we accepted is refused without an answer, because a
 * voter signs one value per ballot.
 */
export function onAccept (state: AcceptorState, message: AcceptMessage, signer: AcceptorSigner): AcceptorStep<AcceptedMessage | NackMessage> {
  assert(message.epoch === state.epoch, 'an accept reaches the acceptor of its epoch')
  if (state.promised !== null && compareBallots(message.ballot, state.promised) < 0) {
    return { state, reply: nack(state.epoch, message.ballot, state.promised), persist: null, vote: null }
  }
  const repeated = state.accepted !== null && sameBallot(state.accepted.ballot, message.ballot)
  if (repeated && state.accepted !== null && !equalBytes(state.accepted.value, message.value)) {
    return { state, reply: null, persist: null, vote: null }
  }
  const next: AcceptorState = repeated ? state : { ...state, promised: message.ballot, accepted: { ballot: message.ballot, value: message.value } }
  checkTransition(state, next)
  const vote = makeVote(signer.key, signer.clusterId, state.epoch, message.ballot, valueHashOf(message.value))
  const reply: AcceptedMessage = { kind: 'paxos/accepted', epoch: state.epoch, ballot: message.ballot, valueHash: vote.vote.valueHash, signature: vote.vote.signature }
  return { state: next, reply, persist: repeated ? null : record(next), vote: repeated ? null : vote }
}

/**
 * The latest acceptor state per epoch from persisted records, in order; other kinds are skipped.
 * A record of the wrong shape is a damaged state dir: refuse it rather than vote twice.
 *
 * A record whose ballot is above `BALLOT_ROUND_WIRE_MAX` was promised to a peer's out-of-range
 * ballot before decoding bounded it; keeping it would make this node's next ballot fail at every
 * start. It is dropped, with `onDropped` told why, and the state before it stays: every later
 * record of that epoch carries a promise at least as high, so they all go, and the epoch resumes
 * from the last promise an honest proposer could have been given (S2 holds for every ballot a
 * peer can still send).
 */
export function restoreAcceptors (records: readonly PersistRecord[], onDropped: (notice: string) => void = () => {}): Map<number, AcceptorState> {
  const states = new Map<number, AcceptorState>()
  for (const [index, raw] of records.entries()) {
    if (raw.kind !== ACCEPTOR_RECORD_KIND) continue
    const parsed = acceptorRecordSchema.safeParse(raw)
    if (!parsed.success) {
      throw new ConsensusError('CONSENSUS_BAD_RECORD', `acceptor record ${index} is damaged (${parsed.error.issues[0]?.message ?? 'unknown problem'}): restore the state dir from a backup; starting without it could vote twice`)
    }
    const state = parsed.data.state
    const round = highestRound(state)
    if (round > BALLOT_ROUND_WIRE_MAX) {
      onDropped(`dropped acceptor record ${index} of epoch ${state.epoch}: its ballot round ${round} is above ${BALLOT_ROUND_WIRE_MAX}, sent by a peer before such ballots were refused; this node keeps its promise before it`)
      continue
    }
    const before = states.get(state.epoch)
    // S2, checked again after the read: records only ever move a promise up.
    if (before !== undefined) checkTransition(before, state)
    checkState(state)
    states.set(state.epoch, state)
  }
  return states
}

function highestRound (state: AcceptorState): number {
  return Math.max(state.promised?.round ?? 0, state.accepted?.ballot.round ?? 0)
}

function nack (epoch: number, ballot: Ballot, promised: Ballot): NackMessage {
  return { kind: 'paxos/nack', epoch, ballot, promised }
}

function record (state: AcceptorState): AcceptorRecord {
  checkState(state)
  return { kind: ACCEPTOR_RECORD_KIND, state }
}

/** Invariants of one state: an accepted ballot is never above the promise. */
function checkState (state: AcceptorState): void {
  if (state.accepted === null) return
  assert(state.promised !== null, 'an acceptor that accepted has promised')
  assert(compareBallots(state.accepted.ballot, state.promised) <= 0, 'S2: accepted ballot is not above the promise')
}

/** Invariants of a step: promises never decrease, accepts only move up, one value per ballot. */
function checkTransition (before: AcceptorState, after: AcceptorState): void {
  assert(before.epoch === after.epoch, 'an acceptor stays in its epoch')
  if (before.promised !== null) {
    assert(after.promised !== null && compareBallots(after.promised, before.promised) >= 0, 'S2: a promise never decreases')
  }
  if (before.accepted !== null) {
    assert(after.accepted !== null && compareBallots(after.accepted.ballot, before.accepted.ballot) >= 0, 'S2: an accept never moves to a lower ballot')
    const sameBallotAgain = sameBallot(after.accepted.ballot, before.accepted.ballot)
    assert(!sameBallotAgain || equalBytes(after.accepted.value, before.accepted.value), 'S2: one value per ballot')
  }
  checkState(after)
}
