// Every check on what a fleet's hosts wrote under their `--root`, in one place, so each scenario
// asserts the same properties the same way:
//
// - plan.json (etc/p2p-bootstrap/plan.json): every host holds the same plan (S2) of the expected
//   epoch; exactly one host is told to initialise (S1); each host's own part agrees with the plan.
// - k3s output of `--dry-run` (etc/rancher/k3s/config.yaml, 0600, and on servers
//   var/lib/rancher/k3s/server/manifests/kube-vip.yaml): `cluster-init` on the init node only;
//   identical critical keys on every server (k3s refuses joins otherwise); workers hold the agent
//   token and never the server token (design §7); one unique node-name per host; the kube-vip
//   manifest byte-identical on servers and absent on workers.
//
// The k3s files are required on every host (K3S_OUTPUT_REQUIRED; a call may relax it).
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { NodePart, PlanView } from '@p2p-bootstrap/bootstrapper'
import { parse as parseYaml } from 'yaml'
import { expect } from 'vitest'

/** `run --dry-run` writes config.yaml (and the kube-vip manifest on servers): a host without them fails. */
export const K3S_OUTPUT_REQUIRED = true

export const PLAN_PATH = 'etc/p2p-bootstrap/plan.json'
export const K3S_CONFIG_PATH = 'etc/rancher/k3s/config.yaml'
export const KUBE_VIP_PATH = 'var/lib/rancher/k3s/server/manifests/kube-vip.yaml'

/** Keys k3s compares between servers ("critical configuration value mismatch") and that we render. */
const SERVER_CRITICAL_KEYS = [
  'agent-token', 'cluster-cidr', 'service-cidr', 'cluster-dns', 'cluster-domain', 'flannel-backend',
  'tls-san', 'disable', 'disable-network-policy', 'egress-selector-mode', 'secrets-encryption'
] as const

/** A host's plan.json: the plan without sealed secrets, plus this host's part. */
export interface PlanFile extends PlanView {
  readonly thisNode: NodePart
}

export interface FileWithMode {
  readonly text: string
  readonly mode: number
}

/** What one host wrote under its root. */
export interface HostFiles {
  readonly root: string
  readonly plan: PlanFile | null
  /** The raw plan.json, null if absent. */
  readonly planText: string | null
  readonly k3sConfig: (FileWithMode & { readonly values: Readonly<Record<string, unknown>> }) | null
  readonly kubeVip: FileWithMode | null
  /** Every file under the root, by path relative to it: to search for secrets that must not be there. */
  readonly all: ReadonlyMap<string, string>
}

export interface FleetExpectation {
  /** Hosts whose part is control-plane. */
  readonly controlPlanes: number
  /** Hosts whose part is worker (listed in the plan or come later). */
  readonly workers: number
  /** Length of the plan's control-plane list; default `controlPlanes`. */
  readonly planControlPlanes?: number
  /** Default 1: the first bootstrap. */
  readonly epoch?: number
  readonly vip?: string
  /** Each host's own address, in the order of the roots: its `node-ip` must be it. */
  readonly nodeIps?: readonly string[]
  /** False when the init node is not among these hosts (it died); default true. */
  readonly initAmongHosts?: boolean
  /** Override of K3S_OUTPUT_REQUIRED for one call. */
  readonly requireK3sOutput?: boolean
}

/** The plan every host agreed on. */
export interface FleetSummary {
  readonly clusterId: string
  readonly epoch: number
  readonly init: string
  readonly controlPlanes: readonly string[]
  readonly workers: readonly string[]
  readonly serverTokenHash: string
  readonly agentTokenHash: string
}

async function readWithMode (path: string): Promise<FileWithMode | null> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { text, mode: info.mode & 0o777 }
  } catch {
    return null
  }
}

async function allFiles (root: string, dir = root, into = new Map<string, string>()): Promise<Map<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await allFiles(root, path, into)
    else if (entry.isFile()) into.set(relative(root, path), await readFile(path, 'utf8'))
  }
  return into
}

