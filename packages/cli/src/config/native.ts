/**
 * The native spelling of the `p2p-bootstrap run` config file (YAML; every key optional; a flag
 * given on the command line overrides the file):
 *
 * ```yaml
 * token: p2pb1....              # or a Kairos token; also --token, --token - (stdin), P2PB_TOKEN
 * state-dir: /var/lib/p2p-bootstrap
 * root: /                       # prefix for every file written (render into a folder to inspect)
 * profile: lan                  # lan | wan | test
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
 * k3s: { ... }                  # extra k3s config.yaml keys, kept as written for later use
 * ```
 *
 * Unknown keys are errors that suggest the closest known key. A document with a top-level `p2p:`
 * block is a Kairos cloud-config instead (see kairos.ts); its native keys are read too, and must
 * agree with the Kairos ones; there the top-level `k3s` is Kairos' own block.
 */
import { z } from 'zod'
import {
  clusterNameRule, controlPlanesRule, expectRule, hostnameRule, interfaceRule, ipAddressRule,
  listenRule, pathRule, peerRule, profileRule, roleRule, tokenTextRule
} from './rules.js'
import { choice, flag, labels, list, opaqueMapping, text, wholeNumber } from './schema-kit.js'
import { setting } from './settings.js'
import type { Settings } from './settings.js'

/** The native keys, shared with the Kairos reader (a cloud-config may carry them too). */
export const nativeFields = {
  token: text(tokenTextRule).optional(),
  'state-dir': text(pathRule).optional(),
  root: text(pathRule).optional(),
  profile: choice(profileRule).optional(),
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
    labels: labels().optional()
  }).optional()
}

export const nativeDocumentSchema = z.strictObject({ ...nativeFields, k3s: opaqueMapping().optional() })

export type NativeFields = z.output<z.ZodObject<typeof nativeFields>>

/** The settings a native file gives, each with its key. */
export function nativeSettings (fields: NativeFields): Settings {
  const { cluster, node } = fields
  return {
    token: setting(fields.token, ['token']),
    stateDir: setting(fields['state-dir'], ['state-dir']),
    root: setting(fields.root, ['root']),
    profile: setting(fields.profile, ['profile']),
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
    labels: setting(node?.labels, ['node', 'labels'])
  }
}
