import { equalBytes } from './bytes.js'
import { assert } from '../assert.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId } from '../identity.js'
import type { Prng } from '../prng.js'
import type { TimingProfile } from '../profiles.js'
import { compareBallots, maxBallot, nextBallot, sameBallot } from './ballot.js'
import type { Ballot } from './ballot.js'
import { certificateFromVotes } from './certificate.js'
import type { Decision } from './decision.js'
import { ACCEPTORS_MAX, BALLOT_ROUND_WIRE_MAX, VALUE_BYTES_MAX } from './limits.js'
import type { MemberSet } from './member-set.js'
import type { AcceptMessage, AcceptedMessage, NackMessage, PrepareMessage, PromiseMessage, WireShape } from './messages.js'
import { isEligibleVoter } from './quorum.js'
import type { QuorumRule } from './quorum.js'
import { grownWaitMs } from './retry.js'
import { valueHashOf, verifyAccept } from './statement.js'
import type { SignatureVerifier } from './statement.js'
import type { VoteRecord } from './vote.js'

/**
 * The proposer of one epoch (single-decree Paxos). Phase 1 sends prepare to the acceptors the
 * node names and waits for a quorum of promises; it then proposes the value of the highest
 * accepted ballot among them (Paxos' safety rule: a value that may have been chosen is kept), else
 * its own, asked for only now so the plan reflects membership at this moment. Phase 2 sends
 * accept and collects signed accepted replies into a certificate.
 *
 * Retries (issue 16: 25 agents in one loaded process restarted ballots for a minute and never
 * committed): a phase that gets no quorum within its wait is retried one round above the highest
 * ballot seen, and each ballot of ours that ends without a decision doubles the wait and the
 * seeded jitter before the next (`grownWaitMs`), up to a cap. A higher ballot of another proposer,
 * seen in its prepare or accept or named by a nack, is yielded to rather than outbid: our ballot
 * is given up, and the next starts only a wait plus jitter after the last sign of the rival's.
 * The count of failures lives as long as the epoch's instance: a decision ends it.
 */

export interface ProposalRequest {
  /** Candidate acceptors: the live members (epoch 1) or the voters of the epoch. */
  readonly acceptors: readonly NodeId[]
  readonly rule: QuorumRule
  /** This node's own value (an encoded plan), asked for only when no accepted value must be kept. */
  readonly value: () => Uint8Array
  /**
   * The rule the accepts of `value` are counted under, when the value itself says (an epoch-1 plan
   * names the shape it is decided under, S8): a kept value from an earlier ballot keeps its rule,
   * so its certificate is valid wherever it is checked. Defaults to `rule`.
   */
  readonly ruleOf?: (value: Uint8Array) => QuorumRule
  /** Best effort: the member set this ballot counts, sent with prepare and accept (member-set.ts). */
  readonly members?: MemberSet
}

export type ProposerMessage = PrepareMessage | AcceptMessage

export interface ProposerOutput {
  readonly send: ReadonlyArray<{ readonly to: NodeId, readonly message: ProposerMessage }>
  readonly decision: Decision | null
}

export type ProposerPhase = 'idle' | 'preparing' | 'accepting' | 'decided'

export interface ProposerInit {
  readonly self: NodeId
  readonly epoch: number
  readonly clusterId: string
  readonly profile: TimingProfile
  /** Seeded randomness for back-off: two rivals rarely retry at the same moment. */
  readonly prng: Prng
  readonly verify?: SignatureVerifier
  /** This node's cluster shape, sent with prepare and accept so acceptors can check it. */
  readonly shape: WireShape
}

const NOTHING: ProposerOutput = { send: [], decision: null }

export class Proposer {
  readonly #init: ProposerInit
  readonly #verify: SignatureVerifier
  #phase: ProposerPhase = 'idle'
  #request: ProposalRequest | null = null
  /** A request for the next ballot (`retarget`): the one in flight keeps its own. */
  #nextRequest: ProposalRequest | null = null
  #ballot: Ballot | null = null
  #highestSeen: Ballot | null = null
  #promises = new Map<NodeId, PromiseMessage['accepted']>()
  #value: Uint8Array | null = null
  #valueHash: Uint8Array | null = null
  #accepts = new Map<NodeId, VoteRecord>()
  /** The rule of the value in phase 2 (`ruleOf`), or the request's. */
  #valueRule: QuorumRule | null = null
  /** When the current phase gives up (in flight) or the next ballot starts (after a nack or a yield); null when idle. */
  #retryAtMs: number | null = null
  /** Ballots of ours in a row that ended without a decision: each doubles the next wait. */
  #failures = 0

  constructor (init: ProposerInit) {
    this.#init = init
    this.#verify = init.verify ?? verifyNodeSignature
  }

