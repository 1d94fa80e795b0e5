import { isDeepStrictEqual } from 'node:util'
import { RenderError, checkK3sBlock, clusterWideHash, isCriticalKey, k3sArgsToConfig } from '@p2p-bootstrap/k3s'
import type { KubeVipSettings } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import type { K3sOptions } from './apply-options.js'

/** A node's k3s options split by scope: what must match the whole cluster, and what is its own. */
export interface K3sBlocks {
  /** Critical keys from `extra` and from Kairos' server args: identical on every node. */
  readonly clusterK3s: Readonly<Record<string, unknown>>
  /** The other keys of `extra`: this node's. */
  readonly nodeK3s: Readonly<Record<string, unknown>>
  /** Kairos' args without the critical ones, by the command they are for. */
  readonly kairosArgs: { readonly server: readonly string[], readonly agent: readonly string[] }
  readonly kubeVip?: KubeVipSettings
  /**
   * Hash of everything cluster-wide (VIP, kube-vip, critical keys, pinned k3s version): nodes
   * publish it, and a node whose hash differs from the init node's writes nothing.
   */
  readonly clusterHash: string
}

/**
 * Splits and checks the k3s options once, when the agent starts: a key unknown to the pinned k3s,
 * a reserved key or a bad value stops the start with the key named, before anything is written.
 */
export function k3sBlocksOf (k3s: K3sOptions | undefined, vip: string | undefined): K3sBlocks {
  try {
    return split(k3s ?? {}, vip)
  } catch (err) {
    if (err instanceof RenderError) {
      throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option k3s: ${err.message}`, { cause: err })
    }
    throw err
  }
}

function split (k3s: K3sOptions, vip: string | undefined): K3sBlocks {
  const clusterK3s: Record<string, unknown> = {}
  const nodeK3s: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(k3s.extra ?? {})) {
    if (isCriticalKey(key)) clusterK3s[key] = value
    else nodeK3s[key] = value
  }
  const server: string[] = []
  for (const arg of k3s.kairosArgs?.server ?? []) {
    const [entry] = Object.entries(k3sArgsToConfig([arg]))
    if (entry === undefined || !isCriticalKey(entry[0])) { server.push(arg); continue }
    const [key, value] = entry
    const earlier = clusterK3s[key]
    if (Array.isArray(value)) {
      // `--disable=traefik --disable=servicelb` arrive one at a time: a list gathers them.
      clusterK3s[key] = [...new Set([...[earlier ?? []].flat().map(String), ...value])]
    } else if (earlier !== undefined && !isDeepStrictEqual(earlier, value)) {
      throw new RenderError('K3S_CONFLICTING_KEY', `${key} is set twice to different values (in the k3s block and in Kairos k3s.args, or twice in k3s.args): keep one of them`)
    } else {
      clusterK3s[key] = value
    }
  }
  const agent = [...(k3s.kairosArgs?.agent ?? [])]
  checkK3sBlock(clusterK3s, true, 'the cluster-wide k3s keys')
  checkK3sBlock(nodeK3s, false, 'the k3s block')
  // Checked as a whole too: a flag given twice with different values is refused there.
  k3sArgsToConfig(server)
  k3sArgsToConfig(agent)
  const clusterHash = clusterWideHash({
    ...(vip === undefined ? {} : { vip }),
    ...(k3s.kubeVip === undefined ? {} : { kubeVip: k3s.kubeVip }),
    clusterK3s
  })
  return {
    clusterK3s,
    nodeK3s,
    kairosArgs: { server, agent },
    ...(k3s.kubeVip === undefined ? {} : { kubeVip: k3s.kubeVip }),
    clusterHash
  }
}
