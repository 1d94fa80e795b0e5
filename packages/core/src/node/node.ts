import { bytesToHex } from '@noble/hashes/utils.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { assert } from '../assert.js'
import { encodeCanonical } from '../codec.js'
import { ACCEPTORS_MAX, DECISION_BYTES_MAX } from '../consensus/limits.js'
import { memberSetOf } from '../consensus/member-set.js'
import type { ProposalRequest } from '../consensus/proposer.js'
import {
  BAD_SIGNATURE_WINDOW_MS, BAD_SIGNATURES_PER_PEER_MAX, ENTRY_VALUE_BYTES_MAX, PEER_PENALTY_MS, PENALISED_PEERS_TRACKED_MAX
} from '../limits.js'
import { PeerPenalties } from './peer-penalties.js'
import { CodecError, P2pBootstrapError } from '../errors.js'
import { formatBallot } from '../consensus/ballot.js'
import { decisionKey, decisionValidator, decodeDecision, epochOfDecisionKey, encodeDecision } from '../consensus/decision.js'
import type { Decision } from '../consensus/decision.js'
import { ConsensusInstance } from '../consensus/instance.js'
import type { ConsensusOutput } from '../consensus/instance.js'
import type { ConsensusMessage } from '../consensus/messages.js'
import { proposalDecision } from '../consensus/policy.js'
import { bootstrapQuorum, quorumRuleFor } from '../consensus/quorum.js'
import type { QuorumRule } from '../consensus/quorum.js'
import { restoreAcceptors } from '../consensus/acceptor.js'
import type { AcceptorState } from '../consensus/acceptor.js'
import { cachedSignatureVerifier } from '../consensus/statement.js'
import type { SignatureVerifier } from '../consensus/statement.js'
import { decodeVoteEntry, parseVoteKey, voteKeyPrefix } from '../consensus/vote.js'
import type { VoteRecord } from '../consensus/vote.js'
import type { NodeId } from '../identity.js'
import { nodeEntryKey } from '../ledger/keys.js'
import type { Entry } from '../ledger/entry.js'
import type { LedgerReport, MergeResult } from '../ledger/outcome.js'
import { LedgerError } from '../ledger/errors.js'
import { entryRecord, restoreReplica } from '../ledger/records.js'
import type { LedgerReplica } from '../ledger/replica.js'
import { SignatureCache } from '../ledger/signature-cache.js'
import { answerLedgerMessage, deltaMessages, digestMessage } from '../ledger/sync.js'
import { afterChange, afterRound, exchangeDiffers, startRhythm } from '../ledger/anti-entropy-rhythm.js'
import type { AntiEntropyRhythm } from '../ledger/anti-entropy-rhythm.js'
import type { LedgerMessage } from '../ledger/messages.js'
import { Membership } from '../membership/membership.js'
import type { MembershipMessage } from '../membership/messages.js'
import { decodePlan, encodePlan, planSummary } from '../planner/plan-codec.js'
import { planCluster } from '../planner/plan-cluster.js'
import { initialiserOf } from '../planner/join-graph.js'
import { nextRoleChange, planFromChange } from '../planner/reconfigure.js'
import { roleOf } from '../planner/role.js'
import { generateClusterSecrets } from '../secrets/cluster-tokens.js'
import type { ClusterSecrets } from '../secrets/cluster-tokens.js'
import { openServerToken, resealServerToken, sealPlanSecrets } from '../secrets/plan-secrets.js'
import type { ClusterShape, NodeFacts, Plan, Role } from '../types.js'
import { controlPlanesProblem, expectProblem } from '../token/fields.js'
import type {
  CoreEvent, CoreNode, CoreNodeInit, Envelope, EpochRecord, MemberStatus, NodeInspection, NodeLedgerAccess, NodeStatus, PersistRecord, Phase, Ready
} from './contract.js'
import { decodeFacts, encodeFacts } from './facts.js'
import type { CoreMessage } from './wire.js'

/** Kind of the record that counts starts, so SWIM incarnations grow across restarts. */
const BOOT_RECORD_KIND = 'node/boot'

/** Bytes of the shape hash gossiped with membership, to detect nodes configured differently. */
const SHAPE_HASH_BYTES = 8

/** Ledger key name under `node/<id>/` for the facts a node publishes about itself. */
const FACTS_KEY_NAME = 'facts'

/**
 * Ledger key name under `node/<id>/` for the node's shape hash. Membership carries it only with a
 * new incarnation; the ledger's anti-entropy delivers it for sure, so a node knows the shape of
 * every member it counts before it proposes.
 */
const SHAPE_KEY_NAME = 'shape'

/** Refusals reported at most once each (proposer and reason); the set is bounded. */
const REFUSALS_REMEMBERED_MAX = 256

/** Ledger key name under `node/<id>/` a node writes to ask the control plane to retire it. */
export const LEAVING_KEY_NAME = 'leaving'
/**
 * `node/<id>/k3s-server`: written once, for good, by a control plane whose k3s server was Ready
 * (the k3s applier writes it). A dead initialiser is replaced without naming a new one while a
 * control plane left in the new epoch wrote it (planner `readyServers`).
 */
export const SERVER_READY_KEY_NAME = 'k3s-server'

/** Verified signatures kept per node; shared by ledger and consensus checks. */
const SIGNATURE_CACHE_ENTRIES = 8_192

// A decision is one ledger entry: the largest one consensus can make must fit (S5 rejects nothing valid).
assert(DECISION_BYTES_MAX <= ENTRY_VALUE_BYTES_MAX, 'a ledger entry holds the largest decision')

interface BootRecord extends PersistRecord {
  readonly kind: typeof BOOT_RECORD_KIND
  readonly count: number
}

/** Kind of the record that keeps the plan conflict `status` shows across restarts. */
const CONFLICT_RECORD_KIND = 'node/plan-conflict'

interface ConflictRecord extends PersistRecord {
  readonly kind: typeof CONFLICT_RECORD_KIND
  /** What `status` says; null once cleared. */
  readonly notice: string | null
  /** The newest epoch held when it was written: a newer one since clears it. */
  readonly epoch: number
}

/**
 * The votes of one undecided epoch, each decoded once (votes are written once), and who voted for
 * each value. Re-decoding the epoch's votes on each new one made a formation quadratic in voters.
 */
interface VoteTally {
  /** Entry key → vote; null for an entry that is not a valid vote (it counts for nothing). */
  readonly decoded: Map<string, VoteRecord | null>
  /** Value hash (hex) → distinct voters for it. */
  readonly voters: Map<string, Set<NodeId>>
}

/** Tracks since when a condition about the live member set has held; null while it does not. */
interface Since {
  quorumMs: number | null
  allExpectedMs: number | null
  stableMs: number
  /** The live set last seen; compared by content only when a new array comes in. */
  live: readonly NodeId[]
}

/**
 * The core node: membership, ledger, consensus and planner behind the four verbs of the contract
 * (contract.ts). It decides nothing by itself that a quorum has not certified: the plan it acts on
 * is the `plan/<epoch>` ledger entry whose certificate the ledger checked (S5).
 */
