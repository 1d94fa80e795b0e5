import type { NodeFacts, NodeId, Plan, Role } from '@p2p-bootstrap/core'
import type { ClusterSettings } from './settings.js'

/** The opened k3s tokens a node holds (from `openServerToken` / `openAgentToken` of the core). */
export interface NodeSecrets {
  /** The server token: given to control-plane nodes only; a worker given one is refused. */
  readonly serverToken?: string
  /** The agent token: every node holds it. */
  readonly agentToken: string
}

/** The node's network, as the agent sees it on the machine. */
export interface NodeNetwork {
  /** The interface that carries the node-ip: `flannel-iface`, and kube-vip's interface by default. */
  readonly interface: string
  /**
   * The CIDR of that interface (`192.168.1.0/24`, or the interface address `192.168.1.10/24`);
   * one per family, comma-separated, on a dual-stack interface. Required on servers when the plan
   * has a VIP: the VIP must be a host address of one of these subnets, or kube-vip's ARP/NDP
   * announcements reach nobody.
   */
  readonly subnet?: string
}

/** kube-vip settings. Cluster-wide: every server must be given the same. */
export interface KubeVipSettings {
  /** A pinned image (a tag other than `latest`, or a digest); default `KUBE_VIP_IMAGE_DEFAULT`. */
  readonly image?: string
  /**
   * The interface kube-vip adds the VIP to; default: `network.interface`. One name for every
   * server: the manifest is one DaemonSet, so servers whose interfaces are named differently
   * cannot share it.
   */
  readonly interface?: string
}

/** Node facts by node id, as a Map or a plain record. */
export type FactsByNode = ReadonlyMap<NodeId, NodeFacts> | Readonly<Record<NodeId, NodeFacts>>

/** Everything `renderNode` needs; nothing is read from the machine. */
export interface RenderInput {
  /** The committed plan. */
  readonly plan: Plan
  /** The node to render for; a node the plan does not list is a worker (L2). */
  readonly nodeId: NodeId
  /** Facts of the plan's nodes (node-ip, host name); every listed node needs a node-ip. */
  readonly facts: FactsByNode
  readonly secrets: NodeSecrets
  /** Hex SHA-256 of the server CA, once the init server has published it: joiners use secure tokens. */
  readonly caHash?: string
  /** node-ip of a Ready control plane, chosen by the caller's join sequencing; unused on the init node. */
  readonly joinAddress?: string
  /**
   * Nodes of the plan whose facts have not reached the caller (a node that died right after
   * writing them): their node-ip is not required, and the VIP is checked against the addresses
   * that are known. This node's own facts are always required.
   */
  readonly goneNodes?: ReadonlySet<NodeId>
  /** Workers: the VIP answers on :6443, so join through it rather than through `joinAddress`. */
  readonly vipAnswers?: boolean
  /**
   * The output is only looked at (a dry run) or fed to a stand-in k3s: a node-ip no real kubelet
   * accepts (loopback, link-local, multicast, unspecified) is rendered anyway. Otherwise such a
   * node-ip is refused (`K3S_BAD_NODE_IP`).
   */
  readonly localOnly?: boolean
  readonly network: NodeNetwork
  /** Cluster-wide k3s settings; missing fields take k3s' defaults. */
  readonly cluster?: Partial<ClusterSettings>
  readonly kubeVip?: KubeVipSettings
  /**
   * Cluster-wide extra k3s keys (the config's cluster-wide `k3s:` block). Every node must carry
   * the same block (`clusterWideHash` lets nodes compare); it may set critical keys.
   */
  readonly clusterK3s?: Readonly<Record<string, unknown>>
  /** This node's extra k3s keys; a critical key here is refused (`K3S_CRITICAL_OVERRIDE`). */
  readonly userK3s?: Readonly<Record<string, unknown>>
  /** This node's Kairos `k3s.args`, translated to config keys; node-local like `userK3s`. */
  readonly kairosK3sArgs?: readonly string[]
}

/** One file to write, with its absolute path on the node (prefix it with `--root` for a dry run). */
export interface RenderedFile {
  readonly path: string
  readonly content: string
  /** File mode: 0o600 for files holding a secret. */
  readonly mode: number
  /** True when the content holds a token. */
  readonly secret: boolean
}

/** A node's complete output: every file, or an error and nothing. */
export interface RenderedOutput {
  readonly role: Role
  /** True on the plan's init node, the one that runs cluster-init (S1). */
  readonly init: boolean
  /** The systemd unit to run: `k3s` on servers, `k3s-agent` on workers. */
  readonly service: 'k3s' | 'k3s-agent'
  readonly nodeName: string
  /** Files sorted by path. */
  readonly files: readonly RenderedFile[]
  /** Hash of the cluster-wide inputs, to publish and compare between nodes. */
  readonly clusterWideHash: string
  /** Things worth telling the operator, e.g. a server-only user key skipped on a worker. */
  readonly notes: readonly string[]
}
