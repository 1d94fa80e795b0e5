import { initialiserOf, isClusterToken, roleOf } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, Plan, Role } from '@p2p-bootstrap/core'
import { RenderError } from './errors.js'
import type { FactsByNode, KubeVipSettings, RenderInput } from './input.js'
import { cidrContains, isReservedInSubnet, nonHostKind, parseCidr, parseIp, sameIp } from './ip.js'
import type { IpAddress } from './ip.js'
import { IMAGE_CHARS_MAX, INTERFACE_CHARS_MAX } from './limits.js'
import { nodeNameFor } from './node-name.js'
import type { ClusterSettings } from './settings.js'
import { KUBE_VIP_IMAGE_DEFAULT } from './versions.js'

/**
 * Checks of a render input against the world: the plan, the node facts, the network, the secrets
 * and the join address. Each throws the `RenderError` of the first problem, naming the node and
 * the fix; none of them renders anything.
 */

/** What the checks established about the node being rendered. */
export interface CheckedNode {
  readonly role: Role
  readonly init: boolean
  readonly nodeIp: string
  readonly nodeName: string
  /** The address for `server:`; undefined on the init node. */
  readonly joinHost: string | undefined
  readonly vipInterface: string
  readonly image: string
}

const CA_HASH_PATTERN = /^[0-9a-f]{64}$/
const INTERFACE_PATTERN = /^[A-Za-z0-9_.@-]+$/

export function checkNode (input: RenderInput, settings: ClusterSettings): CheckedNode {
  const { plan, nodeId } = input
  const role = checkPlan(plan, nodeId)
  // The initialiser runs cluster-init only while it is a control plane: replaced and back, it is a
  // worker. After the init node was replaced before the cluster formed, the node named in its place.
  const init = initialiserOf(plan) === nodeId
  const nodeIps = checkNodeIps(plan, nodeId, input.facts, input.goneNodes)
  const ownIp = nodeIps.get(nodeId)
  if (ownIp === undefined) throw nodeIpUnknown(nodeId)
  if (input.localOnly !== true) checkHostAddress(nodeId, ownIp)
  checkNodeIpFamily(nodeId, ownIp, settings)
  const vip = checkVip(input, role, nodeIps)
  checkInterface(input.network.interface, `node ${nodeId}: network.interface`)
  const vipInterface = input.kubeVip?.interface ?? input.network.interface
  checkInterface(vipInterface, `node ${nodeId}: kubeVip.interface`)
  checkSecrets(input, role)
  checkCaHash(input)
  const joinHost = init ? undefined : checkJoin(input, role, ownIp, vip, nodeIps)
  const nodeName = checkNodeName(plan, nodeId, input.facts)
  return { role, init, nodeIp: ownIp.text, nodeName, joinHost, vipInterface, image: checkKubeVipImage(input.kubeVip) }
}

function checkPlan (plan: Plan, nodeId: NodeId): Role {
  const count = plan.controlPlanes.length
  if (count % 2 !== 1) {
    throw new RenderError('K3S_EVEN_CONTROL_PLANES', `the plan (epoch ${plan.epoch}) has ${count} control planes: etcd needs an odd count (1, 3, 5) to keep a majority; commit a plan with an odd count`)
  }
  // S1: the init node never changes; after epoch 1 it may have been replaced (dead) or retired (left).
  const initGone = plan.epoch > 1 && ((plan.replaced?.includes(plan.init) ?? false) || (plan.retired?.includes(plan.init) ?? false))
  if (!plan.controlPlanes.includes(plan.init) && !initGone) {
    throw new RenderError('K3S_BAD_PLAN', `the plan's init node ${plan.init} is not one of its control planes: commit a plan whose init node is a control plane, or (after epoch 1) one that replaced or retired it (S1)`)
  }
  const role = roleOf(plan, nodeId)
  if (role === null) throw new RenderError('K3S_BAD_PLAN', 'there is no plan to render')
  return role
}

interface NodeIp extends IpAddress {
  readonly text: string
}

