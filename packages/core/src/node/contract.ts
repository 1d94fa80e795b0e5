import type { NodeId, NodeKey } from '../identity.js'
import type { MembershipEvent } from '../membership/membership.js'
import type { Prng } from '../prng.js'
import type { TimingProfile } from '../profiles.js'
import type { ClusterShape, NodeFacts, Plan, Role } from '../types.js'

/**
 * The contract of the core node state machine, shared by the simulator (in-memory ports) and the
 * bootstrapper (libp2p, disk, clock). Four verbs carry everything, after etcd-io/raft:
 *
 *   node.tick(nowMs); node.step(envelope, nowMs); node.discover(peer, nowMs)   // inputs
 *   const ready = node.ready()                                                 // outputs
 *   await store.append(ready.persist)      // S6: on disk (fsync when ready.persist.sync) ...
 *   transport.send(ready.send)             // ... before any message leaves
 *   node.advance(ready)
 *
 * The caller must persist before it sends: a promise or accept that reached a proposer but not
 * the disk could be contradicted after a restart.
 *
 * Two clocks come in. `nowMs` is a monotonic clock (the agent's `performance.now()`): every
 * timer, suspicion, listen and gather window and the fail-over delay run on it, so a wall-clock
 * step can neither shorten a fail-over delay (S7) nor stop the node. `wallMs` is the wall clock
 * (`Date.now()`), used only by the ledger's hybrid logical clock, whose stamps compare across
 * nodes; the HLC never goes back when the wall clock does. Without `wallMs`, `nowMs` serves as
 * both (the simulator's plain runs, tests). A `nowMs` below one already given is taken as the
 * one already given: a caller's bad clock never throws.
 */

/** A message between two nodes. `message` is one of the core's wire messages (`kind` names it). */
export interface Envelope<Message = WireMessage> {
  readonly from: NodeId
  readonly to: NodeId
  readonly message: Message
}

/** Every wire message has a `kind` like `swim/ping`, `ledger/delta`, `paxos/prepare`. */
export interface WireMessage {
  readonly kind: string
}

/**
 * A durable record. The store appends records in order; on restart they are handed back to
 * `restore` in the same order. Kinds are defined by the modules (acceptor state, ledger entries,
 * local clock high-water mark); the store treats them as opaque CBOR values.
 */
export interface PersistRecord {
  readonly kind: string
}

export interface PersistBatch {
  readonly records: readonly PersistRecord[]
  /**
   * True when the batch holds something that must be on disk before `send` leaves (a promise, an
   * accept, a committed plan, a local write): the store fsyncs. False batches (entries learned from
   * peers) may be lost by a crash; peers can send them again.
   */
  readonly sync: boolean
}

/** What the node wants done, handed out by `ready()` and acknowledged by `advance()`. */
export interface Ready {
  readonly persist: PersistBatch
  readonly send: readonly Envelope[]
  readonly events: readonly CoreEvent[]
}

/** Where a node is in forming the cluster. */
export type Phase = 'discovering' | 'voting' | 'committed'

/** Events for the embedding application; `topic:event` names. */
export type CoreEvent =
  | MembershipEvent
  | { readonly type: 'phase', readonly phase: Phase, readonly waitingFor: string }
  | { readonly type: 'plan:committed', readonly plan: Plan, readonly record: EpochRecord }
  | { readonly type: 'role', readonly role: Role, readonly epoch: number }
  | { readonly type: 'ledger:rejected', readonly from: NodeId, readonly reason: string }
  | { readonly type: 'ledger:equivocation', readonly voter: NodeId, readonly key: string }
  | { readonly type: 'shape:mismatch', readonly nodeId: NodeId, readonly detail: string }
  /**
   * A peer sent too many bad signatures: its ledger messages are dropped unread until `untilMs`
   * (the node's clock); the adapter should disconnect it and refuse it until then.
   */
  | { readonly type: 'peer:misbehaving', readonly peer: NodeId, readonly reason: string, readonly untilMs: number }
  /** A record restored from disk that a peer poisoned (out of today's ranges) was dropped; `detail` says which. */
  | { readonly type: 'state:dropped', readonly detail: string }
  /**
   * This node refused to vote for a proposal (an accept): it cannot vouch for it (S7: a member it
   * has not seen dead for the fail-over delay; another cluster shape). Said in words, with both sides.
   */
  | { readonly type: 'consensus:refused', readonly from: NodeId, readonly epoch: number, readonly reason: string }
  /**
   * A peer's ledger digest matched ours, for the first time since this node started or since its
   * latest own write: each holds everything the other held then (a boot-time check can rely on it,
   * `syncedWith`; a node about to exit asks `holdsAllWeWrote`).
   */
  | { readonly type: 'ledger:synced', readonly peer: NodeId }
  /** A `node/<id>/<name>` entry is new here (another node's, or our own): facts, published status. */
  | { readonly type: 'node:entry', readonly nodeId: NodeId, readonly name: string }

