import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { PlanSecrets } from '../types.js'
import type { ClusterShape, Plan } from '../types.js'
import { initialiserOf } from './join-graph.js'
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
  /**
   * The nodes that published that their k3s server was Ready (`node/<id>/k3s-server`): the
   * cluster lives in the etcd of those still serving. A dead initialiser is replaced together
   * with a new one (`Plan.reinit`) when no control plane left in the new epoch is among them: none
   * was Ready yet, or the initialiser was Ready alone and took the cluster's only etcd member
   * with it. Undefined (not known): nothing is initialised again.
   */
  readonly readyServers?: ReadonlySet<NodeId>
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
  /** The control plane that initialises in place of a replaced initialiser (see `Plan.reinit`). */
  readonly reinit?: NodeId
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
    const replaced = change(input, 'replace', {
      swap: [deadServer, successor],
      replace: [deadServer],
      note: `epoch ${epoch}: control plane ${shortId(deadServer)} dead for ${deadSeconds} s (fail-over delay ${Math.round(input.failoverDelayMs / 1000)} s); ${shortId(successor)} replaces it`
    })
    const holdsCluster = input.readyServers === undefined || replaced.controlPlanes.some((id) => input.readyServers?.has(id) === true)
    return deadServer === initialiserOf(previous) && !holdsCluster ? withReinit(replaced, liveIds, epoch) : replaced
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

/**
 * The initialiser died and no control plane left was ever Ready: nobody live holds the cluster
 * (none formed, or it lived only in the dead initialiser's single etcd member, when it was Ready
 * alone), and without a new initialiser the servers left would wait for each other for ever
 * (every one of them joins through a Ready server). The first live control plane of the new epoch
 * initialises in its place. This is safe, one cluster and never two (S1), only because the
 * replaced node's k3s never starts again: the agent's start gate keeps it stopped at boot and on
 * systemd's own restarts, a running one is stopped once the agent learns it was replaced, and a
 * replaced server never starts as a server (bootstrapper apply/start-gate.ts, applier.ts
 * leaveStaleServer). Were it to start, a replaced initialiser that had been Ready would bring its
 * old cluster back beside the new one. Had a control plane left been Ready, it would hold the
 * cluster and nothing is initialised again.
 */
function withReinit (roles: RoleChange, liveIds: ReadonlySet<NodeId>, epoch: number): RoleChange {
  const reinit = roles.controlPlanes.find((id) => liveIds.has(id))
  assert(reinit !== undefined, 'the successor of a replaced server is live')
  return {
    ...roles,
    reinit,
    notes: [...roles.notes, `epoch ${epoch}: no server was Ready yet, so ${shortId(reinit)} initialises the cluster in place of the replaced init node`]
  }
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
    ...((change.reinit ?? previous.reinit) !== undefined && { reinit: change.reinit ?? previous.reinit }),
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
  const { replaced: _replaced, retired: _retired, reinit: _reinit, ...rest } = plan
  return rest
}

function shortId (id: NodeId): string {
  return `…${id.slice(-8)}`
}

function listNames (ids: readonly NodeId[]): string {
  return ids.map(shortId).join(', ')
}
