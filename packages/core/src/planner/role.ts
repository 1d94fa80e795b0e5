import type { NodeId } from '../identity.js'
import type { Plan, Role } from '../types.js'

/**
 * The role `plan` gives `nodeId`: `null` when there is no committed plan yet; `'control-plane'` or
 * `'worker'` for a listed node; `'worker'` for a node the plan does not list, because a node that
 * arrives after a plan is a worker until a later epoch says otherwise (L2). Membership is not
 * checked here: only token holders reach the ledger at all. A retired node (it left) has none.
 */
export function roleOf (plan: Plan | null, nodeId: NodeId): Role | null {
  if (plan === null || isRetired(plan, nodeId)) return null
  return plan.controlPlanes.includes(nodeId) ? 'control-plane' : 'worker'
}

/** True when `nodeId` handed over its role and left: the plan never counts it again. */
export function isRetired (plan: Plan, nodeId: NodeId): boolean {
  return plan.retired?.includes(nodeId) ?? false
}

/** True when a later epoch removed `nodeId` from the control plane while it was dead. */
export function wasReplaced (plan: Plan, nodeId: NodeId): boolean {
  return plan.replaced?.includes(nodeId) ?? false
}

/** True when `plan` names `nodeId` (as control plane or worker), false for a worker-to-be. */
export function isListed (plan: Plan, nodeId: NodeId): boolean {
  return plan.controlPlanes.includes(nodeId) || plan.workers.includes(nodeId)
}