/**
 * The node-ip of every node the plan lists, of this node, and of any other node whose facts carry
 * one: all are needed to be sure the VIP is nobody's node-ip.
 */
function checkNodeIps (plan: Plan, nodeId: NodeId, facts: FactsByNode, gone: ReadonlySet<NodeId> | undefined): Map<NodeId, NodeIp> {
  const listed = [...plan.controlPlanes, ...plan.workers].filter(id => gone?.has(id) !== true || factsOf(facts, id) !== undefined)
  const required = new Set([...listed, nodeId])
  const ips = new Map<NodeId, NodeIp>()
  for (const id of [...new Set([...required, ...factIds(facts)])].sort()) {
    const text = factsOf(facts, id)?.nodeIp
    if (text === undefined) {
      if (required.has(id)) throw nodeIpUnknown(id)
      continue
    }
    const ip = parseIp(text)
    // A node outside the plan with a malformed fact cannot hold the VIP, and must not stop the others.
    if (ip === undefined && !required.has(id)) continue
    if (ip === undefined) {
      throw new RenderError('K3S_BAD_ADDRESS', `node ${id} published node-ip ${JSON.stringify(text.slice(0, 64))}, which is not an IPv4 or IPv6 address: fix the node's address in its p2p-bootstrap config`)
    }
    ips.set(id, { ...ip, text })
  }
  return ips
}

function checkVip (input: RenderInput, role: Role, nodeIps: ReadonlyMap<NodeId, NodeIp>): IpAddress | undefined {
  const text = input.plan.vip
  if (text === undefined) return undefined
  const vip = parseIp(text)
  if (vip === undefined) {
    throw new RenderError('K3S_BAD_ADDRESS', `the plan's VIP ${JSON.stringify(text.slice(0, 64))} is not an IPv4 or IPv6 address`)
  }
  for (const [id, ip] of nodeIps) {
    if (sameIp(ip, vip)) {
      throw new RenderError('K3S_VIP_IS_NODE_IP', `the VIP ${text} is the node-ip of node ${id}: kube-vip would move that node's own address between servers; pick a free address for the VIP (or give the node another address)`)
    }
  }
  if (role === 'control-plane') checkVipInSubnet(input, text, vip)
  return vip
}

function checkVipInSubnet (input: RenderInput, text: string, vip: IpAddress): void {
  const where = `node ${input.nodeId}`
  const subnetText = input.network.subnet
  if (subnetText === undefined) {
    throw new RenderError('K3S_NETWORK_UNKNOWN', `${where}: network.subnet is not given, so the VIP ${text} cannot be checked: pass the CIDR of ${input.network.interface} (e.g. 192.168.1.10/24)`)
  }
  const subnets = subnetText.split(',').map((part) => {
    const subnet = parseCidr(part)
    if (subnet === undefined) {
      throw new RenderError('K3S_BAD_ADDRESS', `${where}: network.subnet holds ${JSON.stringify(part.slice(0, 64))}, not a CIDR such as 192.168.1.0/24`)
    }
    return subnet
  })
  const subnet = subnets.find((candidate) => cidrContains(candidate, vip))
  if (subnet === undefined) {
    throw new RenderError('K3S_VIP_OUTSIDE_SUBNET', `${where}: the VIP ${text} is outside ${subnetText}, the subnet of ${input.network.interface}: kube-vip announces the VIP by ARP/NDP on that link only; pick a free address inside it`)
  }
  if (isReservedInSubnet(subnet, vip)) {
    throw new RenderError('K3S_VIP_OUTSIDE_SUBNET', `${where}: the VIP ${text} is the network or broadcast address of ${subnetText}, not a host address: pick a free host address inside it`)
  }
}

/**
 * A node-ip must be an address other hosts reach this node at: the kubelet refuses a loopback one
 * (Kubernetes 1.33 as k3s v1.33 ships it, validateNodeIP in pkg/kubelet/kubelet_node_status.go:
 * "nodeIP can't be loopback address", likewise multicast, link-local unicast and all-zeros), and none of them makes a cluster of several machines. Only output
 * that is merely looked at (`localOnly`: a dry run) may carry one.
 */