  get phase (): ProposerPhase { return this.#phase }
  get ballot (): Ballot | null { return this.#ballot }
  get highestSeen (): Ballot | null { return this.#highestSeen }
  /** Ballots of ours in this epoch that ended without a decision. */
  get failures (): number { return this.#failures }
  /** True while a ballot is in flight or scheduled for retry. */
  get active (): boolean { return this.#request !== null && this.#phase !== 'decided' }

  /** Records a ballot seen in any message of this epoch, so the next one goes above it. */
  observe (ballot: Ballot): void {
    this.#highestSeen = maxBallot(this.#highestSeen, ballot)
  }

  /**
   * Another proposer's ballot is at work (its prepare or accept reached this node). If it is above
   * ours, yield: a ballot of ours in flight is given up (acceptors that promised the rival refuse
   * it anyway), and the next waits a grown wait plus jitter after this sign of the rival, so a
   * rival that is progressing is left to finish and one that crashed is replaced soon after.
   */
  onRivalBallot (ballot: Ballot, nowMs: number): void {
    this.observe(ballot)
    const ours = this.#ballot
    if (!this.active || ours === null || ballot.proposer === this.#init.self || compareBallots(ballot, ours) <= 0) return
    if (this.#phase !== 'idle') {
      this.#phase = 'idle'
      this.#failures += 1
    }
    const resumeAtMs = nowMs + this.#waitMs() + this.#jitterMs()
    this.#retryAtMs = Math.max(this.#retryAtMs ?? resumeAtMs, resumeAtMs)
  }

  /** Starts proposing; ignored while a proposal is active or after the decision. */
  propose (nowMs: number, request: ProposalRequest): ProposerOutput {
    if (this.active || this.#phase === 'decided') return NOTHING
    assert(request.acceptors.length <= ACCEPTORS_MAX, 'the node names at most ACCEPTORS_MAX acceptors')
    assert(request.rule.quorum >= 1, 'a proposal needs a positive quorum')
    this.#request = request
    return this.#startBallot(nowMs)
  }

  /**
   * Best effort: the member set changed while proposing. The ballot in flight keeps its request
   * (acceptors that see the new set refuse it); the next ballot, on the usual retry, uses this one.
   */
  retarget (request: ProposalRequest): void {
    if (!this.active) return
    assert(request.acceptors.length <= ACCEPTORS_MAX, 'the node names at most ACCEPTORS_MAX acceptors')
    assert(request.rule.quorum >= 1, 'a proposal needs a positive quorum')
    this.#nextRequest = request
  }

  /** The member set the current or next ballot counts (best effort), for the node to compare. */
  get members (): MemberSet | undefined {
    return (this.#nextRequest ?? this.#request)?.members
  }

  /** The decision is known (ours, an acceptor's completion, or the ledger): stop for good. */
  stop (): void {
    this.#phase = 'decided'
    this.#retryAtMs = null
  }

  tick (nowMs: number): ProposerOutput {
    if (!this.active || this.#retryAtMs === null || nowMs < this.#retryAtMs) return NOTHING
    // A phase still in flight at its deadline timed out; an idle proposer was already counted.
    if (this.#phase !== 'idle') this.#failures += 1
    return this.#startBallot(nowMs)
  }

  onPromise (from: NodeId, message: PromiseMessage, nowMs: number): ProposerOutput {
    const request = this.#request
    if (request === null || this.#phase !== 'preparing' || !sameBallot(message.ballot, this.#ballot)) return NOTHING
    if (!request.acceptors.includes(from) || !isEligibleVoter(request.rule, from)) return NOTHING
    // An honest acceptor reports only accepts below the ballot it promises; anything else is a broken peer.
    if (message.accepted !== null && compareBallots(message.accepted.ballot, message.ballot) >= 0) return NOTHING
    if (message.accepted !== null) this.observe(message.accepted.ballot)
    this.#promises.set(from, message.accepted)
    if (this.#promises.size < request.rule.quorum) return NOTHING
    return this.#beginAccept(request, nowMs)
  }

  onAccepted (from: NodeId, message: AcceptedMessage): ProposerOutput {
    const request = this.#request
    const ballot = this.#ballot
    const valueHash = this.#valueHash
    const value = this.#value
    if (request === null || ballot === null || valueHash === null || value === null) return NOTHING
    if (this.#phase !== 'accepting' || !sameBallot(message.ballot, ballot)) return NOTHING
    if (!request.acceptors.includes(from) || !equalBytes(message.valueHash, valueHash)) return NOTHING
    if (!verifyAccept(from, this.#init.clusterId, this.#init.epoch, ballot, valueHash, message.signature, this.#verify)) return NOTHING
    const rule = this.#valueRule ?? request.rule
    if (!isEligibleVoter(rule, from)) return NOTHING
    this.#accepts.set(from, { epoch: this.#init.epoch, ballot, valueHash, signature: message.signature, voter: from })
    if (this.#accepts.size < rule.quorum) return NOTHING
    const certificate = certificateFromVotes([...this.#accepts.values()], rule, this.#init.clusterId, { valueHash, verify: this.#verify })
    assert(certificate !== null, 'a quorum of checked accepts makes a certificate')
    assert(sameBallot(certificate.ballot, ballot), 'the certificate is for our ballot')
    this.stop()
    return { send: [], decision: { epoch: this.#init.epoch, value, certificate } }
  }

  /**
   * A higher promise exists: abandon this ballot. A rival's is yielded to (a wait plus jitter);
   * one of our own from before a restart is only passed, after the jitter.
   */
  onNack (message: NackMessage, nowMs: number): ProposerOutput {
    this.observe(message.promised)
    const ballot = this.#ballot
    if (!this.active || ballot === null || !sameBallot(message.ballot, ballot)) return NOTHING
    if (this.#phase === 'idle' || compareBallots(message.promised, ballot) <= 0) return NOTHING
    this.#phase = 'idle'
    this.#failures += 1
    const rival = message.promised.proposer !== this.#init.self
    this.#retryAtMs = nowMs + (rival ? this.#waitMs() : 0) + this.#jitterMs()
    return NOTHING
  }

  #startBallot (nowMs: number): ProposerOutput {
    if (this.#nextRequest !== null) {
      this.#request = this.#nextRequest
      this.#nextRequest = null
    }
    const request = this.#request
    assert(request !== null, 'a ballot starts from a request')
    const highest = maxBallot(this.#highestSeen, this.#ballot)
    if (highest !== null && highest.round >= BALLOT_ROUND_WIRE_MAX) {
      // A peer sent the highest round the wire allows: no ballot of ours could go above it and
      // still be read by others. Stop proposing in this epoch rather than send one nobody accepts.
      this.#phase = 'idle'
      this.#retryAtMs = null
      return NOTHING
    }
    const ballot = nextBallot(highest, this.#init.self)
    this.#ballot = ballot
    this.observe(ballot)
    this.#phase = 'preparing'
    this.#promises = new Map()
    this.#accepts = new Map()
    this.#value = null
    this.#valueHash = null
    this.#valueRule = null
    this.#retryAtMs = nowMs + this.#waitMs() + this.#jitterMs()
    const message: PrepareMessage = {
      kind: 'paxos/prepare',
      epoch: this.#init.epoch,
      ballot,
      shape: this.#init.shape,
      ...(request.members !== undefined && { members: request.members })
    }
    return { send: request.acceptors.map((to) => ({ to, message })), decision: null }
  }

  #beginAccept (request: ProposalRequest, nowMs: number): ProposerOutput {
    const ballot = this.#ballot
    assert(ballot !== null, 'phase 2 follows a ballot')
    let highest: { ballot: Ballot, value: Uint8Array } | null = null
    for (const accepted of this.#promises.values()) {
      if (accepted !== null && (highest === null || compareBallots(accepted.ballot, highest.ballot) > 0)) highest = accepted
    }
    // Paxos' safety rule (S2): a value some quorum may have chosen is proposed again, never replaced.
    const value = highest?.value ?? request.value()
    assert(value.byteLength <= VALUE_BYTES_MAX, 'our own value fits VALUE_BYTES_MAX')
    assert(highest === null || compareBallots(highest.ballot, ballot) < 0, 'promised accepts are below our ballot')
    this.#value = value
    this.#valueHash = valueHashOf(value)
    this.#valueRule = request.ruleOf?.(value) ?? null
    assert(this.#valueRule === null || this.#valueRule.quorum >= 1, 'a value rule needs a positive quorum')
    this.#phase = 'accepting'
    // A quorum answered in time: phase 2 gets a full wait of its own, not what phase 1 left over.
    this.#retryAtMs = nowMs + this.#waitMs() + this.#jitterMs()
    const message: AcceptMessage = {
      kind: 'paxos/accept',
      epoch: this.#init.epoch,
      ballot,
      value,
      shape: this.#init.shape,
      ...(request.members !== undefined && { members: request.members })
    }
    return { send: request.acceptors.map((to) => ({ to, message })), decision: null }
  }

  /** How long a phase of ours waits for its quorum, grown by the failures so far. */
  #waitMs (): number {
    return grownWaitMs(this.#init.profile.ballotTimeoutMs, this.#failures)
  }

  /** Seeded jitter, grown alike: two rivals rarely retry at the same moment. */
  #jitterMs (): number {
    return this.#init.prng.intInclusive(0, grownWaitMs(this.#init.profile.proposerBackoffMsMax, this.#failures))
  }
}
