import { equalBytes } from './bytes.js'
import { assert } from '../assert.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { Envelope } from '../node/contract.js'
import type { Prng } from '../prng.js'
import type { TimingProfile } from '../profiles.js'
import { onAccept, onPrepare, initialAcceptorState } from './acceptor.js'
import type { AcceptorRecord, AcceptorState } from './acceptor.js'
import { maxBallot } from './ballot.js'
import type { Ballot } from './ballot.js'
import { certificateFromVotes } from './certificate.js'
import { encodeDecision } from './decision.js'
import type { Decision } from './decision.js'
import { LOCAL_DELIVERIES_MAX, VOTES_SCANNED_MAX } from './limits.js'
import type { ConsensusMessage, DecidedMessage, WireShape } from './messages.js'
import { memberSetDisagreement } from './member-set.js'
import type { MemberSet } from './member-set.js'
import { shapeDisagreement, wireShape } from './shape-check.js'
import type { ClusterShape } from '../types.js'
import { Proposer } from './proposer.js'
import type { ProposalRequest, ProposerOutput } from './proposer.js'
import { isEligibleVoter } from './quorum.js'
import type { QuorumRule } from './quorum.js'
import { valueHashOf } from './statement.js'
import type { SignatureVerifier } from './statement.js'
import type { VoteRecord, VoteWrite } from './vote.js'

/**
 * One epoch's consensus at one node: its acceptor, its proposer and its learner. Messages this
 * node addresses to itself (it is usually one of its own acceptors) are delivered locally within
 * the same call; everything else comes out as an output for the node to turn into a `Ready`.
 */

export interface ConsensusOutput {
  /** Messages to other nodes; send only after `persist` is on disk (S6). */
  readonly send: ReadonlyArray<Envelope<ConsensusMessage>>
  /** Acceptor states to persist with fsync, in order, before anything in `send` leaves (S6). */
  readonly persist: readonly AcceptorRecord[]
  /** This node's votes, to write to the ledger as its own `vote/…` entries (sync). */
  readonly votes: readonly VoteWrite[]
  /** A decision this node assembled (proposer quorum or votes completion): write it as `plan/<epoch>`. */
  readonly decision: Decision | null
  /** Accepts this node refused to vote for, with the reason in words (`judge`). */
  readonly refused: ReadonlyArray<{ readonly from: NodeId, readonly epoch: number, readonly reason: string }>
  /**
   * A peer says the epoch is decided (`paxos/decided`): the `plan/<epoch>` entry value, unverified.
   * Check it with the decision validator, merge it into the ledger, then call `learn`.
   */
  readonly claimedDecision: Uint8Array | null
}

export interface ConsensusInstanceInit {
  readonly key: NodeKey
  readonly clusterId: string
  readonly epoch: number
  readonly profile: TimingProfile
  readonly prng: Prng
  /** This epoch's acceptor state from `restoreAcceptors`, if any. */
  readonly restored?: AcceptorState
  readonly verify?: SignatureVerifier
  /** This node's cluster shape: sent with its proposals, and checked on every prepare and accept. */
  readonly shape: ClusterShape
  /**
   * The acceptor's own check of a proposed value before it votes: null to vote, else why not
   * (S7: each voter checks a replacement against its own view; one node's view never decides it).
   * Refusing is always safe for Paxos: it only withholds a vote.
   */
  readonly judge?: (value: Uint8Array, nowMs: number) => string | null
  /**
   * Best effort (no `expect`), epoch 1: the members this node sees, itself included. A prepare or
   * accept whose member set is another is refused (member-set.ts): one quorum rule per ballot,
   * fixed by its proposer, and only nodes that count the same members take part.
   */
  readonly bestEffortView?: () => readonly NodeId[]
}

class OutputBuilder {
  send: Array<Envelope<ConsensusMessage>> = []
  persist: AcceptorRecord[] = []
  votes: VoteWrite[] = []
  decision: Decision | null = null
  claimedDecision: Uint8Array | null = null
  refused: Array<{ from: NodeId, epoch: number, reason: string }> = []
  local: Array<Envelope<ConsensusMessage>> = []

  build (): ConsensusOutput {
    return { send: this.send, persist: this.persist, votes: this.votes, decision: this.decision, refused: this.refused, claimedDecision: this.claimedDecision }
  }
}

export class ConsensusInstance {
  readonly epoch: number
  readonly #init: ConsensusInstanceInit
  readonly #verify: SignatureVerifier
  readonly #proposer: Proposer
  #acceptor: AcceptorState
  #decision: Decision | null = null
  #decisionBytes: Uint8Array | null = null
  #lastActivityMs: number | null = null

