import { assert } from '../assert.js'
import { isNodeId } from '../identity.js'
import type { NodeId } from '../identity.js'
import type { ClusterShape } from '../types.js'
import { PlannerError } from './errors.js'
import { CONTROL_PLANES_MAX, NOTE_CHARS_MAX, NOTES_MAX, NOTES_NAMED_REQUESTS_MAX, PLAN_NODES_MAX } from './limits.js'
import { largestOddAtMost, rankForControlPlane, requestsControlPlane, requestsWorker } from './rank.js'
import type { PlannerMember } from './rank.js'

/** Who is control plane (in join order: the first is the initialiser) and who is worker, and why. */
export interface RoleAssignment {
  readonly controlPlanes: readonly NodeId[]
  readonly workers: readonly NodeId[]
  readonly notes: readonly string[]
}

const RANK_RULE = 'ranked by request, label, memory, CPUs, then node id'

/**
 * Chooses the bootstrap roles. The control-plane count is the largest odd number within both the
 * wanted count and the nodes that may be control plane. A `worker` request is honoured unless every
 * node made one (a cluster needs a server); `control-plane` requests rank first, so when there are
 * more than slots the best-ranked requests win and the others get a note. Join order = rank order;
 * workers are listed in rank order too (they join in parallel, so their order only fixes the bytes).
 */
export function assignRoles (shape: ClusterShape, members: readonly PlannerMember[]): RoleAssignment {
  checkMembers(members)
  checkControlPlaneCount(shape.controlPlanes)
  const ranked = rankForControlPlane(members)
  const eligible = ranked.filter((member) => !requestsWorker(member))
  // With every node asking for worker, one request must give way: the best-ranked node serves.
  const pool = eligible.length > 0 ? eligible : ranked
  const count = eligible.length > 0 ? largestOddAtMost(Math.min(shape.controlPlanes, eligible.length)) : 1
  const chosen = pool.slice(0, count)
  const chosenIds = new Set(chosen.map((member) => member.nodeId))
  const assignment: RoleAssignment = {
    controlPlanes: chosen.map((member) => member.nodeId),
    workers: ranked.filter((member) => !chosenIds.has(member.nodeId)).map((member) => member.nodeId),
    notes: [
      ...countNotes(shape.controlPlanes, count, members.length, eligible.length),
      ...refusedRequestNotes(ranked.filter((member) => requestsControlPlane(member) && !chosenIds.has(member.nodeId)), count),
      ...overriddenWorkerNotes(eligible.length, chosen)
    ]
  }
  assert(assignment.controlPlanes.length % 2 === 1, 'the control-plane count is odd')
  assert(assignment.controlPlanes.length + assignment.workers.length === members.length, 'every member gets one role')
  assert(assignment.notes.length <= NOTES_MAX, 'notes stay within NOTES_MAX')
  assert(assignment.notes.every((note) => note.length <= NOTE_CHARS_MAX), 'each note stays within NOTE_CHARS_MAX')
  return assignment
}

function checkMembers (members: readonly PlannerMember[]): void {
  if (members.length === 0) {
    throw new PlannerError('PLANNER_NO_MEMBERS', 'cannot plan a cluster of no nodes: pass at least this node as a member')
  }
  if (members.length > PLAN_NODES_MAX) {
    throw new PlannerError('PLANNER_TOO_MANY_MEMBERS', `cannot plan ${members.length} nodes: a plan lists at most ${PLAN_NODES_MAX}`)
  }
  const seen = new Set<NodeId>()
  for (const { nodeId } of members) {
    if (!isNodeId(nodeId)) {
      throw new PlannerError('PLANNER_BAD_MEMBER', `member ${JSON.stringify(nodeId.slice(0, 64))} is not an Ed25519 node id: pass members as ledger node ids`)
    }
    if (seen.has(nodeId)) {
      throw new PlannerError('PLANNER_BAD_MEMBER', `member ${nodeId} is listed twice: pass each member once`)
    }
    seen.add(nodeId)
  }
}

function checkControlPlaneCount (wanted: number): void {
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > CONTROL_PLANES_MAX) {
    throw new PlannerError('PLANNER_BAD_SHAPE', `controlPlanes ${String(wanted)} is invalid: use an odd whole number from 1 to ${CONTROL_PLANES_MAX}`)
  }
}

/** Says why the control-plane count is below what the shape wanted. */
function countNotes (wanted: number, count: number, memberCount: number, eligibleCount: number): string[] {
  if (count === wanted) return []
  const oddReason = (limit: number): string => limit % 2 === 0 ? ', to keep the count odd' : ''
  const wantedText = `${wanted} control planes wanted`
  if (eligibleCount === 0) {
    return [`${wantedText} but all ${nodes(memberCount)} asked for worker: 1, because a cluster needs one`]
  }
  if (eligibleCount < memberCount && eligibleCount < wanted) {
    return [`${wantedText} but only ${eligibleCount} of ${nodes(memberCount)} may be control plane (${memberCount - eligibleCount} asked for worker): ${count}${oddReason(eligibleCount)}`]
  }
  if (memberCount < wanted) {
    return [`${wantedText} but only ${nodes(memberCount)}: ${count}${oddReason(memberCount)}`]
  }
  return [`${wantedText}: ${count}, to keep the count odd (an etcd majority)`]
}

/** Names each refused `control-plane` request, up to a bound, then counts the rest. */
function refusedRequestNotes (refused: readonly PlannerMember[], count: number): string[] {
  const slots = count === 1 ? 'the 1 slot' : `the ${count} slots`
  const named = refused.slice(0, NOTES_NAMED_REQUESTS_MAX).map((member) =>
    `node ${member.nodeId} asked for control-plane but ${slots} went to higher-ranked requests (${RANK_RULE}): it is a worker`)
  const rest = refused.length - named.length
  if (rest > 0) named.push(`${rest} more ${rest === 1 ? 'node' : 'nodes'} asked for control-plane but ${slots} went to higher-ranked requests: ${rest === 1 ? 'it is a worker' : 'they are workers'}`)
  return named
}

function overriddenWorkerNotes (eligibleCount: number, chosen: readonly PlannerMember[]): string[] {
  if (eligibleCount > 0) return []
  return chosen.map((member) =>
    `node ${member.nodeId} asked for worker, as did every node, but a cluster needs a control plane: it is the control plane (${RANK_RULE})`)
}

function nodes (count: number): string {
  return count === 1 ? '1 node' : `${count} nodes`
}
