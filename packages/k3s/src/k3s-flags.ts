import { K3S_VERSION } from './versions.js'

/**
 * The flags of `k3s server` and `k3s agent` at the pinned version (`K3S_VERSION`, v1.33.7+k3s1),
 * kept as data so that every key written to config.yaml, ours and the user's, is checked against
 * the flags that version knows. A config-file key is a flag's long name.
 *
 * Sources, cross-checked:
 *   - the `k3s server --help` and `k3s agent --help` output in k3s-io/docs `docs/cli/server.md`
 *     and `docs/cli/agent.md` (the documented flags, their types and aliases);
 *   - k3s-io/k3s `pkg/cli/cmds/server.go` and `agent.go` (hidden flags: supervisor-port,
 *     apiserver-port, apiserver-bind-address, kine-tls, disable-agent, disable-apiserver,
 *     disable-controller-manager, disable-etcd, airgap-extra-registry);
 *   - rancher/rke2 `pkg/cli/cmds/server.go`, whose K3SFlagSet must name every k3s server flag
 *     (etcd-snapshot-reconcile-interval, etcd-s3-bucket-lookup-type, etcd-s3-session-token);
 *   - k3s-io/docs `docs/release-notes/v1.33.X.md` (etcd-s3-retention, new in v1.33.4).
 * Two hidden, deprecated aliases are real flags of the pinned version and accepted, with a note
 * naming the current flag: kube-controller-arg and kube-cloud-controller-arg (k3s-io/k3s
 * `pkg/cli/cmds/server.go`, hidden StringSliceFlags feeding ExtraControllerArgs and
 * ExtraCloudControllerArgs; rancher/rke2 `pkg/cli/cmds/server.go` drops them as the "deprecated
 * version of" kube-controller-manager-arg and kube-cloud-controller-manager-arg).
 */

export type FlagType = 'bool' | 'string' | 'int' | 'duration' | 'list'
export type FlagCommand = 'server' | 'agent'

export interface K3sFlag {
  /** The long name, which is also the config.yaml key. */
  readonly name: string
  /** `list` flags take a string or a list of strings; the others one scalar of their type. */
  readonly type: FlagType
  readonly commands: readonly FlagCommand[]
  /** One-letter aliases (`-t` for `--token`), used when translating command-line arguments. */
  readonly aliases: readonly string[]
  /** A deprecated alias: the flag to use instead (k3s still takes this one). */
  readonly deprecatedFor?: string
}

const SERVER: readonly FlagCommand[] = ['server']
const AGENT: readonly FlagCommand[] = ['agent']
const BOTH: readonly FlagCommand[] = ['server', 'agent']

function flag (name: string, type: FlagType, commands: readonly FlagCommand[], aliases: readonly string[] = []): K3sFlag {
  return { name, type, commands, aliases }
}

