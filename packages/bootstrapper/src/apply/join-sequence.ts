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
  /** Servers whose agents published that their k3s API answers `/readyz`. */
  readonly readyServers: ReadonlySet<NodeId>
  /** The `node-ip` each node published, if it did. */
  readonly nodeIpOf: (nodeId: NodeId) => string | undefined
  /** True once the init server published the CA hash (joiners then use the secure token form). */
  readonly caHashKnown: boolean
  /** True once something answers on the VIP's API port. */
  readonly vipAnswers: boolean
}

/**
 * Join sequencing (DESIGN §7): servers join one at a time, each after the one before it in the
 * plan's order is Ready; workers join once the first server is Ready; joiners wait for the CA
 * hash so that they can check whom they join. Servers join a Ready server's node-ip; workers do
 * too until the VIP answers (it only does once an API server is up and kube-vip runs), then the VIP.
 */
export function nextJoinStep (input: JoinInput): JoinStep {
  const { plan, nodeId, readyServers } = input
  if (plan.init === nodeId) return { kind: 'init' }
  const index = plan.controlPlanes.indexOf(nodeId)
  const before = index > 0 ? plan.controlPlanes[index - 1] : plan.init
  if (before === undefined || !readyServers.has(before)) {
    const who = index > 0 ? `control plane ${index} (${short(before ?? '?')})` : `the first server (${short(plan.init)})`
    return { kind: 'wait', waitingFor: `${who} to be Ready: ${index > 0 ? 'servers join one at a time' : 'workers join a running cluster'}` }
  }
  if (!input.caHashKnown) {
    return { kind: 'wait', waitingFor: `the CA hash from ${short(plan.init)}, so the join token can pin the cluster's CA` }
  }
  // Workers may use the VIP once it answers; a server joins a Ready server directly (k3s needs
  // the joining server to reach that server's etcd peer, which the VIP does not front).
  if (index < 0 && plan.vip !== undefined && input.vipAnswers) return { kind: 'join', server: plan.vip, viaVip: true }
  // The server just before us is Ready; the init server is the most likely to be Ready longest.
  const candidates = [plan.init, ...plan.controlPlanes].filter(id => readyServers.has(id))
  for (const candidate of candidates) {
    const ip = input.nodeIpOf(candidate)
    if (ip !== undefined) return { kind: 'join', server: ip, viaVip: false }
  }
  return { kind: 'wait', waitingFor: 'a Ready server to publish its node-ip' }
}

function short (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}
