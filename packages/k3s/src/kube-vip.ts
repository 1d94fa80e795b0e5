import { parseIp } from './ip.js'

/**
 * The kube-vip manifest k3s deploys from its manifests directory on every server. It depends on
 * cluster-wide inputs only (VIP, interface, image), so every server writes the same bytes and the
 * deploy controller never sees two versions of one object.
 *
 * Mode: ARP (layer 2, NDP for IPv6), control plane only (`cp_enable`, `svc_enable=false`: Service
 * load-balancing is not ours to take over), Kubernetes leader election with the short timers of
 * kube-vip's own examples (lease 5 s, renew deadline 3 s, retry 1 s) so a dead leader's VIP moves
 * within seconds (L3). `vip_subnet` is 32 (128 for IPv6): the VIP is one address added to the
 * interface, never a route for a whole subnet. `vip_cidr` was removed in kube-vip v0.9.0 and is
 * never written. Variable names: kube-vip/kube-vip `pkg/kubevip/config_envvar.go`.
 */

export interface KubeVipManifestInput {
  readonly vip: string
  readonly interface: string
  readonly image: string
}

export const KUBE_VIP_NAMESPACE = 'kube-system'
export const KUBE_VIP_NAME = 'kube-vip'
export const KUBE_VIP_DAEMONSET_NAME = 'kube-vip-ds'
export const KUBE_VIP_PORT = 6443
export const KUBE_VIP_LEASE_SECONDS = { duration: 5, renewDeadline: 3, retryPeriod: 1 } as const

const CLUSTER_ROLE_NAME = 'system:kube-vip-role'
const CLUSTER_ROLE_BINDING_NAME = 'system:kube-vip-binding'
const COMMON_LABELS = { 'app.kubernetes.io/name': KUBE_VIP_NAME, 'app.kubernetes.io/managed-by': 'p2p-bootstrap' }
const POD_LABELS = { 'app.kubernetes.io/name': KUBE_VIP_DAEMONSET_NAME }

/** The four objects, in apply order: ServiceAccount, ClusterRole, ClusterRoleBinding, DaemonSet. */
export function kubeVipObjects (input: KubeVipManifestInput): unknown[] {
  return [serviceAccount(), clusterRole(), clusterRoleBinding(), daemonSet(input)]
}

function serviceAccount (): unknown {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: KUBE_VIP_NAME, namespace: KUBE_VIP_NAMESPACE, labels: COMMON_LABELS }
  }
}

/** The rules of kube-vip's published RBAC manifest, plus EndpointSlices that newer releases watch. */
function clusterRole (): unknown {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: CLUSTER_ROLE_NAME,
      labels: COMMON_LABELS,
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' }
    },
    rules: [
      { apiGroups: [''], resources: ['services/status'], verbs: ['update'] },
      { apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['list', 'get', 'watch', 'update'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'get', 'watch', 'update', 'patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'get', 'watch', 'update', 'create'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'get', 'watch', 'update'] }
    ]
  }
}

function clusterRoleBinding (): unknown {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: CLUSTER_ROLE_BINDING_NAME, labels: COMMON_LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE_NAME },
    subjects: [{ kind: 'ServiceAccount', name: KUBE_VIP_NAME, namespace: KUBE_VIP_NAMESPACE }]
  }
}

function daemonSet (input: KubeVipManifestInput): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: KUBE_VIP_DAEMONSET_NAME, namespace: KUBE_VIP_NAMESPACE, labels: COMMON_LABELS },
    spec: {
      selector: { matchLabels: POD_LABELS },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: POD_LABELS },
        spec: {
          // Servers only: k3s labels every server node-role.kubernetes.io/control-plane=true.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }]
              }
            }
          },
          // Servers may carry NoSchedule/NoExecute taints (CriticalAddonsOnly); the VIP must still run.
          tolerations: [
            { effect: 'NoSchedule', operator: 'Exists' },
            { effect: 'NoExecute', operator: 'Exists' }
          ],
          hostNetwork: true, // the VIP is added to the host's interface
          serviceAccountName: KUBE_VIP_NAME,
          priorityClassName: 'system-node-critical', // the API endpoint is never evicted for workloads
          containers: [{
            name: KUBE_VIP_NAME,
            image: input.image,
            imagePullPolicy: 'IfNotPresent',
            args: ['manager'],
            env: environment(input),
            securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] } }
          }]
        }
      }
    }
  }
}

function environment (input: KubeVipManifestInput): unknown[] {
  const hostBits = parseIp(input.vip)?.family === 6 ? '128' : '32'
  return [
    { name: 'vip_arp', value: 'true' },
    { name: 'port', value: String(KUBE_VIP_PORT) },
    { name: 'vip_nodename', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'vip_interface', value: input.interface },
    { name: 'vip_subnet', value: hostBits },
    { name: 'cp_enable', value: 'true' },
    { name: 'cp_namespace', value: KUBE_VIP_NAMESPACE },
    { name: 'svc_enable', value: 'false' },
    { name: 'vip_leaderelection', value: 'true' },
    { name: 'vip_leasename', value: 'plndr-cp-lock' },
    { name: 'vip_leaseduration', value: String(KUBE_VIP_LEASE_SECONDS.duration) },
    { name: 'vip_renewdeadline', value: String(KUBE_VIP_LEASE_SECONDS.renewDeadline) },
    { name: 'vip_retryperiod', value: String(KUBE_VIP_LEASE_SECONDS.retryPeriod) },
    { name: 'address', value: input.vip }
  ]
}