export class CoreNodeMachine implements CoreNode, NodeLedgerAccess {
  readonly nodeId: NodeId
  /**
   * Restored records the ledger refused, each with its reason (also sent as 'ledger:rejected'
   * events). An agent that compacts its log keeps the old one aside when this is not empty: nothing
   * on disk is dropped silently (S8).
   */
  readonly restoreProblems: readonly string[]
  private readonly init: CoreNodeInit
  private readonly ledger: LedgerReplica
  private readonly membership: Membership
  private readonly verify: SignatureVerifier
  private readonly penalties = new PeerPenalties({
    badSignaturesMax: BAD_SIGNATURES_PER_PEER_MAX,
    windowMs: BAD_SIGNATURE_WINDOW_MS,
    penaltyMs: PEER_PENALTY_MS,
    peersMax: PENALISED_PEERS_TRACKED_MAX
  })
  private readonly instances = new Map<number, ConsensusInstance>()
  private readonly restoredAcceptors: Map<number, AcceptorState>
  private readonly plans = new Map<number, Plan>()
  /** The encoded plan of each epoch held (a decision's value), to tell another certificate from another plan. */
  private readonly planValues = new Map<number, Uint8Array>()
  /** The best-effort conflict this node last followed the ledger through, for `status`; null when none. */
  private conflict: string | null = null
  /** Votes of undecided epochs, each decoded once as it is merged; dropped once the epoch is decided. */
  private readonly voteTallies = new Map<number, VoteTally>()
  private eligibleCache: { readonly version: number, readonly shapes: number, readonly ids: readonly NodeId[] } | null = null
  /** Bumped whenever a member's shape entry arrives: the eligible set is derived again. */
  private shapeEntries = 0
  private readonly refusalsReported = new Set<string>()
  private readonly history = new Map<number, EpochRecord>()
  /** When each member was last seen to die; members never seen count from this node's start. */
  private readonly deadSinceMs = new Map<NodeId, number>()
  /**
   * Peers whose ledger this node has seen equal to its own since it started: a digest from them
   * matched our root. Only then does this node hold everything they held (a later epoch among it).
   */
  private readonly ledgerSyncedWith = new Set<NodeId>()
  /**
   * For each peer, how many of this node's own writes it held at its latest matching digest; equal
   * to `localWrites` when the peer holds everything this node wrote (`holdsAllWeWrote`).
   */
  private readonly ledgerSyncedAtWrite = new Map<NodeId, number>()
  /** This node's own ledger writes since it started. */
  private localWrites = 0
  private readonly startedMs: number
  private readonly shapeHash: Uint8Array
  private readonly since: Since
  private send: Envelope[] = []
  private persist: PersistRecord[] = []
  private persistSync = false
  private events: CoreEvent[] = []
  private antiEntropy: AntiEntropyRhythm
  private nextRebroadcastMs: number
  private backoffMs: number
  private lastProposalReason = 'starting'
  private lastPhase: Phase | null = null
  private clusterSecrets: ClusterSecrets | null = null
  private role: Role | null = null
  /** Monotonic high-water mark: timers, windows and the fail-over delay run on it (S7). */
  private nowMs: number
  /** The wall clock last given: only the ledger's HLC reads it (it stamps entries compared across nodes). */
  private wallMs: number

  constructor (init: CoreNodeInit) {
    this.init = init
    this.nodeId = init.key.nodeId
    this.nowMs = init.nowMs
    this.wallMs = init.wallMs ?? init.nowMs
    this.startedMs = init.nowMs
    validateShape(init.shape)
    this.verify = cachedSignatureVerifier(SIGNATURE_CACHE_ENTRIES, init.verify)
    const cache = new SignatureCache(SIGNATURE_CACHE_ENTRIES, this.verify)
    this.shapeHash = sha256(encodeCanonical(shapeFields(init))).subarray(0, SHAPE_HASH_BYTES)
    const validateDecision = decisionValidator({
      clusterId: init.clusterId,
      decodePlanSummary: planSummary,
      verify: this.verify
    })
    const restored = restoreReplica(init.restored, {
      clusterId: init.clusterId,
      // The reserve of a full ledger is for votes, plans and the control plane's own entries.
      privilegedWriter: (writer) => this.latestPlan()?.controlPlanes.includes(writer) ?? false,
      validateDecision,
      maxClockSkewMs: init.profile.maxClockSkewMs,
      signatureCache: cache,
      verify: this.verify
    })
    this.ledger = restored.replica
    const droppedAcceptors: string[] = []
    this.restoredAcceptors = restoreAcceptors(init.restored, (notice) => { droppedAcceptors.push(notice) })
    const boots = init.restored.filter(isBootRecord).reduce((max, record) => Math.max(max, record.count), 0)
    this.membership = new Membership({
      self: this.nodeId,
      profile: init.profile,
      prng: init.prng.fork(),
      nowMs: init.nowMs,
      initialIncarnation: boots,
      meta: this.shapeHash
    })
    this.since = { quorumMs: null, allExpectedMs: null, stableMs: init.nowMs, live: [] }
    this.antiEntropy = startRhythm(init.nowMs, init.prng.intInclusive(0, init.profile.antiEntropyIntervalMs), init.profile)
    this.nextRebroadcastMs = init.nowMs + init.profile.ledgerRebroadcastIntervalMs
    this.backoffMs = this.drawBackoff()
    // S6: the start counter is on disk before this incarnation says anything.
    const boot: BootRecord = { kind: BOOT_RECORD_KIND, count: boots + 1 }
    this.persistRecord(boot, true)
    this.restoreProblems = restored.problems.map((problem) => `restored record ${problem.index}: ${problem.problem}`)
    for (const reason of this.restoreProblems) this.events.push({ type: 'ledger:rejected', from: this.nodeId, reason })
    for (const notice of droppedAcceptors) this.events.push({ type: 'state:dropped', detail: notice })
    // Plans already on disk are learned again: the role survives the restart (S4).
    for (const entry of this.ledger.list('plan/')) this.learnPlanEntry(entry)
    const conflict = init.restored.filter(isConflictRecord).at(-1)
    if (conflict !== undefined && (this.latestPlan()?.epoch ?? 0) <= conflict.epoch) this.conflict = conflict.notice
    for (const entry of this.ledger.list('node/')) this.noteMemberFromKey(entry.key, init.nowMs)
    this.publishFacts(init.facts, init.nowMs)
    this.publishShape(init.nowMs)
    this.updatePhase()
  }

  // ---- inputs ----

  tick (monotonicMs: number, wallMs?: number): void {
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    if (nowMs >= this.membership.nextTickMs()) this.membership.tick(nowMs)
    this.drainMembership(nowMs)
    if (nowMs >= this.antiEntropy.nextMs) {
      // Rarer once settled and quiet, back to the base interval on any difference (see the rhythm).
      this.antiEntropy = afterRound(this.antiEntropy, nowMs, this.plans.size > 0, this.init.profile)
      const peer = this.randomPeers(1)[0]
      if (peer !== undefined) this.sendTo(peer, digestMessage(this.ledger))
      // Tombstone stamps are HLC (wall) time: the horizon is measured on the same clock.
      this.ledger.reap(this.wallMs, this.init.profile.tombstoneHorizonMs)
    }
    if (this.init.profile.ledgerRebroadcastIntervalMs > 0 && nowMs >= this.nextRebroadcastMs) this.rebroadcastLedger(nowMs)
    this.driveBootstrap(nowMs)
    this.driveReconfiguration(nowMs)
    for (const instance of this.instances.values()) this.handleConsensus(instance.tick(nowMs), nowMs)
    this.updatePhase()
  }

