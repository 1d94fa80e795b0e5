import { initialiserOf, isRetired, roleOf } from '@p2p-bootstrap/core'
import type { NodeId, Plan, Role } from '@p2p-bootstrap/core'

/** This node's part in a plan, in words a person (and a script) can use. */
export interface NodePart {
  readonly nodeId: NodeId
  readonly role: Role
  /** True for the one node that runs `cluster-init`. */
  readonly init: boolean
  /** 1-based position among the control planes (join order), or null for a worker. */
  readonly controlPlaneIndex: number | null
  /** The control plane this node joins after (servers join one at a time), or null. */
  readonly joinsAfter: NodeId | null
  /**
   * Present (true) only when the plan retired this node: it left, and the plan never counts it
   * again; `role` then says what it last rendered as, not a role it holds.
   */
  readonly retired?: true
}

/** A plan without its sealed secrets (they are useless to read and long): what output and status show. */
export interface PlanView {
  readonly clusterId: string
  readonly epoch: number
  readonly name?: string
  readonly vip?: string
  readonly init: NodeId
  readonly controlPlanes: readonly NodeId[]
  readonly workers: readonly NodeId[]
  /** Former control planes a later epoch replaced while they were dead (only when there are any). */
  readonly replaced?: readonly NodeId[]
  /** Nodes that left (`leave`): no role, never counted again (only when there are any). */
  readonly retired?: readonly NodeId[]
  /** The node that initialises in place of an init node replaced before the cluster formed (only then). */
  readonly reinit?: NodeId
  readonly serverTokenHash: string
  readonly agentTokenHash: string
  readonly notes: readonly string[]
}

export function planView (plan: Plan): PlanView {
  return {
    clusterId: plan.clusterId,
    epoch: plan.epoch,
    ...(plan.name === undefined ? {} : { name: plan.name }),
    ...(plan.vip === undefined ? {} : { vip: plan.vip }),
    init: plan.init,
    controlPlanes: plan.controlPlanes,
    workers: plan.workers,
    // Absent rather than empty, so the plan file of a fleet that never changed keeps its bytes.
    ...(plan.replaced === undefined || plan.replaced.length === 0 ? {} : { replaced: plan.replaced }),
    ...(plan.retired === undefined || plan.retired.length === 0 ? {} : { retired: plan.retired }),
    ...(plan.reinit === undefined ? {} : { reinit: plan.reinit }),
    serverTokenHash: plan.secrets.serverTokenHash,
    agentTokenHash: plan.secrets.agentTokenHash,
    notes: plan.notes
  }
}

/**
 * A node's part. A node the plan does not list (it came later) is a worker: it joins the
 * existing cluster without any new bootstrap (L2).
 */
export function nodePart (plan: Plan, nodeId: NodeId): NodePart {
  const index = plan.controlPlanes.indexOf(nodeId)
  const role = roleOf(plan, nodeId) ?? 'worker'
  return {
    nodeId,
    role,
    init: initialiserOf(plan) === nodeId,
    controlPlaneIndex: index < 0 ? null : index + 1,
    joinsAfter: index > 0 ? (plan.controlPlanes[index - 1] ?? null) : null,
    ...(isRetired(plan, nodeId) ? { retired: true as const } : {})
  }
}

/** "control plane 2 of 3, joins after 12D3…abcd" / "worker" / "control plane 1 of 3, initialises the cluster". */
export function describePart (plan: Plan, part: NodePart): string {
  if (part.retired === true) return 'retired: it left the cluster, and no plan counts it again'
  if (part.role !== 'control-plane' || part.controlPlaneIndex === null) return 'worker'
  const position = `control plane ${part.controlPlaneIndex} of ${plan.controlPlanes.length}`
  if (part.init) return `${position}, initialises the cluster`
  return `${position}, joins after ${shortId(part.joinsAfter ?? '')}`
}

/** The last 8 characters of a node id: enough to tell a fleet's nodes apart in a table. */
export function shortId (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}
