import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { PlanSecrets } from '../types.js'
import type { ClusterShape, Plan } from '../types.js'
import { CONTROL_PLANES_MAX } from './limits.js'
import { planProblems } from './plan-rules.js'
import { compareNodeIds, largestOddAtMost, rankForControlPlane, requestsWorker } from './rank.js'
import type { PlannerMember } from './rank.js'

/** What the control plane sees when it considers the next epoch. Pure data: no clock, no network. */
export interface ReconfigureInput {
  /** The latest committed plan. */
  readonly previous: Plan
  readonly shape: ClusterShape
  /** Live members whose shape matches ours, with their published facts (self included). */
  readonly live: readonly PlannerMember[]
  /** For each member not live: how long it has been dead (or unseen since this node started). */
  readonly deadForMs: ReadonlyMap<NodeId, number>
  /** Nodes that asked to leave (`node/<id>/leaving` in the ledger). */
  readonly leaving: ReadonlySet<NodeId>
  /** How long a control plane must be dead before it is replaced (profile `failoverDelayMs`). */
  readonly failoverDelayMs: number
}

/** Why an epoch changes roles; one kind per epoch, so each step of the history reads plainly. */
export type RoleChangeKind = 'retire-workers' | 'hand-over' | 'replace' | 'grow'

/** The roles of the next epoch, before its secrets are resealed. */
export interface RoleChange {
  readonly kind: RoleChangeKind
  readonly controlPlanes: readonly NodeId[]
  readonly workers: readonly NodeId[]
  readonly replaced: readonly NodeId[]
  readonly retired: readonly NodeId[]
  readonly notes: readonly string[]
}

/**
 * The next change of roles the fleet needs, or null when none. In order of urgency: workers that
 * asked to leave are retired; a control plane that asked to leave hands its role to the best live
 * candidate; a control plane dead for longer than the fail-over delay is replaced by one; a
 * control plane below its target grows by two at a time. The count of voting servers stays odd at
 * every epoch, a server is only removed in the epoch that adds its replacement, and a leaving or
 * dead server without a candidate keeps its place (the cluster waits for a node rather than shrink).
 */
export function nextRoleChange (input: ReconfigureInput): RoleChange | null {
  const { previous, leaving } = input
  const epoch = previous.epoch + 1
  const controlPlanes = previous.controlPlanes
  const retired = new Set(previous.retired ?? [])
  const liveIds = new Set(input.live.map((member) => member.nodeId))

  const leavingWorkers = [...leaving]
    .filter((id) => !controlPlanes.includes(id) && !retired.has(id))
    .sort(compareNodeIds)
  if (leavingWorkers.length > 0) {
    return change(input, 'retire-workers', {
      retire: leavingWorkers,
      note: `epoch ${epoch}: ${listNames(leavingWorkers)} left as ${leavingWorkers.length === 1 ? 'a worker' : 'workers'} and will not be counted again`
    })
  }

  const candidates = controlPlaneCandidates(input)
  const leavingServer = controlPlanes.find((id) => leaving.has(id))
  if (leavingServer !== undefined) {
    const successor = candidates[0]
    if (successor === undefined) return null
    return change(input, 'hand-over', {
      swap: [leavingServer, successor],
      retire: [leavingServer],
      note: `epoch ${epoch}: control plane ${shortId(leavingServer)} left and handed its role to ${shortId(successor)}`
    })
  }

  const deadServer = controlPlanes
    .filter((id) => !liveIds.has(id) && (input.deadForMs.get(id) ?? 0) >= input.failoverDelayMs)
    .sort(compareNodeIds)[0]
  if (deadServer !== undefined) {
    const successor = candidates[0]
    if (successor === undefined) return null
    const deadSeconds = Math.round((input.deadForMs.get(deadServer) ?? 0) / 1000)
    return change(input, 'replace', {
      swap: [deadServer, successor],
      replace: [deadServer],
      note: `epoch ${epoch}: control plane ${shortId(deadServer)} dead for ${deadSeconds} s (fail-over delay ${Math.round(input.failoverDelayMs / 1000)} s); ${shortId(successor)} replaces it`
    })
  }

  const target = largestOddAtMost(Math.min(input.shape.controlPlanes, CONTROL_PLANES_MAX))
  const room = target - controlPlanes.length
  // Two at a time: an even number of voting servers would wait for a third before tolerating a loss.
  const growBy = Math.min(room, candidates.length - (candidates.length % 2))
  if (growBy >= 2) {
    const promoted = candidates.slice(0, growBy)
    return change(input, 'grow', {
      promote: promoted,
      note: `epoch ${epoch}: ${listNames(promoted)} promoted to control plane (${controlPlanes.length} → ${controlPlanes.length + promoted.length} of ${target} wanted); they join one at a time`
    })
  }
  return null
}

