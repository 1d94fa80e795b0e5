import { assert } from '@p2p-bootstrap/core'
import { checkNode } from './check-input.js'
import type { CheckedNode } from './check-input.js'
import { clusterWideHash } from './cluster-hash.js'
import { entriesObject, mergeBlock } from './config-entries.js'
import type { ConfigEntries, MergeContext } from './config-entries.js'
import { RenderError } from './errors.js'
import type { RenderedFile, RenderedOutput, RenderInput } from './input.js'
import { urlHost } from './ip.js'
import { isFlagOf, K3S_FLAGS_VERSION } from './k3s-flags.js'
import type { FlagCommand } from './k3s-flags.js'
import { k3sArgsToConfig } from './kairos-args.js'
import { KUBE_VIP_PORT, kubeVipObjects } from './kube-vip.js'
import { planLabels } from './node-name.js'
import { resolveClusterSettings, SETTINGS_BLOCK_KEYS } from './settings.js'
import type { ClusterSettings } from './settings.js'
import { joinToken } from './tokens.js'
import { checkUserBlock } from './user-keys.js'
import type { UserValue } from './user-keys.js'
import { yamlDocument, yamlStream } from './yaml-text.js'

/** Where k3s reads its configuration. */
export const CONFIG_PATH = '/etc/rancher/k3s/config.yaml'
/** k3s' data directory unless a user block sets `data-dir`. */
export const DATA_DIR_DEFAULT = '/var/lib/rancher/k3s'
/** The manifest's place under the data directory; k3s applies every file in that folder. */
export const KUBE_VIP_MANIFEST_SUBPATH = 'server/manifests/kube-vip.yaml'
/** Files holding a token: readable by root only. */
export const SECRET_FILE_MODE = 0o600
/** The kube-vip manifest holds no secret. */
export const MANIFEST_FILE_MODE = 0o644

const CONFIG_COMMENT = [
  `k3s ${K3S_FLAGS_VERSION} configuration, written by p2p-bootstrap from the committed plan.`,
  'It is rewritten on every start: change the p2p-bootstrap config instead.',
  'It holds join tokens: keep it 0600.'
]
const MANIFEST_COMMENT = [
  'kube-vip for the control-plane VIP, written by p2p-bootstrap.',
  'Identical on every server: change the p2p-bootstrap config, never one copy.'
]

/**
 * Renders the files of one node for its role in the committed plan: config.yaml on every node,
 * plus the kube-vip manifest on servers when the plan has a VIP. Pure and deterministic: the same
 * input gives the same bytes. Every check runs before anything is rendered, so the result is all
 * of the node's files or a `RenderError` naming the node, the key and the fix.
 */
export function renderNode (input: RenderInput): RenderedOutput {
  const where = `node ${input.nodeId}`
  const clusterBlock = checkUserBlock(input.clusterK3s, { source: 'the cluster-wide k3s block', clusterWide: true, where })
  const nodeBlock = checkUserBlock(input.userK3s, { source: 'the node\'s k3s block', clusterWide: false, where })
  const kairosBlock = checkUserBlock(kairosConfig(input.kairosK3sArgs, where), { source: 'Kairos k3s.args', clusterWide: false, where })
  const settings = resolveClusterSettings(input.cluster, clusterBlock)
  const node = checkNode(input, settings)
  const command: FlagCommand = node.role === 'control-plane' ? 'server' : 'agent'
  const notes: string[] = []
  const entries = ownEntries(input, node, settings)
  const context: MergeContext = { command, where, consumed: new Set(SETTINGS_BLOCK_KEYS), notes }
  mergeBlock(entries, clusterBlock, 'the cluster-wide k3s block', context)
  mergeBlock(entries, nodeBlock, 'the node\'s k3s block', { ...context, consumed: new Set() })
  mergeBlock(entries, kairosBlock, 'Kairos k3s.args', { ...context, consumed: new Set() })
  const files = renderFiles(input, node, entries, notes)
  const hash = clusterWideHash({
    ...(input.plan.vip !== undefined && { vip: input.plan.vip }),
    ...(input.cluster !== undefined && { cluster: input.cluster }),
    ...(input.kubeVip !== undefined && { kubeVip: input.kubeVip }),
    ...(input.clusterK3s !== undefined && { clusterK3s: input.clusterK3s })
  })
  return {
    role: node.role,
    init: node.init,
    service: command === 'server' ? 'k3s' : 'k3s-agent',
    nodeName: node.nodeName,
    files,
    clusterWideHash: hash,
    notes
  }
}