  constructor (init: ConsensusInstanceInit) {
    assert(init.restored === undefined || init.restored.epoch === init.epoch, 'a restored acceptor belongs to this epoch')
    this.epoch = init.epoch
    this.#init = init
    this.#verify = init.verify ?? verifyNodeSignature
    this.#acceptor = init.restored ?? initialAcceptorState(init.epoch)
    this.#proposer = new Proposer({ self: init.key.nodeId, epoch: init.epoch, clusterId: init.clusterId, profile: init.profile, prng: init.prng, verify: this.#verify, shape: wireShape(init.shape) })
    const restoredBallot = maxBallot(this.#acceptor.promised, this.#acceptor.accepted?.ballot ?? null)
    if (restoredBallot !== null) this.#proposer.observe(restoredBallot)
  }

  get decision (): Decision | null { return this.#decision }
  get acceptorState (): AcceptorState { return this.#acceptor }
  get proposing (): boolean { return this.#proposer.active }
  /** The highest ballot this node has seen in the epoch, for `status`. */
  get highestBallot (): Ballot | null { return this.#proposer.highestSeen }
  /** When a message of this epoch was last received or a ballot started; feeds `proposalDecision`. */
  get lastActivityMs (): number | null { return this.#lastActivityMs }

  /** Starts proposing (the policy said so); ignored while proposing or once decided. */
  propose (nowMs: number, request: ProposalRequest): ConsensusOutput {
    const out = new OutputBuilder()
    if (this.#decision !== null) return out.build()
    const started = this.#proposer.propose(nowMs, request)
    if (started.send.length > 0) this.#lastActivityMs = nowMs
    this.#absorbProposer(started, out)
    this.#drainLocal(nowMs, out)
    return out.build()
  }

  /** Best effort: the member set changed while proposing; the next ballot counts the new one. */
  retarget (request: ProposalRequest): void {
    if (this.#decision === null) this.#proposer.retarget(request)
  }

  /** The member set this node's current or next ballot counts (best effort). */
  get proposedMembers (): MemberSet | undefined { return this.#proposer.members }

  tick (nowMs: number): ConsensusOutput {
    const out = new OutputBuilder()
    if (this.#decision !== null) return out.build()
    const retried = this.#proposer.tick(nowMs)
    if (retried.send.length > 0) this.#lastActivityMs = nowMs
    this.#absorbProposer(retried, out)
    this.#drainLocal(nowMs, out)
    return out.build()
  }

  /** Feeds one message of this epoch from `from` (the authenticated sender of the envelope). */
  step (from: NodeId, message: ConsensusMessage, nowMs: number): ConsensusOutput {
    assert(message.epoch === this.epoch, 'the node routes a message to the instance of its epoch')
    const out = new OutputBuilder()
    this.#handle({ from, to: this.#init.key.nodeId, message }, nowMs, out)
    this.#drainLocal(nowMs, out)
    return out.build()
  }

  /**
   * Completes a commit from votes merged into the ledger (any votes of this epoch; others are
   * ignored): if a quorum voted for the value this acceptor holds, at its ballot or a lower one,
   * the certificate is built here. This finishes a bootstrap whose proposer crashed between
   * accept and commit. `rule` is the value's own (in best effort: a majority of the members its
   * plan names), never one from this node's view, so every node completes by the same count.
   */
  completeFromVotes (votes: readonly VoteRecord[], rule: QuorumRule): ConsensusOutput {
    const out = new OutputBuilder()
    const accepted = this.#acceptor.accepted
    if (this.#decision !== null || accepted === null) return out.build()
    const valueHash = valueHashOf(accepted.value)
    // Only votes for the value we hold can complete; the bound keeps a flooded ledger from stalling us.
    const ours = votes.filter((vote) => vote.epoch === this.epoch && equalBytes(vote.valueHash, valueHash)).slice(0, VOTES_SCANNED_MAX)
    // Signatures are checked only once enough distinct eligible voters are in: each vote entry
    // calls this, and verifying all of them every time is quadratic in the voters.
    const voters = new Set(ours.filter((vote) => isEligibleVoter(rule, vote.voter)).map((vote) => vote.voter))
    if (voters.size < rule.quorum) return out.build()
    const certificate = certificateFromVotes(ours, rule, this.#init.clusterId, { valueHash, verify: this.#verify })
    if (certificate === null) return out.build()
    assert(equalBytes(certificate.valueHash, valueHash), 'a completed certificate is for the value we hold')
    this.#decide({ epoch: this.epoch, value: accepted.value, certificate }, out)
    return out.build()
  }

  /** The decision is known from the ledger (already validated there): stop and answer with it. */
  learn (decision: Decision): void {
    assert(decision.epoch === this.epoch, 'a learned decision is for this epoch')
    if (this.#decision !== null) {
      // S2: a second, different decision for one epoch means a broken certificate check.
      assert(equalBytes(this.#decision.certificate.valueHash, decision.certificate.valueHash), 'S2: one value per epoch')
      return
    }
    this.#decision = decision
    this.#decisionBytes = encodeDecision(decision)
    this.#proposer.stop()
  }

  #handle (envelope: Envelope<ConsensusMessage>, nowMs: number, out: OutputBuilder): void {
    const { from, message } = envelope
    if (message.kind !== 'paxos/decided') this.#lastActivityMs = nowMs
    switch (message.kind) {
      case 'paxos/prepare': {
        this.#proposer.onRivalBallot(message.ballot, nowMs)
        if (this.#answerDecided(from, out)) return
        if (this.#refuseOtherShape(from, message.shape, out)) return
        if (this.#refuseOtherMembers(from, message.members, out)) return
        const step = onPrepare(this.#acceptor, message)
        this.#acceptor = step.state
        if (step.persist !== null) out.persist.push(step.persist)
        if (step.reply !== null) this.#emit(from, step.reply, out)
        return
      }
      case 'paxos/accept': {
        this.#proposer.onRivalBallot(message.ballot, nowMs)
        if (this.#answerDecided(from, out)) return
        if (this.#refuseOtherShape(from, message.shape, out)) return
        if (this.#refuseOtherMembers(from, message.members, out)) return
        const refusal = this.#init.judge?.(message.value, nowMs) ?? null
        if (refusal !== null) {
          out.refused.push({ from, epoch: this.epoch, reason: refusal })
          return
        }
        const step = onAccept(this.#acceptor, message, { key: this.#init.key, clusterId: this.#init.clusterId })
        this.#acceptor = step.state
        if (step.persist !== null) out.persist.push(step.persist)
        if (step.vote !== null) out.votes.push(step.vote)
        if (step.reply !== null) this.#emit(from, step.reply, out)
        return
      }
      case 'paxos/promise':
        this.#absorbProposer(this.#proposer.onPromise(from, message, nowMs), out)
        return
      case 'paxos/accepted':
        this.#absorbProposer(this.#proposer.onAccepted(from, message), out)
        return
      case 'paxos/nack':
        this.#absorbProposer(this.#proposer.onNack(message, nowMs), out)
        return
      case 'paxos/decided':
        if (this.#decision === null && out.claimedDecision === null) out.claimedDecision = message.decision
    }
  }

  /** A decided epoch answers every prepare and accept with the decision: no second bootstrap. */
  #answerDecided (to: NodeId, out: OutputBuilder): boolean {
    if (this.#decisionBytes === null) return false
    if (to === this.#init.key.nodeId) return true
    const reply: DecidedMessage = { kind: 'paxos/decided', epoch: this.epoch, decision: this.#decisionBytes }
    out.send.push({ from: this.#init.key.nodeId, to, message: reply })
    return true
  }

  /**
   * A proposer with another cluster shape gets no promise and no vote: its quorums may not
   * intersect ours (S1, S2). Reported once per proposer and ballot, with both shapes in words.
   */
  #refuseOtherShape (from: NodeId, shape: WireShape, out: OutputBuilder): boolean {
    const disagreement = shapeDisagreement(this.#init.shape, shape)
    if (disagreement === null) return false
    out.refused.push({ from, epoch: this.epoch, reason: disagreement })
    return true
  }

  /** Best effort: a ballot counting another member set than this node sees gets no promise or vote. */
  #refuseOtherMembers (from: NodeId, members: MemberSet | undefined, out: OutputBuilder): boolean {
    const view = this.#init.bestEffortView
    if (view === undefined) return false
    const disagreement = memberSetDisagreement(view(), members)
    if (disagreement === null) return false
    out.refused.push({ from, epoch: this.epoch, reason: disagreement })
    return true
  }

  #absorbProposer (output: ProposerOutput, out: OutputBuilder): void {
    for (const { to, message } of output.send) this.#emit(to, message, out)
    if (output.decision !== null) this.#decide(output.decision, out)
  }

  #decide (decision: Decision, out: OutputBuilder): void {
    if (this.#decision !== null) return
    this.learn(decision)
    out.decision = decision
  }

  #emit (to: NodeId, message: ConsensusMessage, out: OutputBuilder): void {
    const envelope = { from: this.#init.key.nodeId, to, message }
    if (to === this.#init.key.nodeId) out.local.push(envelope)
    else out.send.push(envelope)
  }

  /** Delivers self-addressed messages in order; bounded, since each request yields one reply. */
  #drainLocal (nowMs: number, out: OutputBuilder): void {
    for (let delivered = 0; out.local.length > 0; delivered++) {
      assert(delivered < LOCAL_DELIVERIES_MAX, 'local deliveries stay below LOCAL_DELIVERIES_MAX')
      const next = out.local.shift()
      if (next !== undefined) this.#handle(next, nowMs, out)
    }
  }
}
