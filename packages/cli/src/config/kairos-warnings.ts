// The keys of a Kairos cloud-config that p2p-bootstrap accepts but does not act on. A user who
// pastes a cloud-config from Kairos' documentation should have it run, and should also learn,
// key by key, which Kairos feature it asked for is not provided here and what to provide instead
// (EdgeVPN's data plane first: without it k3s traffic needs direct reachability between nodes).
// Keys Kairos itself ignores (`p2p.ha`, shown in its installation docs) are ignored here too,
// with a warning, so one file behaves the same under both.
import { isKairosTrue } from './schema-kit.js'
import type { KeyPath } from './yaml-source.js'

/** Records a warning about the key at `path`; supplied by the reader, which knows lines. */
export type Warn = (path: KeyPath, message: string) => void

/**
 * The ports k3s nodes must reach on each other without a VPN (k3s v1.33 docs, "Requirements",
 * inbound rules): the API server, etcd between servers, the kubelet, and flannel's VXLAN.
 */
const K3S_PORTS = 'TCP 6443, 2379-2380 and 10250, UDP 8472'

/** The cloud-config blocks this reads, as parsed (ignored keys keep their raw values). */
export interface KairosBlocks {
  readonly p2p?: Readonly<Record<string, unknown>> | null
  readonly kubevip?: Readonly<Record<string, unknown>> | null
  readonly k3s?: Readonly<Record<string, unknown>> | null
  readonly 'k3s-agent'?: Readonly<Record<string, unknown>> | null
}

function record (value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}

function isSet (value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return false
  if (Array.isArray(value)) return value.length > 0
  const mapping = record(value)
  return mapping === undefined || Object.keys(mapping).length > 0
}

/** Warns about every accepted key that asks for something not provided (the reader sorts them by line). */
export function kairosWarnings (blocks: KairosBlocks, warn: Warn): void {
  p2pWarnings(record(blocks.p2p) ?? {}, warn)
  kubevipWarnings(record(blocks.kubevip) ?? {}, warn)
  for (const block of ['k3s', 'k3s-agent'] as const) k3sWarnings(block, record(blocks[block]) ?? {}, warn)
}

function p2pWarnings (p2p: Readonly<Record<string, unknown>>, warn: Warn): void {
  if (p2p.ha !== undefined) {
    warn(['p2p', 'ha'], 'is ignored, as Kairos\' own parser ignores it (Kairos reads HA from p2p.auto.ha): ' +
      'for HA, move master_nodes under p2p.auto.ha (master_nodes: 2 gives 3 control planes)')
  }
  const vpn = record(p2p.vpn) ?? {}
  if (isKairosTrue(vpn.create)) {
    warn(['p2p', 'vpn', 'create'], 'is true, but EdgeVPN\'s data plane is not provided: k3s traffic goes over the nodes\' own addresses, ' +
      `so every node must reach the others directly (${K3S_PORTS}); set p2p.vpn.create: false once they can`)
  }
  if (isKairosTrue(vpn.use)) {
    warn(['p2p', 'vpn', 'use'], 'is true, but k3s is not routed over a VPN here: it uses each node\'s own address (node.ip, or the ' +
      `address on kubevip.interface), so those addresses must reach each other (${K3S_PORTS}); set p2p.vpn.use: false`)
  }
  if (isSet(vpn.env)) warn(['p2p', 'vpn', 'env'], 'is set, but there is no EdgeVPN here to read it: remove it')
  if (isKairosTrue(p2p.dns)) warn(['p2p', 'dns'], 'is true, but EdgeVPN\'s embedded DNS is not provided: names resolve through the host\'s own DNS')
  if (isSet(p2p.loglevel)) warn(['p2p', 'loglevel'], 'is not read: set the agent\'s log level with --log-level or P2PB_LOG_LEVEL')
  if (isKairosTrue(p2p.dynamic_roles)) {
    warn(['p2p', 'dynamic_roles'], 'is true, but roles change here only by a committed epoch: a live worker replaces a control plane that stays dead for failover-delay')
  }
  if (isKairosTrue(p2p.hybrid)) warn(['p2p', 'hybrid'], 'is true, but the hybrid VPN mode is not provided: nodes must reach each other directly')
}

/** kubevip keys read here; the others are kube-vip settings of Kairos' own manifest. */
const KUBEVIP_READ = new Set(['enable', 'enabled', 'eip', 'interface'])

function kubevipWarnings (kubevip: Readonly<Record<string, unknown>>, warn: Warn): void {
  for (const [key, value] of Object.entries(kubevip)) {
    if (KUBEVIP_READ.has(key) || !isSet(value)) continue
    const fix = key === 'image' ? 'set the native kube-vip.image (a pinned image) instead' : 'the image is set with kube-vip.image'
    warn(['kubevip', key], `is not read: p2p-bootstrap renders the kube-vip manifest itself; ${fix}`)
  }
}

function k3sWarnings (block: 'k3s' | 'k3s-agent', settings: Readonly<Record<string, unknown>>, warn: Warn): void {
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'args') continue
    if (key === 'enabled' || key === 'enable') {
      if (value === false || (typeof value === 'string' && !isKairosTrue(value))) {
        warn([block, key], 'is false, but the committed plan decides whether this node runs k3s (a server) or k3s-agent (a worker)')
      }
      continue
    }
    if (!isSet(value)) continue
    const why = key === 'env' || key === 'replace_env'
      ? 'p2p-bootstrap writes k3s\' config file, not its service environment'
      : `only ${block}.args is read here`
    warn([block, key], `is not read: ${why}; give k3s flags in ${block}.args`)
  }
}