/** Everything a node needs at construction; nothing here is read from the environment. */
export interface CoreNodeInit {
  readonly key: NodeKey
  /** Public cluster id from the token (domain-separates every signature). */
  readonly clusterId: string
  /** Key that seals ledger payloads readable by members (from the token's HKDF). */
  readonly sealingKey: Uint8Array
  readonly shape: ClusterShape
  readonly facts: NodeFacts
  readonly profile: TimingProfile
  /** Seeded randomness for protocol choices (peers to probe, back-off). */
  readonly prng: Prng
  /** Randomness for secrets and sealing nonces: a CSPRNG in production, seeded in the simulator. */
  readonly entropy: (length: number) => Uint8Array
  /**
   * The Ed25519 signature check (default: `verifyNodeSignature`). A simulator running many nodes
   * in one process may share one memoised check: the answer for a (signer, message, signature)
   * never changes.
   */
  readonly verify?: (nodeId: NodeId, message: Uint8Array, signature: Uint8Array) => boolean
  /** Records from a previous run, in order (empty on first start). */
  readonly restored: readonly PersistRecord[]
  /** Monotonic time at construction (see the contract's two clocks above). */
  readonly nowMs: number
  /** Wall time at construction, for the HLC only; `nowMs` when absent. */
  readonly wallMs?: number
  /**
   * Set when the machine holds evidence of a committed plan that its logs no longer show (its
   * plan file, its applied k3s config, a k3s data dir): the sentence says which. Such a node
   * never takes part in a first bootstrap (S1): it neither proposes nor votes in epoch 1, and
   * waits to learn the plan from its peers (L2).
   */
  readonly bootstrapBarred?: string
}

/** One member as this node sees it. */
export interface MemberStatus {
  readonly nodeId: NodeId
  readonly state: 'alive' | 'suspect' | 'dead' | 'left'
  readonly incarnation: number
  readonly lastSeenMs: number | null
  readonly role: Role | null
}

/** A snapshot for `status`: human and JSON views are made from it. */
export interface NodeStatus {
  readonly nodeId: NodeId
  readonly clusterId: string
  readonly phase: Phase
  /** What the node waits for and why, in one sentence ("3 of 5 expected nodes found; quorum is 3"). */
  readonly waitingFor: string
  readonly members: readonly MemberStatus[]
  /** The node this one believes should propose now (lowest live id), or null. */
  readonly proposer: NodeId | null
  /** The highest ballot this node has seen, as text ("round.proposer"), or null. */
  readonly ballot: string | null
  readonly epoch: number
  readonly plan: Plan | null
  readonly role: Role | null
  /** Every committed epoch this node holds, oldest first: who decided what, when, and why. */
  readonly history: readonly EpochRecord[]
  /** True once this node asked to leave (`leave`): it waits for an epoch that retires it. */
  readonly leaving: boolean
  /**
   * Lifeguard's local health, 0 (healthy) to 7: above 0 this node's own probes failed or it had
   * to refute suspicions of itself, so it stretches its probe interval and timeout (score + 1)
   * times rather than blame others for its slowness. Persistently high means a starved host.
   */
  readonly localHealth: number
  /**
   * Best effort (no `expect`): two parts of the fleet that could not see each other each committed
   * a plan, and they met. Every node follows the one the ledger keeps; this says which was left
   * and what it means for the machines initialised under it. Absent when there was no such
   * conflict since this node started (or a newer epoch of the plan kept came since).
   */
  readonly planConflict?: string
}

