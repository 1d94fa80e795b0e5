// Shared fleets for the renderer tests: real node ids, real sealed plans from the core's planner,
// and fixed tokens, so that every test renders what a real cluster would.
import { nodeKeyFromSeed, planCluster, Prng, sealPlanSecrets } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, Plan } from '@p2p-bootstrap/core'
import { parse, parseAllDocuments } from 'yaml'
import type { RenderedOutput, RenderInput } from '../src/index.js'

/** Fixed, obviously fake tokens: 64 lower-case hex characters each, as the core generates. */
export const SERVER_TOKEN = '0123456789abcdef'.repeat(4)
export const AGENT_TOKEN = 'fedcba9876543210'.repeat(4)
export const CA_HASH = 'ca'.repeat(32)

export interface FleetOptions {
  readonly controlPlanes: number
  readonly workers: number
  /** The VIP's family. */
  readonly vipFamily: 4 | 6
  /** The node-ips' family (default 4); 6 makes an IPv6-only cluster (pod and service CIDRs too). */
  readonly nodeFamily?: 4 | 6
  /** Render as the CA hash is published and the VIP answers (true) or before (false). */
  readonly settled?: boolean
}

export interface Fleet {
  readonly plan: Plan
  readonly facts: Map<NodeId, NodeFacts>
  readonly vip: string
  readonly subnet: string
  /** One input per node of the plan, control planes first in join order. */
  readonly inputs: RenderInput[]
}

export function nodeIds (count: number, seedBase = 7000): NodeId[] {
  return Array.from({ length: count }, (_, index) => nodeKeyFromSeed(new Prng(seedBase + index).bytes(32)).nodeId)
}

const V4 = { nodeIp: (index: number) => `192.168.10.${11 + index}`, vip: '192.168.10.100', subnet: '192.168.10.0/24' }
const V6 = { nodeIp: (index: number) => `fd00:10::${(0x11 + index).toString(16)}`, vip: 'fd00:10::100', subnet: 'fd00:10::/64' }

/** Cluster settings of an IPv6-only cluster. */
export const IPV6_ONLY_CLUSTER = { clusterCidr: 'fd42::/56', serviceCidr: 'fd43::/112', clusterDns: 'fd43::a' } as const

export function buildFleet (options: FleetOptions): Fleet {
  const count = options.controlPlanes + options.workers
  const ids = nodeIds(count)
  const nodeFamily = options.nodeFamily ?? 4
  const nodeIp = (nodeFamily === 4 ? V4 : V6).nodeIp
  const vip = (options.vipFamily === 4 ? V4 : V6).vip
  // The interface carries a subnet of each family in use: a dual-stack link when they differ.
  const subnet = [...new Set([nodeFamily, options.vipFamily])].map((family) => (family === 4 ? V4 : V6).subnet).join(',')
  const facts = new Map<NodeId, NodeFacts>()
  // Memory decreasing with the index: the planner picks the first `controlPlanes` nodes, in order.
  ids.forEach((nodeId, index) => facts.set(nodeId, { labels: {}, memoryMb: 64_000 - index, nodeIp: nodeIp(index), hostname: `node-${index + 1}.lab.example` }))
  const sealingKey = new Prng(99).bytes(32)
  const entropy = new Prng(100)
  const { plan } = planCluster({
    clusterId: 'cabcdefghijklmnop',
    epoch: 1,
    shape: { controlPlanes: options.controlPlanes, expect: count, vip },
    members: ids.map((nodeId) => ({ nodeId, facts: facts.get(nodeId) ?? { labels: {} } })),
    secrets: (controlPlanes) => sealPlanSecrets({ serverToken: SERVER_TOKEN, agentToken: AGENT_TOKEN, controlPlanes, sealingKey, entropy: (length) => entropy.bytes(length) })
  })
  const settled = options.settled ?? true
  const initIp = facts.get(plan.init)?.nodeIp ?? ''
  const inputs = [...plan.controlPlanes, ...plan.workers].map((nodeId): RenderInput => {
    const server = plan.controlPlanes.includes(nodeId)
    const init = nodeId === plan.init
    return {
      plan,
      nodeId,
      facts,
      secrets: server ? { serverToken: SERVER_TOKEN, agentToken: AGENT_TOKEN } : { agentToken: AGENT_TOKEN },
      ...(settled && { caHash: CA_HASH }),
      ...(!init && { joinAddress: initIp }),
      ...(!server && { vipAnswers: settled }),
      network: { interface: 'eth0', subnet },
      ...(nodeFamily === 6 && { cluster: IPV6_ONLY_CLUSTER })
    }
  })
  return { plan, facts, vip, subnet, inputs }
}

export function fileOf (output: RenderedOutput, suffix: string): string | undefined {
  return output.files.find((file) => file.path.endsWith(suffix))?.content
}

/** The parsed config.yaml of a node. */
export function configOf (output: RenderedOutput): Record<string, unknown> {
  const text = fileOf(output, '/config.yaml')
  if (text === undefined) throw new Error('no config.yaml rendered')
  const value: unknown = parse(text)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('config.yaml is not a mapping')
  return value as Record<string, unknown>
}

/** The parsed documents of a multi-document YAML file; throws on a YAML error. */
export function documentsOf (text: string): unknown[] {
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]?.message ?? ''}`)
    return document.toJS() as unknown
  })
}

/** The value at `path` inside parsed YAML, or undefined when any step is missing. */
export function dig (value: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let current = value
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string | number, unknown>)[step]
  }
  return current
}

/** A kube-vip container's environment as name → value (or valueFrom). */
export function environmentOf (container: unknown): Map<string, unknown> {
  const env = dig(container, 'env')
  if (!Array.isArray(env)) return new Map()
  return new Map(env.map((variable: unknown) => [String(dig(variable, 'name')), dig(variable, 'value') ?? dig(variable, 'valueFrom')]))
}