  step (envelope: Envelope, monotonicMs: number, wallMs?: number): void {
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    const { from } = envelope
    if (from === this.nodeId) return
    const message = envelope.message as CoreMessage
    if (message.kind.startsWith('swim/')) {
      this.membership.step(from, message as MembershipMessage, nowMs)
    } else {
      // Any authenticated message shows the peer is there; SWIM decides whether it stays alive.
      this.membership.addPeer(from, nowMs)
      if (message.kind.startsWith('ledger/')) this.stepLedger(from, message as LedgerMessage, nowMs)
      else if (message.kind.startsWith('paxos/')) this.stepConsensus(from, message as ConsensusMessage, nowMs)
    }
    this.drainMembership(nowMs)
    this.updatePhase()
  }

  discover (peer: NodeId, monotonicMs: number, wallMs?: number): void {
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    if (peer === this.nodeId) return
    const known = this.membership.stateOf(peer) !== null
    this.membership.addPeer(peer, nowMs)
    // A new peer gets our digest at once: it (or we) may hold a committed plan (L2).
    if (!known) this.sendTo(peer, digestMessage(this.ledger))
    this.drainMembership(nowMs)
    this.updatePhase()
  }

  /** See the contract: the membership says goodbye (SWIM's leave), the rest stays as it is. */
  shutdown (monotonicMs: number, wallMs?: number): void {
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    this.membership.leave(nowMs)
    this.drainMembership(nowMs)
  }

  /** See the contract: our own frozen time is not held against others (Lifeguard). */
  resumed (frozenMs: number, monotonicMs: number): void {
    if (Number.isSafeInteger(monotonicMs)) this.nowMs = Math.max(this.nowMs, monotonicMs)
    this.membership.resumed(frozenMs, this.nowMs)
  }

  // ---- outputs ----

  ready (): Ready {
    return {
      persist: { records: this.persist, sync: this.persistSync },
      send: this.send,
      events: this.events
    }
  }

  advance (ready: Ready): void {
    assert(ready.send === this.send && ready.events === this.events && ready.persist.records === this.persist,
      'advance acknowledges the last ready, with no input in between')
    this.send = []
    this.events = []
    this.persist = []
    this.persistSync = false
  }

  status (): NodeStatus {
    const plan = this.latestPlan()
    const members: MemberStatus[] = this.membership.members().map(member => ({
      nodeId: member.nodeId,
      state: member.state,
      incarnation: member.incarnation,
      lastSeenMs: member.lastSeenMs,
      role: plan === null ? null : roleOf(plan, member.nodeId)
    }))
    const instance = this.instances.get(1)
    const ballot = instance?.highestBallot ?? null
    return {
      nodeId: this.nodeId,
      clusterId: this.init.clusterId,
      phase: this.phase(),
      waitingFor: this.waitingFor(),
      members,
      proposer: this.membership.live()[0] ?? null,
      ballot: ballot === null ? null : formatBallot(ballot),
      epoch: plan?.epoch ?? 0,
      plan,
      role: this.role,
      history: [...this.history.values()].sort((a, b) => a.epoch - b.epoch),
      leaving: this.ledger.value(nodeEntryKey(this.nodeId, LEAVING_KEY_NAME)) !== undefined,
      localHealth: this.membership.localHealth,
      ...(this.conflict !== null && { planConflict: this.conflict })
    }
  }

  leave (monotonicMs: number, wallMs?: number): void {
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    if (this.ledger.value(nodeEntryKey(this.nodeId, LEAVING_KEY_NAME)) !== undefined) return
    this.writeLocal(nodeEntryKey(this.nodeId, LEAVING_KEY_NAME), new Uint8Array([1]), nowMs)
  }

  publish (name: string, value: Uint8Array, monotonicMs: number, wallMs?: number): void {
    if (name === FACTS_KEY_NAME || name === SHAPE_KEY_NAME) {
      throw new P2pBootstrapError('NODE_RESERVED_NAME', `node/<id>/${name} is written from the facts and shape given at construction; publish under another name`)
    }
    const nowMs = this.advanceClocks(monotonicMs, wallMs)
    this.writeLocal(nodeEntryKey(this.nodeId, name), value, nowMs)
  }

  /** True once a digest from `nodeId` matched our ledger since this node started (see `ledger:synced`). */
  syncedWith (nodeId: NodeId): boolean {
    return this.ledgerSyncedWith.has(nodeId)
  }

  /**
   * True when a digest from `nodeId` matched our ledger after this node's latest own write: the
   * peer holds every entry this node wrote (its facts, status, votes), so it needs nothing more
   * from it. What a node that is about to exit (`--once`) asks of each peer.
   */
  holdsAllWeWrote (nodeId: NodeId): boolean {
    return this.ledgerSyncedAtWrite.get(nodeId) === this.localWrites
  }

  lookup (key: string): Uint8Array | undefined {
    return this.ledger.value(key)
  }

  ledgerRecords (): PersistRecord[] {
    return this.ledger.entries().map(entryRecord)
  }

  ledgerBytes (): number {
    return this.ledger.bytes
  }

  ledgerSize (): number {
    return this.ledger.size
  }

  inspect (): NodeInspection {
    const promised = new Map<number, readonly [number, NodeId]>()
    const accepted = new Map<number, readonly [number, NodeId]>()
    const note = (epoch: number, state: AcceptorState): void => {
      if (!promised.has(epoch) && state.promised !== null) promised.set(epoch, [state.promised.round, state.promised.proposer])
      const ballot = state.accepted?.ballot
      if (!accepted.has(epoch) && ballot !== undefined) accepted.set(epoch, [ballot.round, ballot.proposer])
    }
    for (const [epoch, instance] of this.instances) note(epoch, instance.acceptorState)
    for (const [epoch, state] of this.restoredAcceptors) note(epoch, state)
    return { nodeId: this.nodeId, plans: this.plans, promised, accepted, role: this.role, audit: () => this.ledger.audit() }
  }

  // ---- the bootstrap decision ----

  /** Epoch 1: ask the policy whether to propose, and do it (S1 rests on Paxos, not on this). */
  private driveBootstrap (nowMs: number): void {
    if (this.plans.has(1)) return
    if (this.init.bootstrapBarred !== undefined) {
      this.lastProposalReason = `${this.init.bootstrapBarred}: this node takes no part in a first bootstrap and waits to learn the committed plan from its peers`
      return
    }
    const live = this.eligibleLive()
    this.trackLiveSet(live, nowMs)
    // Propose only once the shape of every member counted is known: counting a member of unknown
    // shape let a mistyped machine into the first bootstrap; leaving it out shrank the quorum.
    const unknown = live.filter((id) => this.shapeHashOf(id) === null).length
    if (unknown > 0) {
      this.lastProposalReason = `waiting to learn the cluster shape of ${unknown} member${unknown === 1 ? '' : 's'} before counting ${unknown === 1 ? 'it' : 'them'}`
      return
    }
    const instance = this.instance(1)
    const { expect } = this.init.shape
    const listenedMs = nowMs - this.startedMs
    if (expect !== undefined && bootstrapQuorum(expect) === 1 && listenedMs < this.init.profile.gatherTimeoutMs) {
      // A quorum of one asks nobody: a node added later with the same token would start a second
      // cluster at once. Listening first lets it find the formed cluster and learn its plan (L2).
      this.lastProposalReason = `listening for an existing cluster for ${this.init.profile.gatherTimeoutMs / 1000} s before initialising one (a quorum of 1 asks nobody)`
      return
    }
    const decision = proposalDecision({
      self: this.nodeId,
      nowMs,
      epoch: 1,
      liveMembers: live,
      ...(this.init.shape.expect === undefined ? {} : { expect: this.init.shape.expect }),
      quorumSeenSinceMs: this.since.quorumMs,
      allExpectedSeenSinceMs: this.since.allExpectedMs,
      memberSetStableSinceMs: this.since.stableMs,
      lastBallotActivityMs: instance.lastActivityMs,
      profile: this.init.profile,
      backoffMs: this.backoffMs
    })
    this.lastProposalReason = decision.reason
    if (instance.proposing) this.retargetBootstrap(instance, live)
    if (!decision.propose || instance.proposing) return
    this.backoffMs = this.drawBackoff()
    const request = this.bootstrapRequest(live)
    if (request === null) return
    this.handleConsensus(instance.propose(nowMs, request), nowMs)
  }

