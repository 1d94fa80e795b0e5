import { networkInterfaces } from 'node:os'
import type { NetworkInterfaceInfo } from 'node:os'
import { isIP } from 'node:net'
import { nonHostKind, parseIp } from '@p2p-bootstrap/k3s'
import type { NodeNetwork } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'

/** The interfaces of the host, by name (os.networkInterfaces' shape), so tests can give their own. */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>

export interface HostNetworkInput {
  readonly nodeIp: string
  /** The interface named in the config, if any. */
  readonly interface?: string
  /** The subnet named in the config, if any. */
  readonly subnet?: string
  /**
   * A dry run (or a stand-in k3s): a loopback node-ip, a formation on one machine, is fine. Outside
   * one, loopback, link-local, multicast and unspecified node-ips are refused: no kubelet runs on them.
   */
  readonly localOnly?: boolean
}

/**
 * The node's network for k3s and kube-vip: the interface that holds the node-ip (flannel-iface and
 * kube-vip's interface) and its subnet (where the VIP must lie). What the config names wins; the
 * rest is read from the host. Loopback addresses (a formation on one machine, dry runs only) live on `lo`.
 */
export function hostNetwork (input: HostNetworkInput, table: InterfaceTable = networkInterfaces()): NodeNetwork {
  const parsed = parseIp(input.nodeIp)
  const kind = parsed === undefined ? undefined : nonHostKind(parsed)
  if (kind !== undefined && input.localOnly !== true) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION',
      `option node.nodeIp: ${input.nodeIp} is a ${kind} address, which the kubelet refuses and other hosts cannot reach: ` +
      'set node.ip (--node-ip) to an address of this host on the cluster\'s network, or node.interface (--interface) to the interface that holds one; only --dry-run renders it')
  }
  const family = isIP(input.nodeIp) === 6 ? 'IPv6' : 'IPv4'
  const holder = findHolder(input.nodeIp, table)
  const name = input.interface ?? holder?.name ?? loopbackName(input.nodeIp, table)
  if (name === undefined) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION',
      `no interface of this host holds the node-ip ${input.nodeIp}: set node.interface (--interface) to the interface k3s should use, or node.ip (--node-ip) to an address of this host`)
  }
  const subnet = input.subnet ?? subnetOf(name, input.nodeIp, family, holder?.info, table)
  return subnet === undefined ? { interface: name } : { interface: name, subnet }
}

function findHolder (ip: string, table: InterfaceTable): { name: string, info: NetworkInterfaceInfo } | undefined {
  for (const name of Object.keys(table).sort()) {
    for (const info of table[name] ?? []) {
      if (sameAddress(info.address, ip)) return { name, info }
    }
  }
  return undefined
}

/** 127.0.0.0/8 and ::1 are all routed to the loopback interface, though only one address is listed. */
function loopbackName (ip: string, table: InterfaceTable): string | undefined {
  const isLoopback = ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'))
  if (!isLoopback) return undefined
  return Object.keys(table).sort().find(name => (table[name] ?? []).some(info => info.internal)) ?? 'lo'
}

function subnetOf (name: string, ip: string, family: string, held: NetworkInterfaceInfo | undefined, table: InterfaceTable): string | undefined {
  if (held?.cidr !== undefined && held.cidr !== null) return held.cidr
  if (family === 'IPv4' && ip.startsWith('127.')) return '127.0.0.0/8'
  // The configured interface does not hold the node-ip (a NAT, a router): its own subnet is the best guess.
  const info = (table[name] ?? []).find(entry => entry.family === family && entry.cidr !== null)
  return info?.cidr ?? undefined
}

function sameAddress (left: string, right: string): boolean {
  return left.toLowerCase().replace(/%.*$/, '') === right.toLowerCase()
}
