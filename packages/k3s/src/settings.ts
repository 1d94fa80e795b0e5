import { DISABLE_ITEMS, FLANNEL_BACKENDS } from './k3s-flags.js'
import { RenderError } from './errors.js'
import { cidrContains, parseCidr, parseIp } from './ip.js'
import type { IpCidr } from './ip.js'
import { DOMAIN_CHARS_MAX } from './limits.js'
import type { UserBlock } from './user-keys.js'

/**
 * The cluster-wide k3s settings that every server must hold identically (k3s refuses a join on a
 * "critical configuration value mismatch"). Defaults are k3s' own, written out so that the
 * rendered file says what the cluster runs with. An IPv6 VIP does not make the pod network IPv6:
 * dual-stack or IPv6 pods are a choice made here, with comma-separated CIDRs.
 */
export interface ClusterSettings {
  /** Pod CIDRs (`cluster-cidr`); one per family, comma-separated for dual-stack. */
  readonly clusterCidr: string
  /** Service CIDRs (`service-cidr`); one per family, comma-separated for dual-stack. */
  readonly serviceCidr: string
  /** CoreDNS service addresses (`cluster-dns`), each inside a service CIDR. */
  readonly clusterDns: string
  /** `cluster-domain`. */
  readonly clusterDomain: string
  /** `flannel-backend`: one of none, vxlan, host-gw, wireguard-native. */
  readonly flannelBackend: string
  /** Packaged components not deployed (`disable`), e.g. `traefik`. */
  readonly disable: readonly string[]
}

export const CLUSTER_SETTINGS_DEFAULT: ClusterSettings = {
  clusterCidr: '10.42.0.0/16', // k3s default
  serviceCidr: '10.43.0.0/16', // k3s default
  clusterDns: '10.43.0.10', // k3s default: the tenth address of the default service CIDR
  clusterDomain: 'cluster.local', // k3s default
  flannelBackend: 'vxlan', // k3s default: works on any L2/L3 network without extra setup
  disable: [] // k3s default: every packaged component runs
}

type ScalarSetting = Exclude<keyof ClusterSettings, 'disable'>

/** The k3s key behind each scalar setting. */
export const SETTING_KEYS: Readonly<Record<ScalarSetting, string>> = {
  clusterCidr: 'cluster-cidr',
  serviceCidr: 'service-cidr',
  clusterDns: 'cluster-dns',
  clusterDomain: 'cluster-domain',
  flannelBackend: 'flannel-backend'
}

/** Keys of the cluster-wide user block that feed the settings instead of being merged as they are. */
export const SETTINGS_BLOCK_KEYS: readonly string[] = [...Object.values(SETTING_KEYS), 'disable']

const DOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * The settings in force: the caller's `cluster` values, else the same keys from the cluster-wide
 * k3s block, else the defaults. A key given both ways with two values is a conflict, not a choice.
 */
export function resolveClusterSettings (cluster: Partial<ClusterSettings> | undefined, clusterBlock: UserBlock): ClusterSettings {
  const given = cluster ?? {}
  const scalar = (name: ScalarSetting): string => {
    const key = SETTING_KEYS[name]
    const fromBlock = clusterBlock.get(key)
    const blockText = Array.isArray(fromBlock) ? fromBlock.join(',') : fromBlock
    const direct = given[name]
    if (direct !== undefined && blockText !== undefined && direct !== blockText) {
      throw new RenderError('K3S_CONFLICTING_KEY', `cluster setting ${name} is ${JSON.stringify(direct)} but the cluster-wide k3s block sets ${key}: ${JSON.stringify(blockText)}: keep one of the two`)
    }
    const value = direct ?? blockText ?? CLUSTER_SETTINGS_DEFAULT[name]
    if (typeof value !== 'string') {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting ${name} (k3s ${key}) must be text, got ${typeof value}`)
    }
    return value
  }
  const blockDisable = clusterBlock.get('disable')
  const settings: ClusterSettings = {
    clusterCidr: scalar('clusterCidr'),
    serviceCidr: scalar('serviceCidr'),
    clusterDns: scalar('clusterDns'),
    clusterDomain: scalar('clusterDomain'),
    flannelBackend: scalar('flannelBackend'),
    disable: unique([...(given.disable ?? CLUSTER_SETTINGS_DEFAULT.disable), ...(Array.isArray(blockDisable) ? blockDisable : [])])
  }
  checkClusterSettings(settings)
  return settings
}

/** Throws `K3S_BAD_SETTING` naming the first setting k3s would refuse or misuse. */
export function checkClusterSettings (settings: ClusterSettings): void {
  checkCidrs('clusterCidr', settings.clusterCidr)
  const serviceCidrs = checkCidrs('serviceCidr', settings.serviceCidr)
  for (const text of settings.clusterDns.split(',')) {
    const ip = parseIp(text)
    if (ip === undefined) {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting clusterDns (k3s cluster-dns) holds ${JSON.stringify(text)}, not an IP address`)
    }
    if (!serviceCidrs.some((cidr) => cidrContains(cidr, ip))) {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting clusterDns ${text} is outside the service CIDR ${settings.serviceCidr}: pick an address inside it (k3s uses the tenth, e.g. 10.43.0.10)`)
    }
  }
  if (settings.clusterDomain.length > DOMAIN_CHARS_MAX || !DOMAIN_PATTERN.test(settings.clusterDomain)) {
    throw new RenderError('K3S_BAD_SETTING', `cluster setting clusterDomain ${JSON.stringify(settings.clusterDomain.slice(0, 64))} is not a lower-case DNS name: use e.g. cluster.local`)
  }
  if (!FLANNEL_BACKENDS.includes(settings.flannelBackend)) {
    throw new RenderError('K3S_BAD_SETTING', `cluster setting flannelBackend ${JSON.stringify(settings.flannelBackend)} is not one of ${FLANNEL_BACKENDS.join(', ')}`)
  }
  for (const item of settings.disable) {
    if (!DISABLE_ITEMS.includes(item)) {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting disable holds ${JSON.stringify(item)}, which k3s cannot disable: use one of ${DISABLE_ITEMS.join(', ')}`)
    }
  }
}

function checkCidrs (name: 'clusterCidr' | 'serviceCidr', text: string): IpCidr[] {
  const cidrs: IpCidr[] = []
  for (const part of text.split(',')) {
    const cidr = parseCidr(part)
    if (cidr === undefined || cidr.network !== cidr.address) {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting ${name} holds ${JSON.stringify(part)}, not a network CIDR like 10.42.0.0/16 (no host bits)`)
    }
    if (cidrs.some((other) => other.family === cidr.family)) {
      throw new RenderError('K3S_BAD_SETTING', `cluster setting ${name} ${JSON.stringify(text)} has two IPv${cidr.family} CIDRs: give at most one per family`)
    }
    cidrs.push(cidr)
  }
  return cidrs
}

function unique (items: readonly string[]): string[] {
  return [...new Set(items)]
}