  /**
   * What a ballot of epoch 1 asks for. Best effort: the ballot names the member set it counts
   * (every acceptor checks it against its own view), and a value's accepts are counted under the
   * rule the value itself names: a majority of its plan's members, the same on every node.
   */
  private bootstrapRequest (live: readonly NodeId[]): ProposalRequest | null {
    const members = [...new Set([...live, this.nodeId])].sort()
    const bestEffort = this.init.shape.expect === undefined
    if (bestEffort && members.length > ACCEPTORS_MAX) {
      this.lastProposalReason = `best effort counts at most ${ACCEPTORS_MAX} members and ${members.length} are live: set expect in the token`
      return null
    }
    const rule = quorumRuleFor(1, this.init.shape, undefined, bestEffort ? members : undefined)
    return {
      acceptors: live,
      rule,
      value: () => this.bootstrapValue(live),
      ruleOf: (value) => bootstrapRuleOf(value) ?? rule,
      ...(bestEffort && { members: memberSetOf(members) })
    }
  }

  /**
   * Best effort: the live set changed while this node was proposing. Its next ballot counts the
   * new set; the one in flight is refused by every acceptor that sees the change.
   */
  private retargetBootstrap (instance: ConsensusInstance, live: readonly NodeId[]): void {
    const current = instance.proposedMembers
    if (this.init.shape.expect !== undefined || current === undefined) return
    const members = memberSetOf([...live, this.nodeId])
    if (members.count === current.count && sameBytes(members.hash, current.hash)) return
    const request = this.bootstrapRequest(live)
    if (request !== null) instance.retarget(request)
  }

  /** The plan this node would propose: members it sees, secrets it generated once (S3). */
  private bootstrapValue (live: readonly NodeId[]): Uint8Array {
    this.clusterSecrets ??= generateClusterSecrets(this.init.entropy)
    const tokens = this.clusterSecrets
    const { plan } = planCluster({
      clusterId: this.init.clusterId,
      epoch: 1,
      shape: this.init.shape,
      members: live.map(nodeId => ({ nodeId, facts: this.factsOf(nodeId) ?? { labels: {} } })),
      secrets: (controlPlanes) => sealPlanSecrets({
        serverToken: tokens.serverToken,
        agentToken: tokens.agentToken,
        controlPlanes,
        sealingKey: this.init.sealingKey,
        entropy: this.init.entropy
      })
    })
    return encodePlan(plan)
  }

  // ---- later epochs: grow, replace, hand over, retire ----

  /**
   * After the bootstrap, the lowest live control plane proposes the next change of roles, if the
   * planner sees one; the previous epoch's control planes vote (a majority of them must be live).
   * Others only vote: Paxos keeps a second proposer safe, but a single one keeps it quick.
   */
  private driveReconfiguration (nowMs: number): void {
    const plan = this.latestPlan()
    if (plan === null || !plan.controlPlanes.includes(this.nodeId)) return
    const live = new Set(this.eligibleLive())
    live.add(this.nodeId)
    const liveServers = plan.controlPlanes.filter(id => live.has(id)).sort()
    if (liveServers[0] !== this.nodeId) return
    const epoch = plan.epoch + 1
    const instance = this.instance(epoch)
    if (instance.proposing || instance.decision !== null) return
    const rule = quorumRuleFor(epoch, this.init.shape, plan)
    // Without a live majority of the voters no ballot can win: wait rather than start one that
    // would retry until they come back.
    if (liveServers.length < rule.quorum) {
      this.lastProposalReason = `epoch ${epoch} needs ${rule.quorum} live control planes to vote; ${liveServers.length} are live`
      return
    }
    const change = nextRoleChange({
      previous: plan,
      shape: this.init.shape,
      live: [...live].map(nodeId => ({ nodeId, facts: this.factsOf(nodeId) ?? { labels: {} } })),
      deadForMs: this.deadDurations(plan, nowMs),
      leaving: this.leavingNodes(plan),
      failoverDelayMs: this.init.profile.failoverDelayMs,
      readyServers: this.readyServers(plan)
    })
    if (change === null) return
    this.lastProposalReason = `proposing epoch ${epoch}: ${change.notes.join('; ')}`
    this.handleConsensus(instance.propose(nowMs, {
      // Every voter, not only those live now: a retried ballot then reaches one that comes back.
      acceptors: plan.controlPlanes,
      rule,
      value: () => {
        // S3: the same server token, now also sealed to the new control planes.
        const serverToken = openServerToken(plan.secrets, this.init.key)
        const secrets = resealServerToken(plan.secrets, serverToken, change.controlPlanes, this.init.entropy)
        return encodePlan(planFromChange(plan, change, secrets))
      }
    }), nowMs)
  }

  /**
   * How long each member of the plan has been dead in this node's view. S7: only a member this
   * node saw die counts; one never seen dead (not met since this start, or left out of the live
   * set for another shape) is not dead, so it is never replaced on this node's say alone.
   */
  private deadDurations (plan: Plan, nowMs: number): Map<NodeId, number> {
    const durations = new Map<NodeId, number>()
    for (const nodeId of [...plan.controlPlanes, ...plan.workers]) {
      const since = this.deadSinceMs.get(nodeId)
      if (since !== undefined) durations.set(nodeId, nowMs - since)
    }
    return durations
  }

  /** The nodes of the plan (or ones it replaced or retired) that said their k3s server was Ready. */
  private readyServers (plan: Plan): Set<NodeId> {
    const everyone = [...plan.controlPlanes, ...plan.workers, ...(plan.replaced ?? []), ...(plan.retired ?? [])]
    return new Set(everyone.filter(nodeId => this.ledger.value(nodeEntryKey(nodeId, SERVER_READY_KEY_NAME)) !== undefined))
  }