/** Every flag of the pinned version, in the order of `k3s server --help`, then agent-only ones. */
export const K3S_FLAGS: readonly K3sFlag[] = [
  // config and logging
  flag('config', 'string', BOTH, ['c']),
  flag('debug', 'bool', BOTH),
  flag('v', 'int', BOTH),
  flag('vmodule', 'string', BOTH),
  flag('log', 'string', BOTH, ['l']),
  flag('alsologtostderr', 'bool', BOTH),
  // listener
  flag('bind-address', 'string', BOTH),
  flag('https-listen-port', 'int', SERVER),
  flag('supervisor-port', 'int', SERVER),
  flag('apiserver-port', 'int', SERVER),
  flag('apiserver-bind-address', 'string', SERVER),
  flag('advertise-address', 'string', SERVER),
  flag('advertise-port', 'int', SERVER),
  flag('tls-san', 'list', SERVER),
  flag('tls-san-security', 'bool', SERVER),
  // data
  flag('data-dir', 'string', BOTH, ['d']),
  // networking
  flag('cluster-cidr', 'list', SERVER),
  flag('service-cidr', 'list', SERVER),
  flag('service-node-port-range', 'string', SERVER),
  flag('cluster-dns', 'list', SERVER),
  flag('cluster-domain', 'string', SERVER),
  flag('flannel-backend', 'string', SERVER),
  flag('flannel-ipv6-masq', 'bool', SERVER),
  flag('flannel-external-ip', 'bool', SERVER),
  flag('egress-selector-mode', 'string', SERVER),
  flag('servicelb-namespace', 'string', SERVER),
  // client
  flag('write-kubeconfig', 'string', SERVER, ['o']),
  flag('write-kubeconfig-mode', 'string', SERVER),
  flag('write-kubeconfig-group', 'string', SERVER),
  flag('helm-job-image', 'string', SERVER),
  // cluster
  flag('token', 'string', BOTH, ['t']),
  flag('token-file', 'string', BOTH),
  flag('agent-token', 'string', SERVER),
  flag('agent-token-file', 'string', SERVER),
  flag('server', 'string', BOTH, ['s']),
  flag('cluster-init', 'bool', SERVER),
  flag('cluster-reset', 'bool', SERVER),
  flag('cluster-reset-restore-path', 'string', SERVER),
  // flags passed through to Kubernetes processes
  flag('kube-apiserver-arg', 'list', SERVER),
  flag('etcd-arg', 'list', SERVER),
  flag('kube-controller-manager-arg', 'list', SERVER),
  flag('kube-scheduler-arg', 'list', SERVER),
  flag('kube-cloud-controller-manager-arg', 'list', SERVER),
  { ...flag('kube-controller-arg', 'list', SERVER), deprecatedFor: 'kube-controller-manager-arg' },
  { ...flag('kube-cloud-controller-arg', 'list', SERVER), deprecatedFor: 'kube-cloud-controller-manager-arg' },
  // datastore and etcd snapshots
  flag('kine-tls', 'bool', SERVER),
  flag('datastore-endpoint', 'string', SERVER),
  flag('datastore-cafile', 'string', SERVER),
  flag('datastore-certfile', 'string', SERVER),
  flag('datastore-keyfile', 'string', SERVER),
  flag('etcd-expose-metrics', 'bool', SERVER),
  flag('etcd-disable-snapshots', 'bool', SERVER),
  flag('etcd-snapshot-name', 'string', SERVER),
  flag('etcd-snapshot-schedule-cron', 'string', SERVER),
  flag('etcd-snapshot-retention', 'int', SERVER),
  flag('etcd-snapshot-dir', 'string', SERVER),
  flag('etcd-snapshot-compress', 'bool', SERVER),
  flag('etcd-snapshot-reconcile-interval', 'duration', SERVER),
  flag('etcd-s3', 'bool', SERVER),
  flag('etcd-s3-endpoint', 'string', SERVER),
  flag('etcd-s3-endpoint-ca', 'string', SERVER),
  flag('etcd-s3-skip-ssl-verify', 'bool', SERVER),
  flag('etcd-s3-access-key', 'string', SERVER),
  flag('etcd-s3-secret-key', 'string', SERVER),
  flag('etcd-s3-session-token', 'string', SERVER),
  flag('etcd-s3-bucket', 'string', SERVER),
  flag('etcd-s3-bucket-lookup-type', 'string', SERVER),
  flag('etcd-s3-region', 'string', SERVER),
  flag('etcd-s3-folder', 'string', SERVER),
  flag('etcd-s3-retention', 'int', SERVER),
  flag('etcd-s3-proxy', 'string', SERVER),
  flag('etcd-s3-config-secret', 'string', SERVER),
  flag('etcd-s3-insecure', 'bool', SERVER),
  flag('etcd-s3-timeout', 'duration', SERVER),
  // storage and components
  flag('default-local-storage-path', 'string', SERVER),
  flag('disable', 'list', SERVER),
  flag('disable-scheduler', 'bool', SERVER),
  flag('disable-cloud-controller', 'bool', SERVER),
  flag('disable-kube-proxy', 'bool', SERVER),
  flag('disable-network-policy', 'bool', SERVER),
  flag('disable-helm-controller', 'bool', SERVER),
  flag('disable-apiserver', 'bool', SERVER),
  flag('disable-controller-manager', 'bool', SERVER),
  flag('disable-etcd', 'bool', SERVER),
  flag('disable-agent', 'bool', SERVER),
  flag('embedded-registry', 'bool', SERVER),
  flag('supervisor-metrics', 'bool', SERVER),
  // agent: node
  flag('node-name', 'string', BOTH),
  flag('with-node-id', 'bool', BOTH),
  flag('node-label', 'list', BOTH),
  flag('node-taint', 'list', BOTH),
  flag('image-credential-provider-bin-dir', 'string', BOTH),
  flag('image-credential-provider-config', 'string', BOTH),
  flag('protect-kernel-defaults', 'bool', BOTH),
  flag('selinux', 'bool', BOTH),
  flag('lb-server-port', 'int', BOTH),
  // agent: runtime
  flag('docker', 'bool', BOTH),
  flag('container-runtime-endpoint', 'string', BOTH),
  flag('default-runtime', 'string', BOTH),
  flag('image-service-endpoint', 'string', BOTH),
  flag('disable-default-registry-endpoint', 'bool', BOTH),
  flag('nonroot-devices', 'bool', BOTH),
  flag('pause-image', 'string', BOTH),
  flag('snapshotter', 'string', BOTH),
  flag('private-registry', 'string', BOTH),
  flag('system-default-registry', 'string', SERVER),
  flag('airgap-extra-registry', 'list', BOTH),
  // agent: networking
  flag('node-ip', 'list', BOTH, ['i']),
  flag('node-external-ip', 'list', BOTH),
  flag('node-internal-dns', 'list', BOTH),
  flag('node-external-dns', 'list', BOTH),
  flag('resolv-conf', 'string', BOTH),
  flag('flannel-iface', 'string', BOTH),
  flag('flannel-conf', 'string', BOTH),
  flag('flannel-cni-conf', 'string', BOTH),
  flag('vpn-auth', 'string', BOTH),
  flag('vpn-auth-file', 'string', BOTH),
  // agent: flags passed through to Kubernetes processes
  flag('kubelet-arg', 'list', BOTH),
  flag('kube-proxy-arg', 'list', BOTH),
  // secrets encryption and experimental
  flag('secrets-encryption', 'bool', SERVER),
  flag('secrets-encryption-provider', 'string', SERVER),
  flag('enable-pprof', 'bool', BOTH),
  flag('rootless', 'bool', BOTH),
  flag('prefer-bundled-bin', 'bool', BOTH),
  // agent only
  flag('disable-apiserver-lb', 'bool', AGENT)
]