function checkHostAddress (nodeId: NodeId, nodeIp: NodeIp): void {
  const kind = nonHostKind(nodeIp)
  if (kind === undefined) return
  throw new RenderError('K3S_BAD_NODE_IP', `node ${nodeId}: node-ip ${nodeIp.text} is a ${kind} address, which the kubelet refuses and other hosts cannot reach: set node.ip (--node-ip) to an address of this host on the cluster's network, or node.interface (--interface) to the interface that holds one (only a dry run may use a ${kind} address)`)
}

/** k3s gives a node pod addresses only in the families of its node-ip. */
function checkNodeIpFamily (nodeId: NodeId, nodeIp: NodeIp, settings: ClusterSettings): void {
  const families = settings.clusterCidr.split(',').map((part) => parseCidr(part)?.family)
  if (!families.includes(nodeIp.family)) {
    throw new RenderError('K3S_BAD_SETTING', `node ${nodeId}: node-ip ${nodeIp.text} is IPv${nodeIp.family} but cluster-cidr ${settings.clusterCidr} has no IPv${nodeIp.family} network: add one to cluster.clusterCidr and cluster.serviceCidr (dual-stack), or give the node an IPv${nodeIp.family === 4 ? 6 : 4} node-ip`)
  }
}

function checkInterface (name: string, what: string): void {
  if (name.length === 0) {
    throw new RenderError('K3S_NETWORK_UNKNOWN', `${what} is empty: pass the name of the interface that carries the node-ip (e.g. eth0)`)
  }
  if (name.length > INTERFACE_CHARS_MAX || !INTERFACE_PATTERN.test(name)) {
    throw new RenderError('K3S_BAD_SETTING', `${what} ${JSON.stringify(name.slice(0, 32))} is not a Linux interface name (at most ${INTERFACE_CHARS_MAX} letters, digits, '-', '_', '.', '@')`)
  }
}

/** The kube-vip image to render; throws `K3S_BAD_SETTING` unless it is a pinned reference. */
/** True for a pinned image reference: a version tag other than `latest`, or a sha256 digest. */
export function isPinnedImage (image: string): boolean {
  const digest = /@sha256:[0-9a-f]{64}$/.test(image)
  const tag = /:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(image)?.[1]
  const wellFormed = image.length <= IMAGE_CHARS_MAX && /^[a-z0-9][A-Za-z0-9._/:@-]*$/.test(image)
  return wellFormed && (digest || (tag !== undefined && tag !== 'latest'))
}

export function checkKubeVipImage (settings: KubeVipSettings | undefined): string {
  const image = settings?.image ?? KUBE_VIP_IMAGE_DEFAULT
  if (!isPinnedImage(image)) {
    throw new RenderError('K3S_BAD_SETTING', `kubeVip.image ${JSON.stringify(image.slice(0, 128))} is not a pinned image reference: give a version tag (not latest) or a sha256 digest, e.g. ${KUBE_VIP_IMAGE_DEFAULT}`)
  }
  return image
}

function checkSecrets (input: RenderInput, role: Role): void {
  const { serverToken, agentToken } = input.secrets
  const where = `node ${input.nodeId}`
  if (!isClusterToken(agentToken)) {
    throw new RenderError('K3S_BAD_TOKEN', `${where}: the agent token is not a cluster token (64 lower-case hex characters): pass the token opened with openAgentToken`)
  }
  if (role === 'worker') {
    if (serverToken !== undefined) {
      throw new RenderError('K3S_SECRET_MISPLACED', `${where} is a worker but was given the server token: workers hold only the agent token (DESIGN §7); do not open the server token on workers`)
    }
    return
  }
  if (serverToken === undefined) {
    throw new RenderError('K3S_SECRET_MISSING', `${where} is a control plane but has no server token: open it with openServerToken (it is sealed to this node in the plan)`)
  }
  if (!isClusterToken(serverToken) || serverToken === agentToken) {
    throw new RenderError('K3S_BAD_TOKEN', `${where}: the server token is not a cluster token distinct from the agent token: pass the token opened with openServerToken`)
  }
}