  /**
   * A voter's own check of a proposed later epoch before it votes (S7): every control plane it
   * removes is replaced or retired; every replaced member has been dead in this node's view for
   * the fail-over delay, by this node's clock; every retired member asked to leave in this
   * node's ledger. Null to vote, else the reason, in words.
   */
  private judgeChange (epoch: number, value: Uint8Array, nowMs: number): string | null {
    const previous = this.plans.get(epoch - 1)
    if (previous === undefined) return `this node does not hold plan epoch ${epoch - 1} yet`
    let next: Plan
    try {
      next = decodePlan(value)
    } catch (err) {
      if (err instanceof CodecError) return `the proposed value is not a plan: ${err.message}`
      throw err
    }
    const replaced = next.replaced ?? []
    const retired = next.retired ?? []
    const unexplained = previous.controlPlanes.filter((id) => !next.controlPlanes.includes(id) && !replaced.includes(id) && !retired.includes(id))
    if (unexplained.length > 0) return `epoch ${epoch} removes control plane ${unexplained.join(', ')} without replacing or retiring it`
    const delayMs = this.init.profile.failoverDelayMs
    for (const nodeId of replaced) {
      const since = this.deadSinceMs.get(nodeId)
      if (since === undefined) return `epoch ${epoch} replaces ${nodeId}, which this node has not seen dead (S7: a member never seen dead is not dead)`
      const deadMs = nowMs - since
      if (deadMs < delayMs) return `epoch ${epoch} replaces ${nodeId}, dead for ${(deadMs / 1000).toFixed(1)} s in this node's view; the fail-over delay is ${delayMs / 1000} s (S7)`
    }
    for (const nodeId of retired) {
      if (this.ledger.value(nodeEntryKey(nodeId, LEAVING_KEY_NAME)) === undefined) return `epoch ${epoch} retires ${nodeId}, which has not asked to leave in this node's ledger`
    }
    return null
  }

  /** Nodes that wrote `node/<id>/leaving` and are not retired yet. */
  private leavingNodes (plan: Plan): Set<NodeId> {
    const leaving = new Set<NodeId>()
    const retired = new Set(plan.retired ?? [])
    const known = new Set<NodeId>([...plan.controlPlanes, ...plan.workers, ...this.membership.members().map(member => member.nodeId), this.nodeId])
    for (const nodeId of known) {
      if (!retired.has(nodeId) && this.ledger.value(nodeEntryKey(nodeId, LEAVING_KEY_NAME)) !== undefined) leaving.add(nodeId)
    }
    return leaving
  }

  private trackLiveSet (live: readonly NodeId[], nowMs: number): void {
    if (live !== this.since.live) {
      if (!sameIds(live, this.since.live)) this.since.stableMs = nowMs
      this.since.live = live
    }
    const { expect } = this.init.shape
    if (expect === undefined) return
    const quorumReached = live.length >= bootstrapQuorum(expect)
    this.since.quorumMs = quorumReached ? (this.since.quorumMs ?? nowMs) : null
    this.since.allExpectedMs = live.length >= expect ? (this.since.allExpectedMs ?? nowMs) : null
  }

  /** Live members whose shape matches ours: a differently configured node is reported, not used. */
  /**
   * Live members whose shape agrees with ours, sorted. Asked on every input, so it is derived
   * again only when membership's live set or some meta changed (sorting N ids per input made a
   * large formation cost N² per node).
   */
  private eligibleLive (): readonly NodeId[] {
    const version = this.membership.liveOrMetaVersion
    if (this.eligibleCache?.version === version && this.eligibleCache.shapes === this.shapeEntries) return this.eligibleCache.ids
    // live() is sorted already. A member of another shape is left out; one whose shape is not
    // known yet stays in, so quorum sizes err on the large side, and driveBootstrap does not
    // propose until it knows the shape of every member it counts.
    const ids = this.membership.live().filter((id) => {
      const hash = this.shapeHashOf(id)
      return hash === null || sameBytes(hash, this.shapeHash)
    })
    this.eligibleCache = { version, shapes: this.shapeEntries, ids }
    return ids
  }

  private instance (epoch: number): ConsensusInstance {
    let instance = this.instances.get(epoch)
    if (instance === undefined) {
      const restored = this.restoredAcceptors.get(epoch)
      instance = new ConsensusInstance({
        key: this.init.key,
        clusterId: this.init.clusterId,
        epoch,
        profile: this.init.profile,
        prng: this.init.prng.fork(),
        verify: this.verify,
        shape: this.init.shape,
        ...(epoch > 1 && { judge: (value: Uint8Array, nowMs: number) => this.judgeChange(epoch, value, nowMs) }),
        // S1: a machine that shows a committed plan it no longer holds never votes in a first bootstrap.
        ...(epoch === 1 && this.init.bootstrapBarred !== undefined && { judge: () => `${this.init.bootstrapBarred ?? ''}: this node does not vote in a first bootstrap` }),
        // Best effort: a ballot counting another member set than this node sees is refused.
        ...(epoch === 1 && this.init.shape.expect === undefined && { bestEffortView: () => this.eligibleLive() }),
        ...(restored === undefined ? {} : { restored })
      })
      this.instances.set(epoch, instance)
    }
    return instance
  }

  private stepConsensus (from: NodeId, message: ConsensusMessage, nowMs: number): void {
    // Only epochs that can be decided now: the next one after what we hold.
    const next = (this.latestPlan()?.epoch ?? 0) + 1
    if (message.epoch > next) return
    this.handleConsensus(this.instance(message.epoch).step(from, message, nowMs), nowMs, from)
  }

  /** Turns one consensus output into persist, ledger writes and sends, in the S6 order. */
  private handleConsensus (output: ConsensusOutput, nowMs: number, from: NodeId | null = null): void {
    for (const record of output.persist) this.persistRecord(record, true)
    for (const vote of output.votes) this.writeLocal(vote.key, vote.value, nowMs)
    if (output.decision !== null) this.commitDecision(output.decision, nowMs)
    for (const envelope of output.send) this.send.push(envelope)
    for (const refusal of output.refused) {
      // A proposer retries every ballot timeout: one report per proposer and reason says it all.
      const key = `${refusal.from}/${refusal.epoch}/${refusal.reason}`
      if (this.refusalsReported.has(key)) continue
      if (this.refusalsReported.size >= REFUSALS_REMEMBERED_MAX) this.refusalsReported.clear()
      this.refusalsReported.add(key)
      this.events.push({ type: 'consensus:refused', ...refusal })
    }
    if (output.claimedDecision !== null && from !== null) {
      // A peer says the epoch is decided: fetch the certified entry from it rather than trust it.
      this.sendTo(from, digestMessage(this.ledger))
    }
  }

  private commitDecision (decision: Decision, nowMs: number): void {
    const key = decisionKey(decision.epoch)
    if (this.ledger.get(key) !== undefined) return
    this.writeLocal(key, encodeDecision(decision), nowMs)
  }

  // ---- the ledger ----

  private stepLedger (from: NodeId, message: LedgerMessage, nowMs: number): void {
    // A penalised peer's messages cost nothing: not read, not answered, not reported again.
    if (this.penalties.penalised(from, nowMs)) return
    const answer = answerLedgerMessage(this.ledger, message)
    if (answer.badSignatures > 0) {
      const untilMs = this.penalties.badSignatures(from, answer.badSignatures, nowMs)
      if (untilMs !== null) {
        this.events.push({ type: 'peer:misbehaving', peer: from, reason: `more than ${BAD_SIGNATURES_PER_PEER_MAX} ledger entries with bad signatures within ${BAD_SIGNATURE_WINDOW_MS / 1000} s`, untilMs })
      }
    }
    for (const reply of answer.send) this.sendTo(from, reply)
    if (exchangeDiffers(message.kind, answer.send.length)) this.noteLedgerChange(nowMs)
    else if (message.kind === 'ledger/digest' && this.ledgerSyncedAtWrite.get(from) !== this.localWrites) {
      // The peer's root equals ours: at this moment we hold all it holds (and it all we hold).
      this.ledgerSyncedWith.add(from)
      this.ledgerSyncedAtWrite.set(from, this.localWrites)
      this.events.push({ type: 'ledger:synced', peer: from })
    }
    for (const { reason, detail } of answer.rejected) {
      this.events.push({ type: 'ledger:rejected', from, reason: `${reason}: ${detail}` })
    }
    this.handleReports(answer.reports)
    this.afterMerge(answer.accepted, from, nowMs)
  }

