import type { EpochRecord, MemberStatus, NodeStatus, Role } from '@p2p-bootstrap/core'
import type { AgentPhase } from './published-status.js'
import type { NodePart, PlanView } from './plan-view.js'

/** One member as this node sees it, for `p2p-bootstrap status`. */
export interface MemberReport {
  readonly nodeId: string
  /**
   * The host name the node published, and the k3s node name derived from it (`edge-1-951eca0d`:
   * what `kubectl get nodes` shows); null until its facts arrive here. Absent from older agents.
   */
  readonly hostname?: string | null
  readonly nodeName?: string | null
  /** The node's `node-ip`, else its first published listen address, else null. */
  readonly address: string | null
  /** SWIM's view: alive, suspect, dead or left. */
  readonly state: MemberStatus['state'] | 'self'
  readonly role: Role | null
  /** The phase the node published about itself, or null if not (yet) known here. */
  readonly phase: AgentPhase | null
  /** Milliseconds since this node last heard from it (null: never directly). */
  readonly lastSeenAgoMs: number | null
  readonly connected: boolean
  /**
   * True when the node asked to leave and no committed epoch has retired it yet. The fields below
   * marked "absent from older agents" may be missing from a report read over the socket of an
   * agent older than this command.
   */
  readonly leaving?: boolean
  /** True when a committed epoch retired the node: it left, and no plan counts it again. */
  readonly retired?: boolean
}

/** Everything `status` shows; JSON-safe (what the status socket serves). */
export interface StatusReport {
  readonly nodeId: string
  readonly clusterId: string
  /** The cluster's name (token or options), or null when it has none. Absent from older agents. */
  readonly clusterName?: string | null
  /** This node's host name and k3s node name (see MemberReport). Absent from older agents. */
  readonly hostname?: string
  readonly nodeName?: string
  readonly phase: AgentPhase
  /** What the node waits for and why, in one sentence. */
  readonly waitingFor: string
  readonly expect: number | null
  readonly controlPlanes: number
  readonly proposer: string | null
  readonly ballot: string | null
  readonly epoch: number
  readonly role: Role | null
  readonly plan: PlanView | null
  readonly part: NodePart | null
  readonly members: readonly MemberReport[]
  readonly addresses: readonly string[]
  readonly connections: number
  readonly files: readonly string[]
  /** Entries this node's ledger holds (tombstones included). */
  readonly ledgerEntries: number
  /** Encoded bytes of those entries. */
  readonly ledgerBytes: number
  readonly startedAtMs: number
  readonly reportedAtMs: number
  /**
   * Every committed epoch this node holds, oldest first: when, who proposed it, who voted, the
   * control planes it made, whom it replaced or retired, and why (its notes). Absent from older agents.
   */
  readonly history?: readonly EpochRecord[]
  /** True once this node asked to leave (`leave`), until it stops. Absent from older agents. */
  readonly leaving?: boolean
  /** The epoch that retired this node (it left), or null. Absent from older agents. */
  readonly retiredAtEpoch?: number | null
  /**
   * How long a control plane stays dead before a committed epoch replaces it with a live worker,
   * in milliseconds (option `failoverDelayMs`, else the profile's). Absent from older agents.
   */
  readonly failoverDelayMs?: number
  /**
   * Lifeguard's local health, 0 (healthy) to 7: above 0 this node's own probes failed or it had to
   * refute suspicions of itself, so it stretches its probe interval and timeout (score + 1) times.
   * Persistently high means a starved host. Absent from older agents.
   */
  readonly localHealth?: number
  /**
   * S8: where this node's config differs from the shape the committed plan was decided under, one
   * sentence per setting saying what the edit does (the plan stays). Absent from older agents.
   */
  readonly configDrift?: readonly string[]
  /**
   * Best effort (no `expect`): two parts of the fleet each bootstrapped and have met; this node
   * follows the plan every ledger keeps, and this says which one was left. Absent when none.
   */
  readonly planConflict?: string
}

/**
 * One line of the `leave` request's answer on the agent socket (newline-delimited JSON), in the
 * order they happen: `leaving` once (the request is in the ledger, with what the node waits for),
 * `waiting` whenever that changes, `epoch` for each epoch committed meanwhile, `retired` when one
 * retires this node, `left` once its retirement is carried out (the agent stops right after). An
 * `error` line ends a stream that cannot reach `left` (the agent stopped first).
 */
export type LeaveUpdate =
  | { readonly event: 'leaving', readonly nodeId: string, readonly epoch: number, readonly role: Role | null, readonly waitingFor: string }
  | { readonly event: 'waiting', readonly waitingFor: string }
  | { readonly event: 'epoch', readonly record: EpochRecord }
  | { readonly event: 'retired', readonly epoch: number }
  | { readonly event: 'left', readonly epoch: number }
  | { readonly event: 'error', readonly code: string, readonly error: string }

/** Counts of members by state, for progress lines ("found 3/5 peers"). */
export function aliveCount (status: NodeStatus): number {
  return status.members.filter(member => member.state === 'alive').length
}