/** The k3s version the list above belongs to, for messages. */
export const K3S_FLAGS_VERSION = K3S_VERSION

const BY_NAME: ReadonlyMap<string, K3sFlag> = new Map(K3S_FLAGS.map((entry) => [entry.name, entry]))
const BY_ALIAS: ReadonlyMap<string, K3sFlag> = new Map(K3S_FLAGS.flatMap((entry) => entry.aliases.map((alias) => [alias, entry] as const)))

/** The flag whose long name is `name`, if the pinned version has one. */
export function flagNamed (name: string): K3sFlag | undefined {
  return BY_NAME.get(name)
}

/** The flag for a command-line name: a long name or a one-letter alias. */
export function flagForArgument (name: string): K3sFlag | undefined {
  return BY_NAME.get(name) ?? BY_ALIAS.get(name)
}

/** True when `k3s <command>` accepts the flag `name`. */
export function isFlagOf (name: string, command: FlagCommand): boolean {
  return flagNamed(name)?.commands.includes(command) ?? false
}

/** Components `--disable` accepts at the pinned version (from `k3s server --help`). */
export const DISABLE_ITEMS: readonly string[] = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes']

/** Values `--flannel-backend` accepts at the pinned version (from `k3s server --help`). */
export const FLANNEL_BACKENDS: readonly string[] = ['none', 'vxlan', 'host-gw', 'wireguard-native']
