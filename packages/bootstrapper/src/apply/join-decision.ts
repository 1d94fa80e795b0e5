import { clusterOriginOf, initialiserOf, joinTargets } from '@p2p-bootstrap/core'
import type { NodeId, Plan, Role } from '@p2p-bootstrap/core'
import { BootstrapperError } from '../errors.js'
import { hasReached } from '../published-status.js'
import { CA_HASH_ENTRY_NAME, CLUSTER_HASH_ENTRY_NAME, assumesEarlierSteps, short } from './apply-context.js'
import type { ApplierInit, ApplyContext, JoinDecision } from './apply-context.js'
import { nextJoinStep } from './join-sequence.js'
import { answersTcp } from './k3s-facts.js'
import { retiringServers, serverRemovalsPending } from './node-removal.js'
import type { RemovalView } from './node-removal.js'

/**
 * How this node joins the cluster, from what the fleet published: the join sequence's decision
 * (join-sequence.ts, on the core's join graph) with the Ready servers, the CA hash and the VIP as
 * this node sees them; the join target of a node that already runs, kept or replaced when it left
 * the control plane; and the check that this node's cluster-wide settings are the cluster's.
 */

const HASH_PATTERN = /^[0-9a-f]{64}$/
const API_PORT = 6443
const VIP_PROBE_TIMEOUT_MS = 1_000

/** Who is alive, and what was published about removals, as node-removal.ts reads it. */
export function removalView (init: ApplierInit): RemovalView {
  const { ledger, nodeId } = init
  return { lookup: ledger.lookup, alive: id => id === nodeId || (ledger.alive?.(id) ?? true) }
}

/** How this node joins now, or what it waits for. A dry run assumes every earlier step succeeded. */
export async function decideJoin (ctx: ApplyContext, plan: Plan, role: Role): Promise<{ join: JoinDecision, caHash?: string } | { waitingFor: string }> {
  const { nodeId, ledger } = ctx.init
  const nodeIpOf = (id: NodeId): string | undefined => ledger.factsOf(id)?.nodeIp
  if (assumesEarlierSteps(ctx.init)) {
    if (initialiserOf(plan) === nodeId) return { join: { kind: 'init' } }
    // The first node of the join graph: the initialiser, else the first server before this one.
    // Never a server after it, which may name this one: two servers joining each other (J1).
    const target = joinTargets(plan, nodeId)[0]
    if (target === undefined) return { waitingFor: 'a server before this one in the join order, or an initialiser: the plan names neither (every node is assumed Ready in this mode)' }
    const server = nodeIpOf(target)
    if (server === undefined) return { waitingFor: `the control plane ${short(target)} to publish its node-ip` }
    return { join: { kind: 'join', server, viaVip: false } }
  }
  const readyServers = new Set(plan.controlPlanes.filter(id => hasReached(ledger.statusOf(id), 'ready', plan.epoch)))
  const caHash = publishedCaHash(ctx.init, plan)
  const view = removalView(ctx.init)
  const input = {
    plan,
    nodeId,
    readyServers,
    nodeIpOf,
    caHashKnown: caHash !== undefined,
    vipAnswers: false,
    awaitingRemoval: role === 'control-plane' ? serverRemovalsPending(plan, view) : [],
    retiringServers: retiringServers(plan, view)
  }
  let step = nextJoinStep(input)
  if (step.kind === 'join' && role === 'worker' && plan.vip !== undefined &&
      await answersTcp(plan.vip, API_PORT, VIP_PROBE_TIMEOUT_MS, ctx.signal)) {
    step = nextJoinStep({ ...input, vipAnswers: true })
  }
  if (step.kind === 'wait') return { waitingFor: step.waitingFor }
  return step.kind === 'init' || caHash === undefined ? { join: step } : { join: step, caHash }
}

/**
 * The join target of a running node, or a live server of the plan if the one it named left. With
 * no other server to name (the successor of a single server that left), the old one stays: it
 * only matters at k3s' next start, and a server with etcd data ignores it then.
 */
export async function currentJoin (ctx: ApplyContext, plan: Plan, role: Role, join: JoinDecision): Promise<JoinDecision> {
  if (join.kind === 'init' || joinTargetValid(ctx.init, plan, role, join)) return join
  const { nodeId, ledger } = ctx.init
  if (role === 'worker' && plan.vip !== undefined && await answersTcp(plan.vip, API_PORT, VIP_PROBE_TIMEOUT_MS, ctx.signal)) {
    return { kind: 'join', server: plan.vip, viaVip: true }
  }
  const others = plan.controlPlanes.filter(id => id !== nodeId)
  const ready = others.filter(id => hasReached(ledger.statusOf(id), 'ready', plan.epoch))
  for (const id of [...ready, ...others]) {
    const server = ledger.factsOf(id)?.nodeIp
    if (server !== undefined) return { kind: 'join', server, viaVip: false }
  }
  return join
}

function joinTargetValid (init: ApplierInit, plan: Plan, role: Role, join: Extract<JoinDecision, { kind: 'join' }>): boolean {
  if (join.viaVip) return role === 'worker' && plan.vip === join.server
  const { nodeId, ledger } = init
  return plan.controlPlanes.some(id => id !== nodeId && ledger.factsOf(id)?.nodeIp === join.server)
}

/** The CA hash joiners pin: the initialiser's, or (after it was replaced before the cluster formed) its successor's. */
export function publishedCaHash (init: ApplierInit, plan: Plan): string | undefined {
  return hashEntry(init.ledger.lookup(`node/${clusterOriginOf(plan)}/${CA_HASH_ENTRY_NAME}`))
}

/**
 * The init node's cluster-wide settings are the cluster's: a node whose critical keys, VIP or
 * kube-vip settings differ writes nothing (k3s would refuse the join much later, and less clearly).
 */
export function clusterSettingsAgree (ctx: ApplyContext, plan: Plan): boolean {
  const origin = clusterOriginOf(plan)
  if (origin === ctx.init.nodeId) return true
  const theirs = hashEntry(ctx.init.ledger.lookup(`node/${origin}/${CLUSTER_HASH_ENTRY_NAME}`))
  if (theirs === undefined) {
    ctx.phase('committed', `the init node ${short(origin)} to publish its cluster-wide k3s settings`, plan)
    return false
  }
  if (theirs === ctx.init.blocks.clusterHash) return true
  ctx.problem(new BootstrapperError('BOOTSTRAP_CONFIG_MISMATCH',
    `this node's cluster-wide k3s settings (the VIP, kube-vip image or interface, or a critical k3s key such as cluster-cidr, disable or flannel-backend) differ from the init node ${short(origin)}'s: ` +
    'nothing is written; give every node the same cluster-wide settings and restart this one'))
  return false
}

function hashEntry (bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined || bytes.byteLength !== 64) return undefined
  const text = new TextDecoder().decode(bytes)
  return HASH_PATTERN.test(text) ? text : undefined
}