function parseRecord (text: string, parse: (text: string) => unknown): Record<string, unknown> | null {
  try {
    const value = parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

/** Reads what each host wrote; a missing file is null, never an error (the checks say what is missing). */
export async function readFleetFiles (roots: readonly string[]): Promise<HostFiles[]> {
  return await Promise.all(roots.map(async (root) => {
    const planFile = await readWithMode(join(root, PLAN_PATH))
    const planRecord = planFile === null ? null : parseRecord(planFile.text, JSON.parse)
    const config = await readWithMode(join(root, K3S_CONFIG_PATH))
    // The failsafe schema keeps every scalar a string: a token of digits stays a token.
    const values = config === null ? null : parseRecord(config.text, text => parseYaml(text, { schema: 'failsafe' }))
    return {
      root,
      plan: planRecord as PlanFile | null,
      planText: planFile?.text ?? null,
      k3sConfig: config === null ? null : { ...config, values: values ?? {} },
      kubeVip: await readWithMode(join(root, KUBE_VIP_PATH)),
      all: await allFiles(root)
    }
  }))
}

/** The secret of a k3s token: `K10<ca hash>::<user>:<secret>` or the bare secret. */
export function tokenSecret (token: unknown): string | null {
  if (typeof token !== 'string' || token === '') return null
  const match = /^K10[0-9a-f]*::[^:]+:(.+)$/.exec(token)
  return match?.[1] ?? token
}

function sharedPlan (plan: PlanFile): string {
  const { thisNode: _thisNode, ...shared } = plan
  return JSON.stringify(shared)
}

/** Problems with the plan files: agreement (S2), one initialiser (S1), each part against the plan. */
function planProblems (files: readonly HostFiles[], expected: FleetExpectation): string[] {
  const problems: string[] = []
  const plans: PlanFile[] = []
  for (const file of files) {
    if (file.plan === null || typeof file.plan.thisNode !== 'object' || !Array.isArray(file.plan.controlPlanes)) {
      problems.push(`${file.root}: no readable ${PLAN_PATH}`)
    } else {
      plans.push(file.plan)
    }
  }
  const first = plans[0]
  if (first === undefined) return problems
  const shared = new Set(plans.map(sharedPlan))
  if (shared.size !== 1) problems.push(`hosts hold ${shared.size} different plans (S2): ${[...shared].join(' | ')}`)
  if (first.epoch !== (expected.epoch ?? 1)) problems.push(`plan epoch is ${first.epoch}, expected ${expected.epoch ?? 1}`)
  // The initialiser: the init node, or the node a later epoch named in its place (planner/join-graph.ts).
  const initialiser = first.reinit ?? first.init
  if (!first.controlPlanes.includes(initialiser)) problems.push(`the initialiser ${initialiser} is not a control plane of the plan`)
  const listed = [...first.controlPlanes, ...first.workers]
  if (new Set(listed).size !== listed.length) problems.push('a node is listed twice in the plan')
  const planControlPlanes = expected.planControlPlanes ?? expected.controlPlanes
  if (first.controlPlanes.length !== planControlPlanes) problems.push(`the plan lists ${first.controlPlanes.length} control planes, expected ${planControlPlanes}`)
  if (expected.vip !== undefined && first.vip !== expected.vip) problems.push(`the plan's VIP is ${String(first.vip)}, expected ${expected.vip}`)

  const nodeIds = plans.map(plan => plan.thisNode.nodeId)
  if (new Set(nodeIds).size !== nodeIds.length) problems.push('two hosts have the same node id')
  for (const plan of plans) {
    const part = plan.thisNode
    const role = first.controlPlanes.includes(part.nodeId) ? 'control-plane' : 'worker'
    if (part.role !== role) problems.push(`${part.nodeId} says it is ${part.role}; the plan makes it ${role}`)
    if (part.init !== (part.nodeId === initialiser)) problems.push(`${part.nodeId} says init=${String(part.init)}; the plan's initialiser is ${initialiser}`)
  }
  const inits = plans.filter(plan => plan.thisNode.init).length
  const wantedInits = expected.initAmongHosts === false ? 0 : 1
  if (inits !== wantedInits) problems.push(`${inits} hosts are told to run cluster-init, expected ${wantedInits} (S1)`)
  const servers = plans.filter(plan => plan.thisNode.role === 'control-plane').length
  if (servers !== expected.controlPlanes) problems.push(`${servers} hosts are control planes, expected ${expected.controlPlanes}`)
  if (plans.length - servers !== expected.workers) problems.push(`${plans.length - servers} hosts are workers, expected ${expected.workers}`)
  return problems
}

function criticalValues (values: Readonly<Record<string, unknown>>): string {
  const critical: Record<string, unknown> = { token: tokenSecret(values.token) }
  for (const key of SERVER_CRITICAL_KEYS) critical[key] = key === 'agent-token' ? tokenSecret(values[key]) : values[key]
  return JSON.stringify(critical)
}

/** Problems with config.yaml and the kube-vip manifest, on the hosts that have a plan. */
function k3sProblems (files: readonly HostFiles[], expected: FleetExpectation): string[] {
  const required = expected.requireK3sOutput ?? K3S_OUTPUT_REQUIRED
  const withPlan = files.filter((file): file is HostFiles & { plan: PlanFile } => file.plan !== null)
  const withConfig = withPlan.filter(file => file.k3sConfig !== null)
  if (withConfig.length === 0 && !required) return []
  const problems: string[] = []
  for (const file of withPlan) if (file.k3sConfig === null) problems.push(`${file.root}: no ${K3S_CONFIG_PATH}`)
  const servers = withConfig.filter(file => file.plan.thisNode.role === 'control-plane')
  const workers = withConfig.filter(file => file.plan.thisNode.role === 'worker')
  const vip = withPlan[0]?.plan.vip

  for (const file of withConfig) {
    const config = file.k3sConfig
    if (config === null) continue
    const values = config.values
    const where = `${file.root} (${file.plan.thisNode.role}${file.plan.thisNode.init ? ', init' : ''})`
    if (config.mode !== 0o600) problems.push(`${where}: config.yaml has mode ${config.mode.toString(8)}, expected 600 (it holds tokens)`)
    if ((values['cluster-init'] === 'true') !== file.plan.thisNode.init) problems.push(`${where}: cluster-init is ${String(values['cluster-init'])}`)
    if (file.plan.thisNode.init === (values.server !== undefined)) problems.push(`${where}: server is ${String(values.server)} (the init node has none, every other node has one)`)
    if (tokenSecret(values.token) === null) problems.push(`${where}: no token`)
    const index = files.indexOf(file)
    const nodeIp = expected.nodeIps?.[index]
    if (nodeIp !== undefined && values['node-ip'] !== nodeIp) problems.push(`${where}: node-ip is ${String(values['node-ip'])}, expected ${nodeIp}`)
    if (vip !== undefined && values['node-ip'] === vip) problems.push(`${where}: node-ip is the VIP`)
  }

  const critical = new Set(servers.map(file => criticalValues(file.k3sConfig?.values ?? {})))
  if (critical.size > 1) problems.push(`servers differ in critical k3s keys (k3s would refuse the join): ${[...critical].join(' | ')}`)
  const serverValues = servers[0]?.k3sConfig?.values ?? {}
  const serverSecret = tokenSecret(serverValues.token)
  const agentSecret = tokenSecret(serverValues['agent-token'])
  for (const file of servers) {
    const values = file.k3sConfig?.values ?? {}
    if (tokenSecret(values['agent-token']) === null) problems.push(`${file.root}: a server without agent-token`)
    const sans = Array.isArray(values['tls-san']) ? values['tls-san'] : [values['tls-san']]
    if (vip !== undefined && !sans.includes(vip)) problems.push(`${file.root}: tls-san ${JSON.stringify(values['tls-san'])} lacks the VIP ${vip}`)
  }
  if (serverSecret !== null && serverSecret === agentSecret) problems.push('the server token and the agent token are the same secret')
  for (const file of workers) {
    const values = file.k3sConfig?.values ?? {}
    if (values['agent-token'] !== undefined) problems.push(`${file.root}: a worker holds agent-token`)
    if (values['cluster-init'] !== undefined) problems.push(`${file.root}: a worker has cluster-init`)
    if (agentSecret !== null && tokenSecret(values.token) !== agentSecret) problems.push(`${file.root}: a worker's token is not the servers' agent token`)
    if (serverSecret !== null && [...file.all.values()].some(text => text.includes(serverSecret))) {
      problems.push(`${file.root}: a worker's files hold the server token (design §7: workers get the agent token only)`)
    }
  }
  for (const file of withPlan) {
    if (serverSecret !== null && file.planText?.includes(serverSecret) === true) problems.push(`${file.root}: plan.json holds the server token`)
  }
  const names = withConfig.map(file => file.k3sConfig?.values['node-name'])
  if (new Set(names).size !== names.length || names.some(name => typeof name !== 'string')) problems.push(`node-names are missing or not unique: ${JSON.stringify(names)}`)

  const manifests = new Set(servers.map(file => file.kubeVip?.text ?? null))
  if (vip !== undefined) {
    if (manifests.has(null)) problems.push(`a server lacks ${KUBE_VIP_PATH}`)
    if (manifests.size > 1) problems.push('the kube-vip manifest differs between servers')
    const manifest = servers[0]?.kubeVip?.text ?? ''
    if (!new RegExp(`name: address\\s+value: "?${vip.replaceAll('.', '\\.')}"?`).test(manifest)) problems.push(`the kube-vip manifest does not set address=${vip}`)
  }
  for (const file of withPlan) {
    if (file.kubeVip !== null && (vip === undefined || file.plan.thisNode.role === 'worker')) problems.push(`${file.root}: a kube-vip manifest where none belongs`)
  }
  return problems
}

/** Everything wrong with a fleet's files against `expected`, in words; empty when all holds. */
export function fleetProblems (files: readonly HostFiles[], expected: FleetExpectation): string[] {
  return [...planProblems(files, expected), ...k3sProblems(files, expected)]
}

/** Asserts the fleet is consistent (see the file comment) and returns the plan it agreed on. */
export function assertConsistentFleet (files: readonly HostFiles[], expected: FleetExpectation): FleetSummary {
  expect(fleetProblems(files, expected), `fleet files under ${files.map(file => file.root).join(', ')}`).toEqual([])
  const plan = files[0]?.plan
  if (plan === null || plan === undefined) throw new Error('a consistent fleet has a plan')
  return {
    clusterId: plan.clusterId,
    epoch: plan.epoch,
    init: plan.init,
    controlPlanes: plan.controlPlanes,
    workers: plan.workers,
    serverTokenHash: plan.serverTokenHash,
    agentTokenHash: plan.agentTokenHash
  }
}

/** Whether any host has k3s output yet (scenarios report it; K3S_OUTPUT_REQUIRED makes it a must). */
export function hasK3sOutput (files: readonly HostFiles[]): boolean {
  return files.some(file => file.k3sConfig !== null)
}
