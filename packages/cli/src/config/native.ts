/**
 * The native spelling of the `p2p-bootstrap run` config file (YAML; every key optional; a flag
 * given on the command line overrides the file):
 *
 * ```yaml
 * token: p2pb1....              # or a Kairos token; also --token, --token - (stdin), P2PB_TOKEN
 * state-dir: /var/lib/p2p-bootstrap
 * root: /                       # prefix for every file written (render into a folder to inspect)
 * profile: lan                  # lan | wan | test
 * failover-delay: 300           # seconds a control plane stays dead before a live worker replaces
 *                               # it (1 to 604800; default the profile's: 300 on lan and wan)
 * listen: [/ip4/0.0.0.0/tcp/4001]
 * peers: [/ip4/192.168.1.10/tcp/4001/p2p/12D3KooW...]   # static peers, each with its peer id
 * mdns: true
 * dht: true
 * cluster:                      # each may instead come from the token; both given must agree
 *   expect: 5                   # nodes at first boot, 1 to 1000
 *   control-planes: 3           # 1, 3, 5 or 7
 *   vip: 192.168.1.50           # kube-vip virtual IP, IPv4 or IPv6
 *   name: shop-floor            # one lower-case DNS label
 * node:
 *   ip: 192.168.1.21            # k3s node-ip; never the VIP
 *   interface: eth0             # for kube-vip and flannel
 *   role: control-plane         # or worker: a request, honoured where it is safe
 *   hostname: edge-21
 *   labels: { zone: hall-a }    # Kubernetes label syntax
 *   subnet: 192.168.1.0/24      # the node network's CIDR (default: read from the interface holding
 *                               # node.ip); dual-stack: one per family, 192.168.1.0/24,fd00::/64
 * k3s: { ... }                  # extra k3s config.yaml keys (k3s flag names without --). Critical keys
 *                               # (cluster-cidr, service-cidr, cluster-dns, cluster-domain, disable,
 *                               # flannel-backend, …) are cluster-wide: every node must give the same;
 *                               # the rest are this node's
 * kube-vip:
 *   image: ghcr.io/kube-vip/kube-vip:v0.9.2   # pinned (a version tag or a digest); cluster-wide
 *   interface: eth0                            # cluster-wide; default: node.interface
 * apply:                        # {service} in a command is k3s on servers, k3s-agent on workers
 *   start: systemctl enable --now {service}   # a command: a YAML list of arguments, or one string split on spaces
 *   restart: systemctl restart {service}
 *   stop: systemctl disable --now {service}   # a promoted worker's agent, a replaced server, a node that left
 *   clean-replaced-server: false              # opt-in: a server replaced while down removes its stale
 *                                             # server state itself and joins as a worker (docs/operations.md)
 *   ready: k3s kubectl get --raw /readyz      # or false: never probe (the node never reports Ready)
 *   on-ready: /usr/local/bin/cluster-is-up    # run once per plan epoch when every node is Ready
 *   timeout: 120                              # seconds one command may run (1..3600)
 * admin-keys:                   # off by default; see docs/kubeconfig.md
 *   - p2pb-admin1:12D3KooW...
 * metrics:                      # off by default; see docs/observe.md
 *   listen: 127.0.0.1:9464      # /metrics, /healthz and a status page; off loopback it shows the cluster
 * ```
 *
 * Commands run without a shell: a string is split on runs of spaces and quotes in it are not
 * interpreted, so an argument holding a space needs the list form (`[sh, -c, "echo up"]`).
 * Arguments are non-empty, have no control characters, and a command has at most 64 of them.
 * The `k3s:` mapping is only checked to be a mapping here: the bootstrapper checks its keys
 * against the pinned k3s flags before it starts anything, and refuses an unknown or reserved one.
 *
 * Unknown keys are errors that suggest the closest known key. A document with a top-level `p2p:`
 * block is a Kairos cloud-config instead (see kairos.ts); its native keys are read too, and must
 * agree with the Kairos ones; there the top-level `k3s` is Kairos' own block.
 */
import { z } from 'zod'
import {
  clusterNameRule, commandTimeoutRule, controlPlanesRule, expectRule, failoverDelayRule, hostnameRule, imageRule,
  interfaceRule, ipAddressRule, listenRule, metricsListenRule, pathRule, peerRule, profileRule, roleRule,
  subnetRule, tokenTextRule
} from './rules.js'
import {
  adminKeyList, choice, command, commandOrOff, flag, labels, list, opaqueMapping, text, wholeNumber
} from './schema-kit.js'
import { setting } from './settings.js'
import type { Settings } from './settings.js'

