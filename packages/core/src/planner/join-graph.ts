import type { NodeId } from '../identity.js'
import type { Plan } from '../types.js'

/**
 * The join graph of a plan: who starts the cluster (`cluster-init`) and through whom every other
 * node joins it (DESIGN §7). Pure, so the k3s applier decides with it and the simulator checks
 * every committed plan against it.
 *
 * The graph has one root, the initialiser, or none when the cluster formed and lives on in its
 * running servers. A server joins through the initialiser or a server before it in join order
 * (servers join one at a time, each after the one before it is Ready), so no two servers ever
 * wait for each other. A worker joins through any server that is Ready.
 */

/**
 * The node that runs `cluster-init` under `plan`, or null when nobody does: the init node while it
 * is a control plane; after a later epoch replaced it before the cluster formed, the node that
 * plan named to initialise in its place (`reinit`) while it is a control plane; else nobody (the
 * cluster formed, and its running servers hold it).
 */
export function initialiserOf (plan: Plan): NodeId | null {
  if (plan.reinit !== undefined) return plan.controlPlanes.includes(plan.reinit) ? plan.reinit : null
  return plan.controlPlanes.includes(plan.init) ? plan.init : null
}

/**
 * The node whose cluster this is: its CA hash is the one joiners pin, and its cluster-wide k3s
 * settings the ones every node must share. The init node, or the node that initialised in its place.
 */
export function clusterOriginOf (plan: Plan): NodeId {
  return plan.reinit ?? plan.init
}

/**
 * The nodes `nodeId` may join through under `plan`, best first (the initialiser, then the servers
 * before it in join order, earliest first: the longest running); it joins the first of them that is Ready. Empty for
 * the initialiser, and for a server with nobody before it and no initialiser: one that already
 * runs (the cluster formed), or one no plan should leave like that (`joinGraphProblems`).
 */
export function joinTargets (plan: Plan, nodeId: NodeId): NodeId[] {
  const initialiser = initialiserOf(plan)
  if (initialiser === nodeId) return []
  const index = plan.controlPlanes.indexOf(nodeId)
  const earlier = index >= 0 ? plan.controlPlanes.slice(0, index) : [...plan.controlPlanes]
  const targets = initialiser === null ? earlier : [initialiser, ...earlier.filter(id => id !== initialiser)]
  return targets
}

/**
 * What keeps `plan`'s join graph from leading to a running cluster, one sentence each (empty when
 * it does). `everReady`: servers known to have run k3s Ready at some point (their data may hold
 * the cluster). Checked: there is a root (an initialiser, a control plane that was Ready, or the
 * init node that handed its role over and runs until its successors are Ready); the
 * initialiser is named only as the rules allow; every server but a root has a node to join
 * through; and following join targets never comes back to where it started.
 */
export function joinGraphProblems (plan: Plan, everReady: ReadonlySet<NodeId>): string[] {
  const problems: string[] = []
  const initialiser = initialiserOf(plan)
  // A server that handed its role over (`leave`) runs until the control planes of that epoch are
  // Ready, and they join through it (the k3s applier's retiring servers): it carries the cluster.
  const handedOver = (plan.retired ?? []).includes(clusterOriginOf(plan))
  const formed = handedOver || plan.controlPlanes.some(id => everReady.has(id))
  if (initialiser === null && !formed) {
    problems.push(`epoch ${plan.epoch}: nobody runs cluster-init (the init node ${plan.init} is no control plane) and no control plane was ever Ready, so the servers would wait for each other for ever`)
  }
  if (plan.reinit !== undefined && plan.controlPlanes.includes(plan.init)) {
    problems.push(`epoch ${plan.epoch}: ${plan.reinit} is named to initialise in place of the init node ${plan.init}, which is still a control plane (two initialisers, S1)`)
  }
  for (const server of plan.controlPlanes) {
    if (server === initialiser || everReady.has(server) || handedOver) continue
    if (joinTargets(plan, server).length === 0) {
      problems.push(`epoch ${plan.epoch}: server ${server} has nobody to join through: it is first in join order, and no initialiser or Ready server comes before it`)
    }
  }
  const circle = findCircle(plan)
  if (circle !== null) problems.push(`epoch ${plan.epoch}: join targets form a circle: ${circle.join(' → ')}`)
  return problems
}

/** A circle of "joins through its first target" among the control planes, or null. */
function findCircle (plan: Plan): NodeId[] | null {
  const next = new Map<NodeId, NodeId>()
  for (const server of plan.controlPlanes) {
    const [target] = joinTargets(plan, server)
    if (target !== undefined) next.set(server, target)
  }
  for (const start of plan.controlPlanes) {
    const path: NodeId[] = [start]
    let current = next.get(start)
    // A walk longer than the control planes has come back somewhere.
    while (current !== undefined && path.length <= plan.controlPlanes.length) {
      if (current === start) return [...path, start]
      path.push(current)
      current = next.get(current)
    }
  }
  return null
}