  /** The naive baseline's full re-send (profile `ledgerRebroadcastIntervalMs`); never on in a named profile. */
  private rebroadcastLedger (nowMs: number): void {
    this.nextRebroadcastMs = nowMs + this.init.profile.ledgerRebroadcastIntervalMs
    const deltas = deltaMessages(this.ledger.entries())
    for (const peer of this.membership.live()) {
      if (peer === this.nodeId) continue
      for (const delta of deltas) this.sendTo(peer, delta)
    }
  }

  /** Writes an entry of our own; it is on disk before anything it caused is sent (S6). */
  private writeLocal (key: string, value: Uint8Array, nowMs: number): void {
    let result: MergeResult
    try {
      // The stamp is HLC time from the wall clock; it never goes back when the wall clock does.
      result = this.ledger.write(key, value, this.wallMs, this.init.key)
    } catch (err) {
      // A full ledger is an operating condition, not a bug: say so and go on (the write is not
      // made; a vote's accept was already persisted and answered, so consensus does not need it).
      if (err instanceof LedgerError && err.code === 'LEDGER_FULL') {
        this.events.push({ type: 'ledger:rejected', from: this.nodeId, reason: err.message })
        return
      }
      // A decision made here on a plan the ledger no longer keeps (best effort, two parts met):
      // refused with a notice, never a throw that would stop the agent on every start.
      const epoch = epochOfDecisionKey(key)
      if (!(err instanceof LedgerError && err.code === 'LEDGER_REJECTED' && epoch !== null)) throw err
      this.events.push({ type: 'ledger:rejected', from: this.nodeId, reason: `epoch ${epoch} decided here is not written: ${err.message}` })
      this.resetInstance(epoch)
      return
    }
    if (result.accepted.length > 0) this.localWrites++
    this.handleReports(result.reports)
    this.afterMerge(result.accepted, null, nowMs, true)
  }

  /** Persists, forwards and reacts to entries that were new here. */
  private afterMerge (accepted: readonly Entry[], from: NodeId | null, nowMs: number, sync = false): void {
    if (accepted.length === 0) return
    this.noteLedgerChange(nowMs)
    const decisive = accepted.some(entry => entry.key.startsWith('plan/') || entry.key.startsWith('vote/'))
    for (const entry of accepted) this.persistRecord(entryRecord(entry), sync || decisive)
    const targets = this.randomPeers(this.init.profile.pushFanout, from)
    for (const delta of deltaMessages(accepted)) {
      for (const peer of targets) this.sendTo(peer, delta)
    }
    const voteEpochs = new Set<number>()
    for (const entry of accepted) {
      if (entry.key.startsWith('plan/')) this.learnPlanEntry(entry)
      else if (entry.key.startsWith('vote/')) {
        const { epoch } = parseVoteKey(entry.key)
        if (this.plans.has(epoch)) continue
        const tally = this.voteTallies.get(epoch)
        // Without a tally yet, the first look at this epoch reads it from the ledger, this entry included.
        if (tally !== undefined) tallyVote(tally, entry)
        voteEpochs.add(epoch)
      } else this.noteNodeEntry(entry.key, nowMs)
    }
    for (const epoch of voteEpochs) this.completeFromVotes(epoch, nowMs)
  }

  /** An acceptor that sees a quorum of votes for what it accepted can commit it (proposer crash). */
  private completeFromVotes (epoch: number, nowMs: number): void {
    if (this.plans.has(epoch)) return
    const previous = this.plans.get(epoch - 1)
    // Votes of a later epoch can arrive before its previous plan: they are judged once it is here.
    if (epoch > 1 && previous === undefined) return
    const accepted = this.instance(epoch).acceptorState.accepted
    // S8: an epoch-1 value is completed under the shape it was proposed under, not today's config;
    // in best effort under the members its plan names, never under this node's view of them.
    const valueRule = epoch === 1 && accepted !== null ? bootstrapRuleOf(accepted.value) : null
    if (epoch === 1 && valueRule === null && this.init.shape.expect === undefined) return
    const rule = valueRule ?? quorumRuleFor(epoch, this.init.shape, previous)
    const tally = this.tallyOf(epoch)
    // Checking signatures is left until some value has enough voters to make a quorum at all.
    if (mostVotersForOneValue(tally) < rule.quorum) return
    const votes: VoteRecord[] = []
    for (const entry of this.ledger.list(voteKeyPrefix(epoch))) {
      const vote = tally.decoded.get(entry.key) ?? tallyVote(tally, entry)
      if (vote !== null) votes.push(vote)
    }
    this.handleConsensus(this.instance(epoch).completeFromVotes(votes, rule), nowMs)
  }

  /** The tally of an undecided epoch's votes, read from the ledger the first time it is asked for. */
  private tallyOf (epoch: number): VoteTally {
    let tally = this.voteTallies.get(epoch)
    if (tally === undefined) {
      tally = { decoded: new Map(), voters: new Map() }
      this.voteTallies.set(epoch, tally)
      for (const entry of this.ledger.list(voteKeyPrefix(epoch))) tallyVote(tally, entry)
    }
    return tally
  }

  private learnPlanEntry (entry: Entry): void {
    const epoch = epochOfDecisionKey(entry.key)
    if (epoch === null || entry.value === null) return
    // The ledger accepted it only with a valid certificate (S5), so it is the epoch's plan (S2).
    const decision = decodeDecision(entry.value)
    const held = this.planValues.get(epoch)
    // Another certificate of the value we hold (the proposer's and a completing acceptor's).
    if (held !== undefined && sameBytes(held, decision.value)) return
    const plan = decodePlan(decision.value)
    this.planValues.set(epoch, decision.value)
    if (held !== undefined) this.followLedgerPlan(epoch, decision, plan)
    else {
      this.plans.set(epoch, plan)
      this.instance(epoch).learn(decision)
    }
    this.voteTallies.delete(epoch)
    const record: EpochRecord = {
      epoch,
      proposer: decision.certificate.ballot.proposer,
      voters: decision.certificate.votes.map(vote => vote.voter),
      decidedAtMs: entry.stamp.wallMs,
      controlPlanes: plan.controlPlanes,
      replaced: plan.replaced ?? [],
      retired: plan.retired ?? [],
      notes: plan.notes
    }
    this.history.set(epoch, record)
    this.events.push({ type: 'plan:committed', plan, record })
    const latest = this.latestPlan()
    if (latest !== null && (latest === plan || held !== undefined)) {
      if (held === undefined) this.noteConflict(null) // a newer epoch of the plan kept
      const role = roleOf(latest, this.nodeId)
      if (role !== null && role !== this.role) {
        this.role = role
        this.events.push({ type: 'role', role, epoch: latest.epoch })
      } else if (role === null && this.role !== null) {
        this.role = null // retired: the plan no longer counts this node
      }
    }
  }

