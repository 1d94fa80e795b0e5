import { clusterOriginOf, initialiserOf, joinTargets } from '@p2p-bootstrap/core'
import type { NodeId, Plan } from '@p2p-bootstrap/core'

/** What this node should do about k3s now, given what the fleet has published. */
export type JoinStep =
  /** The one node that runs `cluster-init` (S1): it starts at once, joining nobody. */
  | { readonly kind: 'init' }
  /** Not yet: `waitingFor` says what, in one sentence for `status`. */
  | { readonly kind: 'wait', readonly waitingFor: string }
  /** Join the cluster through `server` (a Ready server's node-ip, or the VIP once it answers). */
  | { readonly kind: 'join', readonly server: string, readonly viaVip: boolean }

export interface JoinInput {
  readonly plan: Plan
  readonly nodeId: NodeId
  /** Servers whose agents published that their k3s API answers `/readyz` for this plan's epoch. */
  readonly readyServers: ReadonlySet<NodeId>
  /** The `node-ip` each node published, if it did. */
  readonly nodeIpOf: (nodeId: NodeId) => string | undefined
  /** True once the init server published the CA hash (joiners then use the secure token form). */
  readonly caHashKnown: boolean
  /** True once something answers on the VIP's API port. */
  readonly vipAnswers: boolean
  /**
   * Former servers (replaced while dead, or retired and stopped) not yet deleted from Kubernetes.
   * Their etcd members still count: a server joining now would raise the quorum of a cluster that
   * has fewer live members than it counts, so servers wait for these to be removed first.
   */
  readonly awaitingRemoval?: readonly NodeId[]
  /**
   * Former servers this plan retired (they handed their role over) whose k3s still runs: they stay
   * until the plan's control planes are Ready, so a server with nobody Ready before it (the
   * successor of a single server that leaves) joins through one of them.
   */
  readonly retiringServers?: readonly NodeId[]
}

/**
 * Join sequencing (DESIGN §7): servers join one at a time, each after the one before it in the
 * plan's order is Ready; workers join once a server is Ready; joiners wait for the CA hash so
 * that they can check whom they join. Servers join a Ready server's node-ip; workers do too until
 * the VIP answers (it only does once an API server is up and kube-vip runs), then the VIP.
 *
 * Whom a node may join through is the core's join graph (planner/join-graph.ts): the initialiser,
 * then the servers before it in join order, so no two servers ever wait for each other (the
 * simulator checks that graph for every committed plan, J1). The initialiser is the init node
 * while it is a control plane, or the node a later epoch named in its place when the init node
 * was replaced before any server was Ready (`reinit`). A server first in the order with no
 * initialiser (the init node was replaced after the cluster formed) joins any Ready server.
 */
export function nextJoinStep (input: JoinInput): JoinStep {
  const { plan, nodeId, readyServers } = input
  const index = plan.controlPlanes.indexOf(nodeId)
  const initialiser = initialiserOf(plan)
  if (initialiser === nodeId) return { kind: 'init' }
  const others = plan.controlPlanes.filter(id => id !== nodeId)
  const before = index > 0 ? plan.controlPlanes[index - 1] : undefined
  // Only servers join through a retiring one: a worker would be left naming a server that stops.
  const retiring = index >= 0 ? (input.retiringServers ?? []).filter(id => id !== nodeId) : []
  const anyReady = others.some(id => readyServers.has(id)) || retiring.length > 0
  if (before !== undefined ? !readyServers.has(before) : !anyReady) {
    return { kind: 'wait', waitingFor: waitingForServer(plan, index, before, initialiser) }
  }
  if (!input.caHashKnown) {
    return { kind: 'wait', waitingFor: `the CA hash from ${short(clusterOriginOf(plan))}, so the join token can pin the cluster's CA` }
  }
  const awaiting = input.awaitingRemoval ?? []
  if (index >= 0 && awaiting.length > 0) {
    return {
      kind: 'wait',
      waitingFor: `a Ready server to delete ${awaiting.map(short).join(', ')} from Kubernetes: a server that is gone still counts in etcd's quorum, which a new server would raise`
    }
  }
  // Workers may use the VIP once it answers. A server joins a Ready server's node-ip: k3s learns
  // the etcd peer URLs from that server (/db/info) whatever address it joins, so the VIP would do
  // once it answers, but a Ready server answers from the start and is known Ready.
  if (index < 0 && plan.vip !== undefined && input.vipAnswers) return { kind: 'join', server: plan.vip, viaVip: true }
  // The initialiser is the most likely to be Ready longest; a gone one is in no list of Ready servers.
  const graph = joinTargets(plan, nodeId)
  const fallback = graph.length === 0 ? others : [] // first in order with no initialiser: any Ready server
  const candidates = [...[...graph, ...fallback].filter(id => readyServers.has(id)), ...retiring]
  for (const candidate of candidates) {
    const ip = input.nodeIpOf(candidate)
    if (ip !== undefined) return { kind: 'join', server: ip, viaVip: false }
  }
  return { kind: 'wait', waitingFor: 'a Ready server to publish its node-ip' }
}

function waitingForServer (plan: Plan, index: number, before: NodeId | undefined, initialiser: NodeId | null): string {
  if (before !== undefined) return `control plane ${index} (${short(before)}) to be Ready: servers join one at a time`
  if (index >= 0) return 'a control plane to be Ready: this server is first in the join order and joins a running server'
  if (initialiser !== null) return `the first server (${short(initialiser)}) to be Ready: workers join a running cluster`
  return 'a control plane to be Ready: workers join a running cluster'
}

function short (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}
