/**
 * @packageDocumentation
 *
 * The k3s and kube-vip output of p2p-bootstrap, as pure renderers: a committed plan, the node
 * facts and the node's opened tokens in, the files for the node's role out. Nothing here touches
 * the disk, the clock, the network or the process; the caller writes the files (under `--root`
 * for a dry run) and starts the service.
 *
 * - `/etc/rancher/k3s/config.yaml` on every node (mode 0600: it holds tokens). The init node gets
 *   `cluster-init: true` and no `server:` (S1); joining servers get `server:` = a Ready server's
 *   node-ip and the secure server token once the CA hash is known; workers get `k3s agent`
 *   settings with the agent token only. Critical keys (token, agent-token, tls-san with the VIP,
 *   CIDRs, cluster DNS and domain, flannel backend, disable) are identical on every server.
 * - `/var/lib/rancher/k3s/server/manifests/kube-vip.yaml` on servers when the plan has a VIP,
 *   byte-identical on every server.
 *
 * Every key is checked against the flags of the pinned k3s version (`K3S_VERSION`), and every
 * check runs before anything is rendered: the result is all of a node's files, or a
 * `RenderError` naming the node, the key and the fix.
 *
 * @example
 * ```ts
 * import { renderNode } from '@p2p-bootstrap/k3s'
 *
 * const output = renderNode({
 *   plan,                                   // the committed plan
 *   nodeId,                                 // this node
 *   facts,                                  // Map of node id → NodeFacts (node-ip, hostname)
 *   secrets: { serverToken, agentToken },   // opened with openServerToken / openAgentToken
 *   joinAddress: '192.168.1.11',            // node-ip of a Ready server (not for the init node)
 *   caHash,                                 // published by the init server once it started
 *   network: { interface: 'eth0', subnet: '192.168.1.11/24' }
 * })
 * for (const file of output.files) console.log(file.path, file.mode.toString(8), file.content.length)
 * console.log('start', output.service)
 * ```
 */
export { renderNode, CONFIG_PATH, DATA_DIR_DEFAULT, KUBE_VIP_MANIFEST_SUBPATH, SECRET_FILE_MODE, MANIFEST_FILE_MODE } from './render.js'
export type {
  RenderInput, RenderedOutput, RenderedFile, NodeSecrets, NodeNetwork, KubeVipSettings, FactsByNode
} from './input.js'
export { clusterWideHash } from './cluster-hash.js'
export type { ClusterWideInput } from './cluster-hash.js'
export { CLUSTER_SETTINGS_DEFAULT, SETTING_KEYS } from './settings.js'
export type { ClusterSettings } from './settings.js'
export { k3sArgsToConfig } from './kairos-args.js'
export { nodeNameFor } from './node-name.js'
export {
  K3S_FLAGS, flagNamed, flagForArgument, isFlagOf, DISABLE_ITEMS, FLANNEL_BACKENDS
} from './k3s-flags.js'
export type { K3sFlag, FlagType, FlagCommand } from './k3s-flags.js'
export {
  CRITICAL_KEYS, RESERVED_KEYS, isCriticalKey, LABEL_PREFIX, ROLE_LABEL, CLUSTER_ID_LABEL, NODE_ID_LABEL, INIT_LABEL
} from './keys.js'
export {
  KUBE_VIP_NAMESPACE, KUBE_VIP_NAME, KUBE_VIP_DAEMONSET_NAME, KUBE_VIP_PORT, KUBE_VIP_LEASE_SECONDS
} from './kube-vip.js'
export type { UserValue } from './user-keys.js'
export { checkK3sBlock } from './user-keys.js'
export { isPinnedImage } from './check-input.js'
export { K3S_VERSION, KUBE_VIP_IMAGE_DEFAULT } from './versions.js'
export { RenderError } from './errors.js'
export { nonHostKind, parseIp } from './ip.js'
export type { IpAddress, NonHostKind } from './ip.js'
export type { RenderErrorCode } from './errors.js'
export * from './limits.js'
