import { assert } from '../assert.js'
import { isNodeId } from '../identity.js'
import type { NodeId } from '../identity.js'
import type { Plan } from '../types.js'
import { PlannerError } from './errors.js'
import { PLAN_NODES_MAX } from './limits.js'
import { planProblems } from './plan-rules.js'
import { compareNodeIds } from './rank.js'
import type { PlanResult } from './plan-cluster.js'

/**
 * What changes from one committed epoch to the next. Today only arrivals, who become workers.
 * Promotion and replacement (a later issue) fit as further optional fields, each with the
 * resealed secrets they need (`resealServerToken`), applied after the arrivals; `init` and the
 * token hashes never change (S1, S3).
 */
export interface EpochChange {
  /** Nodes that arrived after `previous`, in any order. Ids already in the plan keep their role (S4). */
  readonly newWorkers: readonly NodeId[]
}

/**
 * The plan of the next epoch: every role of `previous` kept (S4: only a committed epoch changes a
 * role, and this one changes none), the same init node and secrets, arrivals added as workers in
 * node id order. Throws `PLANNER_NO_CHANGE` rather than make an epoch that changes nothing.
 */
export function planNextEpoch (previous: Plan, change: EpochChange): PlanResult {
  assert(planProblems(previous).length === 0, 'the previous plan is a sound committed plan')
  const listed = new Set([...previous.controlPlanes, ...previous.workers])
  for (const nodeId of change.newWorkers) {
    if (!isNodeId(nodeId)) {
      throw new PlannerError('PLANNER_BAD_MEMBER', `new worker ${JSON.stringify(nodeId.slice(0, 64))} is not an Ed25519 node id: pass ledger node ids`)
    }
  }
  const arrivals = [...new Set(change.newWorkers)].filter((nodeId) => !listed.has(nodeId)).sort(compareNodeIds)
  if (arrivals.length === 0) {
    throw new PlannerError('PLANNER_NO_CHANGE', `epoch ${previous.epoch + 1} would change nothing: every new worker is already in the plan; propose no epoch`)
  }
  if (listed.size + arrivals.length > PLAN_NODES_MAX) {
    throw new PlannerError('PLANNER_TOO_MANY_MEMBERS', `epoch ${previous.epoch + 1} would list ${listed.size + arrivals.length} nodes: a plan lists at most ${PLAN_NODES_MAX}`)
  }
  const epoch = previous.epoch + 1
  assert(Number.isSafeInteger(epoch), 'S2: epochs grow within safe integers')
  const notes = [`epoch ${epoch}: ${arrivals.length === 1 ? '1 node' : `${arrivals.length} nodes`} joined as workers; every earlier role is kept`]
  const plan: Plan = {
    ...previous,
    epoch,
    workers: [...previous.workers, ...arrivals],
    notes
  }
  assert(planProblems(plan).length === 0, 'the next plan is sound')
  assert(keepsRoles(previous, plan), 'S4: a new epoch that only adds workers keeps every role')
  return { plan, notes: [...notes] }
}

function keepsRoles (previous: Plan, next: Plan): boolean {
  const nextWorkers = new Set(next.workers)
  return previous.init === next.init &&
    previous.controlPlanes.length === next.controlPlanes.length &&
    previous.controlPlanes.every((nodeId, index) => next.controlPlanes[index] === nodeId) &&
    previous.workers.every((nodeId) => nextWorkers.has(nodeId)) &&
    previous.secrets === next.secrets
}
