import type { MemberStatus, NodeStatus, Role } from '@p2p-bootstrap/core'
import type { AgentPhase } from './published-status.js'
import type { NodePart, PlanView } from './plan-view.js'

/** One member as this node sees it, for `p2p-bootstrap status`. */
export interface MemberReport {
  readonly nodeId: string
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
}

/** Everything `status` shows; JSON-safe (what the status socket serves). */
export interface StatusReport {
  readonly nodeId: string
  readonly clusterId: string
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
}

/** Counts of members by state, for progress lines ("found 3/5 peers"). */
export function aliveCount (status: NodeStatus): number {
  return status.members.filter(member => member.state === 'alive').length
}