function checkCaHash (input: RenderInput): void {
  if (input.caHash !== undefined && !CA_HASH_PATTERN.test(input.caHash)) {
    throw new RenderError('K3S_BAD_CA_HASH', `node ${input.nodeId}: the CA hash is not 64 lower-case hex characters (the SHA-256 of the server CA certificate as k3s stores it)`)
  }
}

/** The host for `server:`: a Ready control plane's node-ip, or the VIP for a worker once it answers. */
function checkJoin (input: RenderInput, role: Role, ownIp: NodeIp, vip: IpAddress | undefined, nodeIps: ReadonlyMap<NodeId, NodeIp>): string {
  const where = `node ${input.nodeId}`
  if (role === 'worker' && vip !== undefined && input.vipAnswers === true && input.plan.vip !== undefined) {
    return input.plan.vip
  }
  const text = input.joinAddress
  if (text === undefined) {
    const how = role === 'worker' ? 'the VIP does not answer yet and no Ready control plane was given' : 'no Ready control plane was given'
    throw new RenderError('K3S_JOIN_ADDRESS_MISSING', `${where} joins the cluster but ${how}: wait until a control plane is Ready and pass its node-ip as joinAddress`)
  }
  const address = parseIp(text)
  if (address === undefined) {
    throw new RenderError('K3S_BAD_ADDRESS', `${where}: joinAddress ${JSON.stringify(text.slice(0, 64))} is not an IPv4 or IPv6 address`)
  }
  if (sameIp(address, ownIp)) {
    throw new RenderError('K3S_BAD_JOIN_ADDRESS', `${where}: joinAddress ${text} is this node's own node-ip: pass the node-ip of another, Ready control plane`)
  }
  // A server the plan retired still runs until its successors are Ready: a successor may join through it.
  const servers = [...input.plan.controlPlanes, ...(input.plan.retired ?? [])]
  const isServer = servers.some((id) => id !== input.nodeId && sameIpOf(nodeIps.get(id), address))
  if (!isServer) {
    const vipNote = vip !== undefined && sameIp(address, vip) ? ' (the VIP only answers once kube-vip runs; servers join through a Ready server\'s node-ip)' : ''
    throw new RenderError('K3S_BAD_JOIN_ADDRESS', `${where}: joinAddress ${text} is not the node-ip of another control plane of the plan, nor of a server handing its role over${vipNote}: pass the node-ip of a Ready control plane`)
  }
  return text
}

function checkNodeName (plan: Plan, nodeId: NodeId, facts: FactsByNode): string {
  const name = nodeNameFor(nodeId, factsOf(facts, nodeId)?.hostname)
  for (const other of new Set([...plan.controlPlanes, ...plan.workers])) {
    if (other !== nodeId && nodeNameFor(other, factsOf(facts, other)?.hostname) === name) {
      throw new RenderError('K3S_NODE_NAME_COLLISION', `node ${nodeId} and node ${other} would both register as ${name}: give one of them another host name`)
    }
  }
  return name
}

function sameIpOf (ip: IpAddress | undefined, other: IpAddress): boolean {
  return ip !== undefined && sameIp(ip, other)
}

function nodeIpUnknown (nodeId: NodeId): RenderError {
  return new RenderError('K3S_NODE_IP_UNKNOWN', `node ${nodeId} has no node-ip in its facts: every node of the plan must publish the address k3s will use (set it in that node's p2p-bootstrap config), so the VIP can be checked against it`)
}

export function factsOf (facts: FactsByNode, nodeId: NodeId): NodeFacts | undefined {
  if (isFactsMap(facts)) return facts.get(nodeId)
  return Object.hasOwn(facts, nodeId) ? facts[nodeId] : undefined
}

function factIds (facts: FactsByNode): NodeId[] {
  return isFactsMap(facts) ? [...facts.keys()] : Object.keys(facts)
}

function isFactsMap (facts: FactsByNode): facts is ReadonlyMap<NodeId, NodeFacts> {
  return facts instanceof Map
}
