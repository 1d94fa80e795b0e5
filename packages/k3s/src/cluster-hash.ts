import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { checkKubeVipImage } from './check-input.js'
import type { KubeVipSettings } from './input.js'
import { resolveClusterSettings, SETTINGS_BLOCK_KEYS } from './settings.js'
import type { ClusterSettings } from './settings.js'
import { checkUserBlock } from './user-keys.js'
import { K3S_VERSION } from './versions.js'

/** The inputs that must be the same on every node of a cluster. */
export interface ClusterWideInput {
  readonly vip?: string
  readonly cluster?: Partial<ClusterSettings>
  readonly kubeVip?: KubeVipSettings
  readonly clusterK3s?: Readonly<Record<string, unknown>>
}

const FORMAT = 'p2p-bootstrap/k3s-cluster-wide/v1'

/**
 * Hex SHA-256 of the cluster-wide inputs after defaults are applied: the VIP, the cluster
 * settings, the kube-vip image and interface (as given: a default to each node's own interface is
 * not cluster-wide), the cluster-wide k3s block and the pinned k3s version. Two nodes with equal
 * hashes render equal critical keys and equal kube-vip manifests; a node can publish its hash and
 * compare it with its peers' before it writes anything (k3s would only notice at join time, with
 * "critical configuration value mismatch"). Holds no secret: tokens are not inputs.
 */
export function clusterWideHash (input: ClusterWideInput): string {
  const block = checkUserBlock(input.clusterK3s, { source: 'the cluster-wide k3s block', clusterWide: true, where: '' })
  const settings = resolveClusterSettings(input.cluster, block)
  const extras = [...block].filter(([key]) => !SETTINGS_BLOCK_KEYS.includes(key))
  const canonical = canonicalJson({
    format: FORMAT,
    k3s: K3S_VERSION,
    vip: input.vip ?? null,
    settings,
    kubeVip: { image: checkKubeVipImage(input.kubeVip), interface: input.kubeVip?.interface ?? null },
    clusterK3s: Object.fromEntries(extras)
  })
  return bytesToHex(sha256(utf8ToBytes(canonical)))
}

/** JSON with object keys in code-unit order at every level, so equal values give equal text. */
function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
