import type { NodeId } from '../identity.js'
import type { NodeFacts } from '../types.js'

/** The label that marks a node as meant for the control plane: `p2p-bootstrap.io/control-plane=true`. */
export const CONTROL_PLANE_LABEL = 'p2p-bootstrap.io/control-plane'
export const CONTROL_PLANE_LABEL_VALUE = 'true'

/** A member as the planner sees it: its id and what it published about itself. */
export interface PlannerMember {
  readonly nodeId: NodeId
  readonly facts: NodeFacts
}

/**
 * Orders members for the control plane, best first: a manual `control-plane` request, then the
 * control-plane label, then more memory, then more CPUs, then the smaller node id. The last key is
 * unique, so the order is total and the plan does not depend on the order members arrived in.
 */
export function compareForControlPlane (left: PlannerMember, right: PlannerMember): number {
  return compareFlags(requestsControlPlane(left), requestsControlPlane(right)) ||
    compareFlags(isLabelled(left), isLabelled(right)) ||
    sizeOf(right.facts.memoryMb) - sizeOf(left.facts.memoryMb) ||
    sizeOf(right.facts.cpus) - sizeOf(left.facts.cpus) ||
    compareNodeIds(left.nodeId, right.nodeId)
}

/** A new array of the members, best control-plane candidate first. */
export function rankForControlPlane (members: readonly PlannerMember[]): PlannerMember[] {
  return [...members].sort(compareForControlPlane)
}

/** Largest odd count ≤ `limit` (0 when `limit` < 1): an odd etcd membership keeps a majority. */
export function largestOddAtMost (limit: number): number {
  if (limit < 1) return 0
  const whole = Math.floor(limit)
  return whole % 2 === 1 ? whole : whole - 1
}

export function requestsControlPlane (member: PlannerMember): boolean {
  return member.facts.requestedRole === 'control-plane'
}

export function requestsWorker (member: PlannerMember): boolean {
  return member.facts.requestedRole === 'worker'
}

export function isLabelled (member: PlannerMember): boolean {
  const labels = member.facts.labels
  return Object.hasOwn(labels, CONTROL_PLANE_LABEL) && labels[CONTROL_PLANE_LABEL] === CONTROL_PLANE_LABEL_VALUE
}

/** Code-unit order, never locale order: every node must sort the same way. */
export function compareNodeIds (left: NodeId, right: NodeId): number {
  return left < right ? -1 : left > right ? 1 : 0
}

function compareFlags (left: boolean, right: boolean): number {
  return Number(right) - Number(left)
}

/** Unknown, negative or non-finite sizes rank as 0, so a bad fact can never break the order. */
function sizeOf (value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0
}