  private handleReports (reports: readonly LedgerReport[]): void {
    for (const report of reports) {
      if (report.type === 'equivocation') this.events.push({ type: 'ledger:equivocation', voter: report.voter, key: report.key })
      else if (report.type === 'orphaned') {
        this.events.push({ type: 'ledger:rejected', from: report.dropped.writer, reason: `conflicting decisions: ${report.key} was built on a plan the ledger no longer keeps and is let go: ${report.reason}` })
      } else if (!sameDecidedValue(report.kept, report.dropped)) {
        this.events.push({ type: 'ledger:rejected', from: report.dropped.writer, reason: `conflicting decisions under ${report.key}` })
        this.noteConflictWon(report.key, report.kept, report.dropped)
      }
    }
  }

  /** The plan this node holds won a conflict (the other side switches): `status` says so here too. */
  private noteConflictWon (key: string, kept: Entry, dropped: Entry): void {
    const epoch = epochOfDecisionKey(key)
    const mine = epoch === null ? undefined : this.planValues.get(epoch)
    if (epoch === null || mine === undefined || kept.value === null || dropped.value === null) return
    try {
      const keptDecision = decodeDecision(kept.value)
      if (!sameBytes(keptDecision.value, mine)) return
      this.noteConflict(conflictNotice(epoch, planSummary(decodeDecision(dropped.value).value).init, planSummary(keptDecision.value).init, []))
    } catch (err) {
      if (!(err instanceof CodecError)) throw err
    }
  }

  /**
   * Best effort: two parts of the fleet that could not see each other each committed a plan, and
   * they have met. Every ledger keeps the same one of the two (resolve.ts), and so does every
   * node, in memory as on disk: the plan it holds is the ledger's, before a restart and after it
   * (S4). Epochs this node held above it that were built on the other plan are gone from the
   * ledger; they go here too. Reported loudly (an event, and `status` until the next epoch).
   */
  private followLedgerPlan (epoch: number, decision: Decision, plan: Plan): void {
    const before = this.plans.get(epoch)
    this.plans.set(epoch, plan)
    this.resetInstance(epoch).learn(decision)
    const dropped: number[] = []
    for (const held of [...this.plans.keys()].filter((later) => later > epoch).sort((a, b) => a - b)) {
      const bytes = this.ledger.value(decisionKey(held))
      const kept = bytes === undefined ? null : decodeDecision(bytes)
      const mine = this.planValues.get(held)
      if (kept !== null && mine !== undefined && sameBytes(kept.value, mine)) continue
      this.plans.delete(held)
      this.planValues.delete(held)
      this.history.delete(held)
      this.resetInstance(held)
      dropped.push(held)
    }
    // A ballot in flight above the switched epoch was built on the plan left: start it afresh.
    for (const later of [...this.instances.keys()]) {
      if (later > epoch && !this.plans.has(later)) this.resetInstance(later)
    }
    const notice = conflictNotice(epoch, before?.init ?? 'none', plan.init, dropped)
    this.noteConflict(notice)
    this.events.push({ type: 'ledger:rejected', from: this.nodeId, reason: `conflicting decisions under plan/${epoch}: ${notice}` })
  }

  /**
   * The conflict `status` shows, kept on disk too (a restart compacts the losing entry away, and
   * the operator must still hear of it); null clears it (a newer epoch of the plan kept).
   */
  private noteConflict (notice: string | null): void {
    if (notice === this.conflict) return
    this.conflict = notice
    const record: ConflictRecord = { kind: CONFLICT_RECORD_KIND, notice, epoch: this.latestPlan()?.epoch ?? 0 }
    this.persistRecord(record, false)
  }

  /**
   * A fresh instance for `epoch`, keeping what its acceptor promised and accepted (S6): its
   * decision was let go, and a ballot of the plan kept must not meet an old answer.
   */
  private resetInstance (epoch: number): ConsensusInstance {
    const old = this.instances.get(epoch)
    this.instances.delete(epoch)
    if (old !== undefined) this.restoredAcceptors.set(epoch, old.acceptorState)
    return this.instance(epoch)
  }

  /** Our shape hash under `node/<self>/shape`, written once per shape (S1: others count us by it). */
  private publishShape (nowMs: number): void {
    const key = nodeEntryKey(this.nodeId, SHAPE_KEY_NAME)
    const held = this.ledger.value(key)
    if (held !== undefined && sameBytes(held, this.shapeHash)) return
    this.writeLocal(key, this.shapeHash, nowMs)
  }

  /** A member's shape hash: from its ledger entry, else from membership; null while unknown. */
  private shapeHashOf (nodeId: NodeId): Uint8Array | null {
    if (nodeId === this.nodeId) return this.shapeHash
    return this.ledger.value(nodeEntryKey(nodeId, SHAPE_KEY_NAME)) ?? this.membership.member(nodeId)?.meta ?? null
  }

  private publishFacts (facts: NodeFacts, nowMs: number): void {
    const key = nodeEntryKey(this.nodeId, FACTS_KEY_NAME)
    const value = encodeFacts(facts)
    const held = this.ledger.value(key)
    if (held !== undefined && sameBytes(held, value)) return
    this.writeLocal(key, value, nowMs)
  }

  factsOf (nodeId: NodeId): NodeFacts | null {
    const bytes = this.ledger.value(nodeEntryKey(nodeId, FACTS_KEY_NAME))
    if (bytes === undefined) return null
    try {
      return decodeFacts(bytes)
    } catch (err) {
      if (err instanceof CodecError) return null
      throw err
    }
  }

  /** A node that wrote to the ledger is a member we may not have met yet (a node learns the rest from one). */
  private noteMemberFromKey (key: string, nowMs: number): NodeId | null {
    const match = /^node\/([^/]+)\/(.+)$/.exec(key)
    const nodeId = match?.[1]
    if (nodeId === undefined) return null
    if (nodeId !== this.nodeId && this.membership.stateOf(nodeId) === null) {
      this.membership.addPeer(nodeId, nowMs)
    }
    return nodeId
  }

  /** A new `node/<id>/<name>` entry: the member is noted and the application told (addresses, status). */
  private noteNodeEntry (key: string, nowMs: number): void {
    const nodeId = this.noteMemberFromKey(key, nowMs)
    if (nodeId === null) return
    const name = key.slice(`node/${nodeId}/`.length)
    if (name === SHAPE_KEY_NAME) {
      this.shapeEntries += 1
      if (nodeId !== this.nodeId) this.checkShape(nodeId)
    }
    this.events.push({ type: 'node:entry', nodeId, name })
  }

  // ---- plumbing ----

  /**
   * Takes one input's clocks: the monotonic one never goes back here (a caller's bad clock is
   * read as no time passing, never as a throw), the wall one is kept as given for the HLC, which
   * survives steps both ways. Returns the monotonic time to run this input at.
   */
  private advanceClocks (monotonicMs: number, wallMs: number | undefined): number {
    if (Number.isSafeInteger(monotonicMs)) this.nowMs = Math.max(this.nowMs, monotonicMs)
    const wall = wallMs ?? monotonicMs
    if (Number.isSafeInteger(wall) && wall >= 0) this.wallMs = wall
    return this.nowMs
  }

  private drainMembership (nowMs: number): void {
    const { send, events } = this.membership.drain()
    for (const { to, message } of send) this.sendTo(to, message)
    for (const event of events) {
      this.events.push(event)
      if (event.type === 'member:join' || event.type === 'member:alive') {
        this.deadSinceMs.delete(event.nodeId)
        this.checkShape(event.nodeId)
      } else if (event.type === 'member:dead' || event.type === 'member:left') {
        this.deadSinceMs.set(event.nodeId, nowMs)
      }
      // A membership change (a suspicion alone is not one) may come with entries to exchange.
      if (event.type !== 'member:suspect') this.noteLedgerChange(nowMs)
    }
    if (this.plans.has(1)) return
    this.trackLiveSet(this.eligibleLive(), nowMs)
  }