/** The native keys, shared with the Kairos reader (a cloud-config may carry them too). */
export const nativeFields = {
  token: text(tokenTextRule).optional(),
  'state-dir': text(pathRule).optional(),
  root: text(pathRule).optional(),
  profile: choice(profileRule).optional(),
  'failover-delay': wholeNumber(failoverDelayRule).optional(),
  listen: list(listenRule).optional(),
  peers: list(peerRule).optional(),
  mdns: flag().optional(),
  dht: flag().optional(),
  cluster: z.strictObject({
    expect: wholeNumber(expectRule).optional(),
    'control-planes': wholeNumber(controlPlanesRule).optional(),
    vip: text(ipAddressRule).optional(),
    name: text(clusterNameRule).optional()
  }).optional(),
  node: z.strictObject({
    ip: text(ipAddressRule).optional(),
    interface: text(interfaceRule).optional(),
    role: choice(roleRule).optional(),
    hostname: text(hostnameRule).optional(),
    labels: labels().optional(),
    subnet: text(subnetRule).optional()
  }).optional(),
  'kube-vip': z.strictObject({
    image: text(imageRule).optional(),
    interface: text(interfaceRule).optional()
  }).optional(),
  apply: z.strictObject({
    start: command().optional(),
    restart: command().optional(),
    stop: command().optional(),
    'clean-replaced-server': flag().optional(),
    ready: commandOrOff().optional(),
    'on-ready': command().optional(),
    timeout: wholeNumber(commandTimeoutRule).optional()
  }).optional(),
  'admin-keys': adminKeyList().optional(),
  metrics: z.strictObject({
    listen: text(metricsListenRule)
  }).optional()
}

/** A native file: the shared keys, and `k3s:` as k3s config keys (in a Kairos document it is Kairos' block). */
export const nativeDocumentSchema = z.strictObject({ ...nativeFields, k3s: opaqueMapping().optional() })

export type NativeFields = z.output<z.ZodObject<typeof nativeFields>>

/** The settings a native file gives, each with its key. */
export function nativeSettings (fields: NativeFields): Settings {
  const { cluster, node, apply } = fields
  const kubeVip = fields['kube-vip']
  return {
    token: setting(fields.token, ['token']),
    stateDir: setting(fields['state-dir'], ['state-dir']),
    root: setting(fields.root, ['root']),
    profile: setting(fields.profile, ['profile']),
    failoverDelaySeconds: setting(fields['failover-delay'], ['failover-delay']),
    listen: setting(fields.listen, ['listen']),
    peers: setting(fields.peers, ['peers']),
    mdns: setting(fields.mdns, ['mdns']),
    dht: setting(fields.dht, ['dht']),
    expect: setting(cluster?.expect, ['cluster', 'expect']),
    controlPlanes: setting(cluster?.['control-planes'], ['cluster', 'control-planes']),
    vip: setting(cluster?.vip, ['cluster', 'vip']),
    name: setting(cluster?.name, ['cluster', 'name']),
    nodeIp: setting(node?.ip, ['node', 'ip']),
    interface: setting(node?.interface, ['node', 'interface']),
    role: setting(node?.role, ['node', 'role']),
    hostname: setting(node?.hostname, ['node', 'hostname']),
    labels: setting(node?.labels, ['node', 'labels']),
    subnet: setting(node?.subnet, ['node', 'subnet']),
    kubeVipImage: setting(kubeVip?.image, ['kube-vip', 'image']),
    kubeVipInterface: setting(kubeVip?.interface, ['kube-vip', 'interface']),
    startCommand: setting(apply?.start, ['apply', 'start']),
    restartCommand: setting(apply?.restart, ['apply', 'restart']),
    stopCommand: setting(apply?.stop, ['apply', 'stop']),
    cleanReplacedServer: setting(apply?.['clean-replaced-server'], ['apply', 'clean-replaced-server']),
    readyCommand: setting(apply?.ready, ['apply', 'ready']),
    onReadyCommand: setting(apply?.['on-ready'], ['apply', 'on-ready']),
    commandTimeoutSeconds: setting(apply?.timeout, ['apply', 'timeout']),
    adminKeys: setting(fields['admin-keys'], ['admin-keys']),
    metricsListen: setting(fields.metrics?.listen, ['metrics', 'listen'])
  }
}
