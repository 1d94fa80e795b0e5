/**
 * Which config.yaml keys the user may set, and where. Two sets, each with a reason:
 *
 * - Critical keys must hold the same value on every server. k3s refuses a joining server on a
 *   "critical configuration value mismatch" for most of them (the `CriticalControlArgs` of
 *   k3s-io/k3s `pkg/daemons/config/types.go`, and the list in k3s-io/docs `docs/cli/server.md`);
 *   `token`, `tls-san` and the whole of `disable` are added by us (DESIGN §7: the token and the
 *   VIP in the certificate from the first start; k3s only checks `disable=servicelb`, but a
 *   component enabled on one server only fights the others). A user may set them only in the
 *   cluster-wide block, which every node must carry identically (`clusterWideHash` detects a
 *   difference).
 * - Reserved keys are written by p2p-bootstrap from the committed plan; a user value would
 *   contradict the plan (S1, S4) or the join sequence, so it is refused with the place to change
 *   the behaviour instead.
 */

export const CRITICAL_KEYS: readonly string[] = [
  'agent-token',
  'cluster-cidr',
  'cluster-dns',
  'cluster-domain',
  'disable',
  'disable-cloud-controller',
  'disable-helm-controller',
  'disable-network-policy',
  'egress-selector-mode',
  'embedded-registry',
  'flannel-backend',
  'flannel-external-ip',
  'flannel-ipv6-masq',
  'secrets-encryption',
  'secrets-encryption-provider',
  'service-cidr',
  'supervisor-metrics',
  'tls-san',
  'token'
]

const CRITICAL = new Set(CRITICAL_KEYS)

export function isCriticalKey (key: string): boolean {
  return CRITICAL.has(key)
}

/** Reserved keys and what to do instead of setting them. */
export const RESERVED_KEYS: Readonly<Record<string, string>> = {
  'agent-token': 'the agent token comes from the committed plan, so every node holds the same one',
  'agent-token-file': 'the agent token comes from the committed plan, so every node holds the same one',
  'cluster-init': 'only the plan\'s init node runs cluster-init, so exactly one cluster forms',
  'cluster-reset': 'a reset forgets every other server; run `k3s server --cluster-reset` by hand if you mean it',
  'cluster-reset-restore-path': 'restoring a snapshot is a manual operation, not a boot-time setting',
  config: 'the config file cannot name another config file',
  'datastore-endpoint': 'p2p-bootstrap runs every server with embedded etcd',
  'disable-agent': 'p2p-bootstrap runs every server with an agent, so it is a node that kube-vip can run on',
  'disable-apiserver': 'p2p-bootstrap runs every server with an API server behind the VIP',
  'disable-etcd': 'p2p-bootstrap runs every server with an embedded etcd member',
  'flannel-iface': 'set the node\'s network interface in the p2p-bootstrap config instead',
  'node-ip': 'set the node\'s address in the p2p-bootstrap config (it is published as the node\'s node-ip fact)',
  'node-name': 'the node name is derived from the host name and the node id, so it is unique and stable',
  server: 'the join address follows the plan\'s join order and readiness',
  token: 'the server token comes from the committed plan, so every server holds the same one',
  'token-file': 'the tokens come from the committed plan, so every node holds the same ones',
  'with-node-id': 'the node name already carries a suffix of the node id',
  'write-kubeconfig-mode': 'the admin kubeconfig holds cluster-admin credentials and stays 0600'
}

export function reservedReason (key: string): string | undefined {
  return Object.hasOwn(RESERVED_KEYS, key) ? RESERVED_KEYS[key] : undefined
}

/** Node labels p2p-bootstrap writes; a user label with one of these keys would contradict the plan. */
export const LABEL_PREFIX = 'p2p-bootstrap.io/'
export const ROLE_LABEL = `${LABEL_PREFIX}role`
export const CLUSTER_ID_LABEL = `${LABEL_PREFIX}cluster-id`
export const NODE_ID_LABEL = `${LABEL_PREFIX}node-id`
export const INIT_LABEL = `${LABEL_PREFIX}init`
export const OWN_LABEL_KEYS: readonly string[] = [ROLE_LABEL, CLUSTER_ID_LABEL, NODE_ID_LABEL, INIT_LABEL]