  private checkShape (nodeId: NodeId): void {
    const hash = this.shapeHashOf(nodeId)
    if (hash !== null && !sameBytes(hash, this.shapeHash)) {
      this.events.push({ type: 'shape:mismatch', nodeId, detail: 'its cluster shape (expect, controlPlanes, vip, name) differs from ours: check both configs; it takes no part until they agree' })
    }
  }

  /** A difference was seen: anti-entropy returns to its base interval (a missed push is repaired soon). */
  private noteLedgerChange (nowMs: number): void {
    this.antiEntropy = afterChange(this.antiEntropy, nowMs, this.init.profile)
  }

  private sendTo (to: NodeId, message: CoreMessage): void {
    this.send.push({ from: this.nodeId, to, message })
  }

  private persistRecord (record: PersistRecord, sync: boolean): void {
    this.persist.push(record)
    this.persistSync ||= sync
  }

  private randomPeers (count: number, except: NodeId | null = null): NodeId[] {
    const peers = this.membership.live().filter(id => id !== this.nodeId && id !== except)
    return this.init.prng.sample(peers, count)
  }

  private drawBackoff (): number {
    return this.init.prng.intInclusive(0, this.init.profile.proposerBackoffMsMax)
  }

  private latestPlan (): Plan | null {
    let latest: Plan | null = null
    for (const plan of this.plans.values()) if (latest === null || plan.epoch > latest.epoch) latest = plan
    return latest
  }

  private phase (): Phase {
    if (this.plans.size > 0) return 'committed'
    const ballot = this.instances.get(1)?.highestBallot ?? null
    return ballot === null ? 'discovering' : 'voting'
  }

  private waitingFor (): string {
    const plan = this.latestPlan()
    if (plan === null) return this.lastProposalReason
    if (plan.retired?.includes(this.nodeId) === true) return `nothing: epoch ${plan.epoch} retired this node; it has no role and is not counted again`
    const role = this.role ?? 'worker'
    return `nothing: plan of epoch ${plan.epoch} committed; this node is ${role === 'control-plane' ? describeControlPlane(plan, this.nodeId) : 'a worker'}`
  }

  private updatePhase (): void {
    const phase = this.phase()
    if (phase === this.lastPhase) return
    this.lastPhase = phase
    this.events.push({ type: 'phase', phase, waitingFor: this.waitingFor() })
  }
}

/** Builds the core node from everything it needs; nothing is read from the environment. */
export function createCoreNode (init: CoreNodeInit): CoreNodeMachine {
  return new CoreNodeMachine(init)
}

/** What `status` says after two plans of one epoch met (best effort: two parts each bootstrapped). */
function conflictNotice (epoch: number, lostInit: NodeId, keptInit: NodeId, dropped: readonly number[]): string {
  return `two parts of the fleet each committed a plan (best effort, or configs that broke a precondition); plan epoch ${epoch} ` +
    `with initialiser ${lostInit} lost to the one with initialiser ${keptInit}, which every node keeps` +
    `${dropped.length > 0 ? ` (this node's epochs ${dropped.join(', ')}, built on the other, are dropped)` : ''}: ` +
    'machines that started k3s under the plan that lost run a second cluster; wipe and reinstall them to join this one (set expect to rule this out)'
}

function describeControlPlane (plan: Plan, nodeId: NodeId): string {
  const index = plan.controlPlanes.indexOf(nodeId)
  if (initialiserOf(plan) === nodeId) return `control plane ${index + 1} of ${plan.controlPlanes.length} (initialises the cluster)`
  const previous = plan.controlPlanes[index - 1]
  return `control plane ${index + 1} of ${plan.controlPlanes.length}, joins after ${previous ?? plan.init}`
}

/**
 * The shape a token would carry; an embedder that builds one by hand gets the token's limits too.
 * Beyond EXPECT_MAX the bootstrap quorum outgrows the largest certificate (QUORUM_MAX).
 */
function validateShape (shape: ClusterShape): void {
  const problem = expectProblem(shape.expect) ?? controlPlanesProblem(shape.controlPlanes)
  if (problem !== null) throw new P2pBootstrapError('NODE_BAD_SHAPE', `shape.${problem}`)
}

function shapeFields (init: CoreNodeInit): Record<string, number | string> {
  const { shape } = init
  const fields: Record<string, number | string> = { controlPlanes: shape.controlPlanes }
  if (shape.expect !== undefined) fields.expect = shape.expect
  if (shape.vip !== undefined) fields.vip = shape.vip
  if (shape.name !== undefined) fields.name = shape.name
  return fields
}

/**
 * The epoch-1 rule of an encoded plan: from the shape it names (S8), in best effort a majority of
 * the members it names. Null when the bytes are not a plan (a broken peer's value counts under
 * the caller's rule).
 */
function bootstrapRuleOf (value: Uint8Array): QuorumRule | null {
  try {
    const summary = planSummary(value)
    return quorumRuleFor(1, summary.decidedUnder, undefined, summary.members)
  } catch (err) {
    if (err instanceof CodecError) return null
    throw err
  }
}

function isConflictRecord (record: PersistRecord): record is ConflictRecord {
  const { notice, epoch } = record as { notice?: unknown, epoch?: unknown }
  return record.kind === CONFLICT_RECORD_KIND && (notice === null || typeof notice === 'string') && typeof epoch === 'number'
}

function isBootRecord (record: PersistRecord): record is BootRecord {
  return record.kind === BOOT_RECORD_KIND && typeof (record as { count?: unknown }).count === 'number'
}

function sameIds (a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index])
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}

/**
 * Two certificates for one decided value are two proofs of the same decision (the proposer and an
 * acceptor that completed from the votes each wrote one): the ledger keeps one, and nothing is wrong.
 */
function sameDecidedValue (kept: Entry, dropped: Entry): boolean {
  if (kept.value === null || dropped.value === null) return false
  try {
    return sameBytes(decodeDecision(kept.value).value, decodeDecision(dropped.value).value)
  } catch (err) {
    if (err instanceof CodecError) return false
    throw err
  }
}

/** Adds a vote entry to the tally (once per key); returns its vote, or null if it is not a valid one. */
function tallyVote (tally: VoteTally, entry: Entry): VoteRecord | null {
  const known = tally.decoded.get(entry.key)
  if (known !== undefined) return known
  const vote = entry.value === null ? null : decodeVoteOrNull(entry.key, entry.value)
  tally.decoded.set(entry.key, vote)
  if (vote === null) return null
  const valueKey = bytesToHex(vote.valueHash)
  let voters = tally.voters.get(valueKey)
  if (voters === undefined) {
    voters = new Set()
    tally.voters.set(valueKey, voters)
  }
  voters.add(vote.voter)
  return vote
}

function mostVotersForOneValue (tally: VoteTally): number {
  let most = 0
  for (const voters of tally.voters.values()) most = Math.max(most, voters.size)
  return most
}

/** A vote entry's vote; null for one the ledger admitted by key and signature but whose value is not a vote (it counts for nothing). */
function decodeVoteOrNull (key: string, value: Uint8Array): VoteRecord | null {
  try {
    return decodeVoteEntry(key, value)
  } catch (err) {
    if (err instanceof P2pBootstrapError) return null
    throw err
  }
}