function kairosConfig (args: readonly string[] | undefined, where: string): Record<string, UserValue> | undefined {
  if (args === undefined) return undefined
  try {
    return k3sArgsToConfig(args)
  } catch (err) {
    if (err instanceof RenderError) throw new RenderError(err.code, `${where}: ${err.message}`, { cause: err })
    throw err
  }
}

/** The keys p2p-bootstrap writes from the plan, for the node's role. */
function ownEntries (input: RenderInput, node: CheckedNode, settings: ClusterSettings): ConfigEntries {
  const own = new Map<string, UserValue>()
  own.set('node-ip', node.nodeIp)
  own.set('node-name', node.nodeName)
  own.set('flannel-iface', input.network.interface)
  own.set('node-label', planLabels(input.plan, input.nodeId, node.role))
  if (node.joinHost !== undefined) own.set('server', `https://${urlHost(node.joinHost)}:${KUBE_VIP_PORT}`)
  if (node.role === 'control-plane') {
    // S3: the checks made sure a control plane holds the server token.
    const serverToken = input.secrets.serverToken ?? ''
    if (node.init) own.set('cluster-init', true)
    // The init server's CA does not exist before its first start: short form, forever (S4).
    own.set('token', joinToken(serverToken, 'server', node.init ? undefined : input.caHash))
    own.set('agent-token', input.secrets.agentToken)
    own.set('cluster-cidr', settings.clusterCidr)
    own.set('service-cidr', settings.serviceCidr)
    own.set('cluster-dns', settings.clusterDns)
    own.set('cluster-domain', settings.clusterDomain)
    own.set('flannel-backend', settings.flannelBackend)
    if (settings.disable.length > 0) own.set('disable', settings.disable)
    // The VIP is in the serving certificate from the very first start, so the first client that
    // reaches the API through the VIP already finds it there (DESIGN §7).
    if (input.plan.vip !== undefined) own.set('tls-san', [input.plan.vip])
    own.set('write-kubeconfig-mode', '0600')
  } else {
    // Workers hold the agent token only (DESIGN §7).
    own.set('token', joinToken(input.secrets.agentToken, 'node', input.caHash))
  }
  const command: FlagCommand = node.role === 'control-plane' ? 'server' : 'agent'
  const entries: ConfigEntries = new Map()
  for (const [key, value] of own) {
    assert(isFlagOf(key, command), `p2p-bootstrap writes only flags of k3s ${command}`)
    entries.set(key, { value, source: 'p2p-bootstrap' })
  }
  return entries
}

function renderFiles (input: RenderInput, node: CheckedNode, entries: ConfigEntries, notes: string[]): RenderedFile[] {
  const files: RenderedFile[] = [{
    path: CONFIG_PATH,
    content: yamlDocument(entriesObject(entries), CONFIG_COMMENT),
    mode: SECRET_FILE_MODE,
    secret: true
  }]
  const vip = input.plan.vip
  if (node.role === 'control-plane' && vip !== undefined) {
    files.push({
      path: `${dataDir(entries.get('data-dir')?.value, input.nodeId)}/${KUBE_VIP_MANIFEST_SUBPATH}`,
      content: yamlStream(kubeVipObjects({ vip, interface: node.vipInterface, image: node.image }), MANIFEST_COMMENT),
      mode: MANIFEST_FILE_MODE,
      secret: false
    })
  } else if (node.role === 'control-plane') {
    notes.push('the plan has no VIP: kube-vip is not deployed, and workers join a Ready server directly')
  }
  return files.sort((left, right) => (left.path < right.path ? -1 : left.path > right.path ? 1 : 0))
}

/** k3s' data directory: the manifests folder moves with a user's `data-dir`. */
function dataDir (value: UserValue | undefined, nodeId: string): string {
  if (value === undefined) return DATA_DIR_DEFAULT
  if (typeof value !== 'string' || !value.startsWith('/') || value.split('/').some((part) => part === '..')) {
    throw new RenderError('K3S_BAD_VALUE', `node ${nodeId}: data-dir must be an absolute path without '..' segments, so the kube-vip manifest lands where k3s reads it`)
  }
  const trimmed = value.replace(/\/+$/, '')
  return trimmed
}