/** One committed epoch, as the status shows it. */
export interface EpochRecord {
  readonly epoch: number
  /** The node whose ballot the quorum accepted. */
  readonly proposer: NodeId
  /** The voters whose signed votes certify it. */
  readonly voters: readonly NodeId[]
  /** Wall time (ms) of the ledger entry that recorded the decision, by its writer's clock. */
  readonly decidedAtMs: number
  readonly controlPlanes: readonly NodeId[]
  readonly replaced: readonly NodeId[]
  readonly retired: readonly NodeId[]
  /** Why: the planner's sentences (what changed and the reason). */
  readonly notes: readonly string[]
}

/** What the simulator's checkers read; never used to drive behaviour. */
export interface NodeInspection {
  readonly nodeId: NodeId
  /** Every plan this node holds as committed, by epoch. */
  readonly plans: ReadonlyMap<number, Plan>
  /** Highest ballot promised per epoch, as a comparable tuple [round, proposer]. */
  readonly promised: ReadonlyMap<number, readonly [number, NodeId]>
  /** Ballot of the value accepted per epoch, [round, proposer]: S6 checks accepts survive restarts too. */
  readonly accepted?: ReadonlyMap<number, readonly [number, NodeId]>
  readonly role: Role | null
  /** Re-verifies every ledger entry from scratch (signature, ownership, certificates): S5 problems found. */
  readonly audit?: () => readonly string[]
}

/** The node state machine. */
export interface CoreNode {
  readonly nodeId: NodeId
  /** Advances time: probes, timeouts, anti-entropy, proposals. */
  tick: (nowMs: number, wallMs?: number) => void
  /** Feeds one received, already decoded message. */
  step: (envelope: Envelope, nowMs: number, wallMs?: number) => void
  /** A peer became reachable (mDNS, static peer, DHT, an inbound connection). */
  discover: (peer: NodeId, nowMs: number, wallMs?: number) => void
  /**
   * The caller saw this node's own event loop frozen for `frozenMs` (a gap between its ticks) and
   * calls this before the late tick. The frozen time is not counted against others (Lifeguard):
   * a probe whose ack sits unread in our own inbox did not fail. Optional: a node without it
   * simply judges late.
   */
  resumed?: (frozenMs: number, nowMs: number) => void
  ready: () => Ready
  advance: (ready: Ready) => void
  /**
   * Asks the control plane to retire this node: writes `node/<self>/leaving`. A later epoch hands
   * its role over (a server's to a live worker) and lists it as retired; `status().leaving` is set.
   */
  leave: (nowMs: number, wallMs?: number) => void
  /**
   * Writes `node/<self>/<name>` (an application's own entry: the k3s applier's `k3s-server`, a CA
   * hash). Optional here: the simulator uses it to let a node report its k3s server Ready.
   */
  publish?: (name: string, value: Uint8Array, nowMs: number, wallMs?: number) => void
  /**
   * The process stops cleanly (a reboot, a service stop): peers are told this node left, so they
   * log a clean goodbye rather than a death, and take it back when it returns with its next
   * incarnation. Nothing else changes: a control plane that stays away is still replaced after
   * the fail-over delay. Optional.
   */
  shutdown?: (nowMs: number, wallMs?: number) => void
  status: () => NodeStatus
  inspect: () => NodeInspection
}

/**
 * What an agent reads and writes in the node's ledger besides the driving verbs: the simulator
 * needs none of it, the bootstrapper needs all of it.
 */
export interface NodeLedgerAccess {
  /**
   * Writes `node/<self>/<name>` (the agent's own published state: its phase, readiness). Signed,
   * persisted with `sync`, pushed like any entry. `name` is segments of [A-Za-z0-9._-]; `facts`
   * is reserved for the facts given at construction.
   */
  publish: (name: string, value: Uint8Array, nowMs: number, wallMs?: number) => void
  /** The value under a ledger key, or undefined if absent or deleted. */
  lookup: (key: string) => Uint8Array | undefined
  /** The facts a member published, or null if none (or unreadable). */
  factsOf: (nodeId: NodeId) => NodeFacts | null
  /**
   * One persist record per entry held now (tombstones included): what a store needs to start a
   * fresh ledger log without the superseded entries of earlier runs.
   */
  ledgerRecords: () => PersistRecord[]
  /** Entries held now (tombstones included), without encoding them. */
  ledgerSize: () => number
  /** Encoded bytes of the entries held now. */
  ledgerBytes: () => number
}