/** The committed plan of the next epoch: the change, with the server token sealed to the new control planes. */
export function planFromChange (previous: Plan, change: RoleChange, secrets: PlanSecrets): Plan {
  const plan: Plan = {
    ...withoutLists(previous),
    epoch: previous.epoch + 1,
    controlPlanes: [...change.controlPlanes],
    workers: [...change.workers],
    ...(change.replaced.length > 0 && { replaced: [...change.replaced] }),
    ...(change.retired.length > 0 && { retired: [...change.retired] }),
    secrets,
    notes: [...change.notes]
  }
  assert(plan.init === previous.init, 'S1: the initialiser never changes')
  assert(plan.secrets.serverTokenHash === previous.secrets.serverTokenHash, 'S3: the server token never changes')
  assert(plan.secrets.agentTokenHash === previous.secrets.agentTokenHash, 'S3: the agent token never changes')
  assert(planProblems(plan).length === 0, 'the next plan is sound')
  return plan
}

/**
 * Live members that may take a control-plane role, best first: not already one, not retired,
 * not leaving, not a replaced server (its etcd data is stale), not asking to stay a worker.
 */
function controlPlaneCandidates (input: ReconfigureInput): NodeId[] {
  const { previous, leaving } = input
  const excluded = new Set([...previous.controlPlanes, ...(previous.retired ?? []), ...(previous.replaced ?? []), ...leaving])
  return rankForControlPlane(input.live.filter((member) => !excluded.has(member.nodeId) && !requestsWorker(member)))
    .map((member) => member.nodeId)
}

interface ChangeSpec {
  /** [leaving server, its successor]: the successor takes the last place in join order. */
  readonly swap?: readonly [NodeId, NodeId]
  readonly promote?: readonly NodeId[]
  readonly replace?: readonly NodeId[]
  readonly retire?: readonly NodeId[]
  readonly note: string
}

function change (input: ReconfigureInput, kind: RoleChangeKind, spec: ChangeSpec): RoleChange {
  const { previous } = input
  const gone = spec.swap?.[0]
  const added = [...(spec.swap === undefined ? [] : [spec.swap[1]]), ...(spec.promote ?? [])]
  const retiredNow = spec.retire ?? []
  const replacedNow = spec.replace ?? []
  const controlPlanes = [...previous.controlPlanes.filter((id) => id !== gone), ...added]
  const leavesWorkers = new Set([...added, ...retiredNow])
  const workers = previous.workers.filter((id) => !leavesWorkers.has(id))
  const replaced = [...(previous.replaced ?? []).filter((id) => !retiredNow.includes(id)), ...replacedNow]
  const retired = [...(previous.retired ?? []), ...retiredNow]
  assert(controlPlanes.length % 2 === 1, 'the voting servers stay odd at every epoch')
  assert(gone === undefined || added.length === 1, 'a server is removed only in the epoch that adds its replacement')
  return { kind, controlPlanes, workers, replaced, retired, notes: [spec.note] }
}

function withoutLists (plan: Plan): Plan {
  const { replaced: _replaced, retired: _retired, ...rest } = plan
  return rest
}

function shortId (id: NodeId): string {
  return `…${id.slice(-8)}`
}

function listNames (ids: readonly NodeId[]): string {
  return ids.map(shortId).join(', ')
}
