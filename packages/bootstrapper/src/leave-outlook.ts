import { nextRoleChange } from '@p2p-bootstrap/core'
import type { ClusterShape, NodeId, Plan } from '@p2p-bootstrap/core'
import type { PlannerMember } from '@p2p-bootstrap/core'
import { shortId } from './plan-view.js'

/** What a leaving node knows when it says what it waits for. Pure data. */
export interface LeaveOutlookInput {
  /** The latest committed plan; it does not retire `self` yet. */
  readonly plan: Plan
  readonly self: NodeId
  readonly shape: ClusterShape
  /** Members alive now, self included, with their published facts. */
  readonly live: readonly PlannerMember[]
  /** Nodes whose `node/<id>/leaving` entry this node holds, self included. */
  readonly leaving: ReadonlySet<NodeId>
  readonly failoverDelayMs: number
}

/**
 * What a node that asked to leave waits for, in one sentence. It asks the core's own planner what
 * the control plane would propose next, so the words cannot drift from what happens: a worker
 * waits for the epoch that retires it; a control plane for the epoch that hands its role to a
 * live worker, and when no live node can take it over, for such a node to come (the cluster waits
 * for a node rather than shrink). Dead members are left out: replacing them comes after a hand-over.
 */
export function leaveWaitingFor (input: LeaveOutlookInput): string {
  const { plan, self } = input
  const change = nextRoleChange({
    previous: plan,
    shape: input.shape,
    live: input.live,
    deadForMs: new Map(),
    leaving: input.leaving,
    failoverDelayMs: input.failoverDelayMs
  })
  const byVote = 'the lowest live control plane proposes it and the control planes vote'
  if (change !== null && change.retired.includes(self)) {
    if (change.kind === 'hand-over') {
      const successor = change.controlPlanes.find(id => !plan.controlPlanes.includes(id))
      return `a committed epoch that hands this node's control-plane role to ${shortId(successor ?? '')} and retires it (${byVote})`
    }
    return `a committed epoch that retires this node (${byVote})`
  }
  if (change !== null) return `a committed epoch that retires this node, after one that comes first: ${change.notes.join('; ')}`
  if (plan.controlPlanes.includes(self)) {
    return 'a node that can take over this control plane\'s role: no live node can (each other live node is a control plane, ' +
      'retired, replaced, leaving, or asks to stay a worker); start another node with the same token and this one hands its role over to it'
  }
  return `a committed epoch that retires this node (${byVote})`
}
